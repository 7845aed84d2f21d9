package kafka

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// credentialServerOptions are Options that authenticate against a credential
// store in dir holding one user, admin (password "admin-pw", SCRAM-SHA-512).
func credentialServerOptions(t *testing.T, dir string) *Options {
	t.Helper()
	credentials, err := OpenCredentials(filepath.Join(dir, CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := credentials.SetPassword(SCRAMSHA512, "admin", "admin-pw", 0); err != nil {
		t.Fatal(err)
	}
	return &Options{SASL: &SASL{}, Credentials: credentials}
}

// ping returns the error of a new client's Ping as mechanism's user.
func ping(t *testing.T, addr string, mechanism sasl.Mechanism) error {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.SASL(mechanism))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cl.Ping(ctx)
}

// TestUserSCRAMCredentialsThroughKadm manages users with kadm's
// AlterUserSCRAMs and DescribeUserSCRAMs on a server that authenticates
// against the credential store: a user added authenticates at once (SCRAM and
// PLAIN), a new password takes effect at once and the old one is refused, a
// deleted user is refused, and a restart of the server on the same directory
// keeps the users.
func TestUserSCRAMCredentialsThroughKadm(t *testing.T) {
	dir := t.TempDir()
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := credentialServerOptions(t, dir)
	server, err := NewServer(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	addr := ln.Addr().String()
	ctx := context.Background()

	adminAuth := scram.Auth{User: "admin", Pass: "admin-pw"}.AsSha512Mechanism()
	adminClient, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.SASL(adminAuth))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(adminClient)

	carol := func(password string) sasl.Mechanism {
		return scram.Auth{User: "carol", Pass: password}.AsSha256Mechanism()
	}
	if err := ping(t, addr, carol("one")); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("carol before she is added: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	altered, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 8192, Password: "one"},
		{User: "dave", Mechanism: kadm.ScramSha512, Password: "dave-pw"},
	})
	if err != nil || !altered.Ok() || len(altered) != 2 {
		t.Fatalf("AlterUserSCRAMs adding carol and dave: %v, %v", altered, err)
	}
	if err := ping(t, addr, carol("one")); err != nil {
		t.Errorf("carol once added: %v", err)
	}
	if err := ping(t, addr, plain.Auth{User: "carol", Pass: "one"}.AsMechanism()); err != nil {
		t.Errorf("carol with PLAIN: %v", err)
	}
	if err := ping(t, addr, plain.Auth{User: "carol", Pass: "two"}.AsMechanism()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("carol with PLAIN and a wrong password: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	described, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil || !described.Ok() {
		t.Fatal(described, err)
	}
	want := map[string][]kadm.CredInfo{
		"admin": {{Mechanism: kadm.ScramSha512, Iterations: 4096}},
		"carol": {{Mechanism: kadm.ScramSha256, Iterations: 8192}},
		"dave":  {{Mechanism: kadm.ScramSha512, Iterations: 4096}},
	}
	if len(described) != len(want) {
		t.Errorf("described %v, want %v", described, want)
	}
	for user, infos := range want {
		if got := described[user]; got.Err != nil || !slices.Equal(got.CredInfos, infos) {
			t.Errorf("%s: %+v, want %v", user, got, infos)
		}
	}

	if altered, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "carol", Mechanism: kadm.ScramSha256, Password: "two"}}); err != nil || !altered.Ok() {
		t.Fatalf("changing carol's password: %v, %v", altered, err)
	}
	if err := ping(t, addr, carol("one")); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("carol's old password: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	if err := ping(t, addr, carol("two")); err != nil {
		t.Errorf("carol's new password: %v", err)
	}
	if altered, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "dave", Mechanism: kadm.ScramSha512}}, nil); err != nil || !altered.Ok() {
		t.Fatalf("deleting dave: %v, %v", altered, err)
	}
	if err := ping(t, addr, scram.Auth{User: "dave", Pass: "dave-pw"}.AsSha512Mechanism()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("dave once deleted: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	if described, err := adm.DescribeUserSCRAMs(ctx, "dave"); err != nil || !errors.Is(described["dave"].Err, kerr.ResourceNotFound) {
		t.Errorf("describing dave once deleted: %+v, %v; want RESOURCE_NOT_FOUND", described, err)
	}
	adminClient.Close()

	// Restart: a new server and a new store on the same directory.
	shutdownCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	credentials, err := OpenCredentials(filepath.Join(dir, CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	ts := serveStore(t, reopened, &Options{SASL: &SASL{}, Credentials: credentials}, nil)
	if err := ping(t, ts.addr, carol("two")); err != nil {
		t.Errorf("carol after a restart: %v", err)
	}
	if err := ping(t, ts.addr, adminAuth); err != nil {
		t.Errorf("admin after a restart: %v", err)
	}
	if err := ping(t, ts.addr, scram.Auth{User: "dave", Pass: "dave-pw"}.AsSha512Mechanism()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("dave after a restart: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
}

// alterResults returns the results of an AlterUserScramCredentials response
// as user: error code, and the users in response order.
func alterResults(resp *kmsg.AlterUserSCRAMCredentialsResponse) (map[string]int16, []string) {
	codes := map[string]int16{}
	var order []string
	for _, result := range resp.Results {
		codes[result.User] = result.ErrorCode
		order = append(order, result.User)
	}
	return codes, order
}

// TestAlterUserSCRAMCredentialsErrors sends one request of alterations that
// Kafka's ScramControlManager refuses, beside ones it accepts: each refused
// user has its error, the accepted ones are made, together, and the response
// lists deletions, upsertions, then failures.
func TestAlterUserSCRAMCredentialsErrors(t *testing.T) {
	dir := t.TempDir()
	opts := credentialServerOptions(t, dir)
	credentials := opts.Credentials
	for _, user := range []string{"old", "twice-deleted", "deleted-and-upserted"} {
		if err := credentials.SetPassword(SCRAMSHA256, user, "pw", 0); err != nil {
			t.Fatal(err)
		}
	}
	ts := startServer(t, &Options{Credentials: credentials}, nil) // no SASL: managed from a plain listener
	c := ts.dial(t)
	salted := make([]byte, 32)
	upsert := func(user string, mechanism int8, iterations int32) kmsg.AlterUserSCRAMCredentialsRequestUpsertion {
		u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		u.Name, u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword = user, mechanism, iterations, []byte("salt"), salted
		return u
	}
	deletion := func(user string, mechanism int8) kmsg.AlterUserSCRAMCredentialsRequestDeletion {
		d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		d.Name, d.Mechanism = user, mechanism
		return d
	}
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{
		deletion("old", 1),
		deletion("twice-deleted", 1), deletion("twice-deleted", 1),
		deletion("deleted-and-upserted", 1),
		deletion("missing", 1),
		deletion("old-wrong-mechanism", 2),
		deletion("", 1),
		deletion("unknown-mechanism", 3),
	}
	noSalt := upsert("no-salt", 1, 4096)
	noSalt.Salt = nil
	req.Upsertions = []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{
		upsert("new", 2, 4096),
		upsert("deleted-and-upserted", 1, 4096),
		upsert("upserted-twice", 1, 4096), upsert("upserted-twice", 2, 4096),
		upsert("few", 1, 4095),
		upsert("many", 1, 16385),
		upsert("zero-mechanism", 0, 4096),
		upsert("", 1, 4096),
		noSalt,
		upsert("most", 2, 16384),
	}
	resp := c.roundTrip(req).(*kmsg.AlterUserSCRAMCredentialsResponse)
	codes, order := alterResults(resp)
	want := map[string]int16{
		"old":                  0,
		"new":                  0,
		"most":                 0,
		"twice-deleted":        kerr.DuplicateResource.Code,
		"deleted-and-upserted": kerr.DuplicateResource.Code,
		"upserted-twice":       kerr.DuplicateResource.Code,
		"missing":              kerr.ResourceNotFound.Code,
		"old-wrong-mechanism":  kerr.ResourceNotFound.Code,
		"":                     kerr.UnacceptableCredential.Code,
		"unknown-mechanism":    kerr.UnsupportedSaslMechanism.Code,
		"zero-mechanism":       kerr.UnsupportedSaslMechanism.Code,
		"few":                  kerr.UnacceptableCredential.Code,
		"many":                 kerr.UnacceptableCredential.Code,
		"no-salt":              kerr.UnacceptableCredential.Code,
	}
	if len(codes) != len(want) || len(order) != len(want) {
		t.Errorf("results %v, want one per user: %v", codes, want)
	}
	for user, code := range want {
		if got, ok := codes[user]; !ok || got != code {
			t.Errorf("%q: %v (present %v), want %v", user, kerr.ErrorForCode(got), ok, kerr.ErrorForCode(code))
		}
	}
	if !slices.Equal(order[:3], []string{"old", "new", "most"}) {
		t.Errorf("order %v, want the deletion, then the upsertions, then the failures", order)
	}
	for _, result := range resp.Results {
		if user := result.User; user == "few" && (result.ErrorMessage == nil || *result.ErrorMessage != "Too few iterations") ||
			user == "many" && (result.ErrorMessage == nil || *result.ErrorMessage != "Too many iterations") {
			t.Errorf("%s: message %v", user, result.ErrorMessage)
		}
	}

	infos, err := credentials.Describe()
	if err != nil {
		t.Fatal(err)
	}
	wantInfos := []CredentialInfo{
		{"admin", SCRAMSHA512, 4096},
		{"deleted-and-upserted", SCRAMSHA256, 4096},
		{"most", SCRAMSHA512, 16384},
		{"new", SCRAMSHA512, 4096},
		{"twice-deleted", SCRAMSHA256, 4096},
	}
	if !slices.Equal(infos, wantInfos) {
		t.Errorf("stored %v, want %v", infos, wantInfos)
	}
	// The stored keys are derived from the salted password, as Kafka's
	// ScramFormatter does: a client that salted "pw" itself authenticates.
	got, _ := credentials.Lookup(SCRAMSHA512, "new")
	if wantCredential := scramCredentialFromSaltedPassword(scramHash(SCRAMSHA512), []byte("salt"), salted, 4096); !slices.Equal(got.StoredKey, wantCredential.StoredKey) || !slices.Equal(got.ServerKey, wantCredential.ServerKey) {
		t.Errorf("new's keys are not those of its salted password")
	}
}

// TestDescribeUserSCRAMCredentialsErrors describes every user, then named ones:
// a user without a credential is RESOURCE_NOT_FOUND, one named twice
// DUPLICATE_RESOURCE.
func TestDescribeUserSCRAMCredentialsErrors(t *testing.T) {
	opts := credentialServerOptions(t, t.TempDir())
	if err := opts.Credentials.SetPassword(SCRAMSHA256, "admin", "pw", 5000); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, &Options{Credentials: opts.Credentials}, nil)
	c := ts.dial(t)
	all := c.roundTrip(kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()).(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if all.ErrorCode != 0 || len(all.Results) != 1 || all.Results[0].User != "admin" || all.Results[0].ErrorCode != 0 ||
		len(all.Results[0].CredentialInfos) != 2 ||
		all.Results[0].CredentialInfos[0].Mechanism != 1 || all.Results[0].CredentialInfos[0].Iterations != 5000 ||
		all.Results[0].CredentialInfos[1].Mechanism != 2 || all.Results[0].CredentialInfos[1].Iterations != 4096 {
		t.Errorf("every user: %+v", all)
	}
	req := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	for _, user := range []string{"nobody", "admin", "twice", "twice"} {
		req.Users = append(req.Users, kmsg.DescribeUserSCRAMCredentialsRequestUser{Name: user})
	}
	named := c.roundTrip(req).(*kmsg.DescribeUserSCRAMCredentialsResponse)
	codes := map[string]int16{}
	for _, result := range named.Results {
		codes[result.User] = result.ErrorCode
	}
	want := map[string]int16{"nobody": kerr.ResourceNotFound.Code, "admin": 0, "twice": kerr.DuplicateResource.Code}
	if len(named.Results) != 3 || codes["nobody"] != want["nobody"] || codes["admin"] != 0 || codes["twice"] != want["twice"] {
		t.Errorf("named users: %+v, want %v", named.Results, want)
	}
}

// TestUserSCRAMCredentialsWithoutStore checks the answers of a server without
// Options.Credentials, those of a Kafka that holds no SCRAM credentials and
// cannot store any: no users described (named ones RESOURCE_NOT_FOUND), every
// alteration UNSUPPORTED_VERSION.
func TestUserSCRAMCredentialsWithoutStore(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	all := c.roundTrip(kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()).(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if all.ErrorCode != 0 || len(all.Results) != 0 {
		t.Errorf("every user: %+v, want none", all)
	}
	describe := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	describe.Users = []kmsg.DescribeUserSCRAMCredentialsRequestUser{{Name: "alice"}}
	if named := c.roundTrip(describe).(*kmsg.DescribeUserSCRAMCredentialsResponse); len(named.Results) != 1 || named.Results[0].ErrorCode != kerr.ResourceNotFound.Code {
		t.Errorf("alice: %+v, want RESOURCE_NOT_FOUND", named)
	}
	alter := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	alter.Upsertions = []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{{Name: "alice", Mechanism: 1, Iterations: 4096, Salt: []byte("s"), SaltedPassword: []byte("p")}}
	alter.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{{Name: "bob", Mechanism: 1}}
	codes, _ := alterResults(c.roundTrip(alter).(*kmsg.AlterUserSCRAMCredentialsResponse))
	if len(codes) != 2 || codes["alice"] != kerr.UnsupportedVersion.Code || codes["bob"] != kerr.UnsupportedVersion.Code {
		t.Errorf("alterations: %v, want UNSUPPORTED_VERSION for alice and bob", codes)
	}
}

// TestAlterUserSCRAMCredentialsUnwritableFile alters users while the
// credential file does not read: every alteration that passed its checks is
// UNKNOWN_SERVER_ERROR, and the file is not overwritten.
func TestAlterUserSCRAMCredentialsUnwritableFile(t *testing.T) {
	dir := t.TempDir()
	opts := credentialServerOptions(t, dir)
	ts := startServer(t, &Options{Credentials: opts.Credentials}, nil)
	path := filepath.Join(dir, CredentialsFile)
	if err := writeFileForTest(path, []byte("damaged\n")); err != nil {
		t.Fatal(err)
	}
	c := ts.dial(t)
	alter := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	alter.Upsertions = []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{{Name: "alice", Mechanism: 1, Iterations: 4096, Salt: []byte("s"), SaltedPassword: []byte("p")}}
	codes, _ := alterResults(c.roundTrip(alter).(*kmsg.AlterUserSCRAMCredentialsResponse))
	if len(codes) != 1 || codes["alice"] != kerr.UnknownServerError.Code {
		t.Errorf("alterations: %v, want UNKNOWN_SERVER_ERROR for alice", codes)
	}
	describe := c.roundTrip(kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()).(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if describe.ErrorCode != kerr.UnknownServerError.Code {
		t.Errorf("describing: %+v, want UNKNOWN_SERVER_ERROR", describe)
	}
	if data, err := readFileForTest(path); err != nil || string(data) != "damaged\n" {
		t.Errorf("the file: %q, %v; want it left as it was", data, err)
	}
}
