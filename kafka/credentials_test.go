package kafka

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/stratalog/strata/vfs"
)

// TestCredentialsUpsertDeleteAcrossReopen stores, replaces and deletes
// credentials and reopens the file between the steps: what Upsert and Delete
// returned for is what the file holds, and the file holds no password.
func TestCredentialsUpsertDeleteAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	c, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if infos, err := c.Describe(); err != nil || len(infos) != 0 {
		t.Fatalf("a new store: %v, %v; want no credentials", infos, err)
	}
	if err := c.SetPassword(SCRAMSHA512, "alice", "first-password", 8192); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(SCRAMSHA256, "alice", "first-password", 0); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(SCRAMSHA256, "bob", "bobs-password", 4096); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(SCRAMSHA512, "alice", "second-password", 4096); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("password")) {
		t.Errorf("the file holds a password:\n%s", data)
	}
	if info, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && info.Mode().Perm() != 0o600) {
		t.Errorf("the file's mode: %v, %v; want 0600", info, err)
	}

	reopened, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []CredentialInfo{{"alice", SCRAMSHA256, 4096}, {"alice", SCRAMSHA512, 4096}, {"bob", SCRAMSHA256, 4096}}
	if infos, err := reopened.Describe(); err != nil || !slices.Equal(infos, want) {
		t.Fatalf("reopened: %v, %v; want %v", infos, err, want)
	}
	credential, ok := reopened.Lookup(SCRAMSHA512, "alice")
	if !ok || !credential.verifyPassword(SCRAMSHA512, "second-password") || credential.verifyPassword(SCRAMSHA512, "first-password") {
		t.Errorf("alice's SCRAM-SHA-512 credential after the change: %v, not of the second password", ok)
	}
	if _, ok := reopened.Lookup(SCRAMSHA512, "bob"); ok {
		t.Error("bob has a SCRAM-SHA-512 credential, never stored")
	}

	if err := reopened.Delete(SCRAMSHA256, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := reopened.Delete(SCRAMSHA256, "alice"); !errors.Is(err, ErrCredentialNotFound) {
		t.Errorf("deleting again: %v, want ErrCredentialNotFound", err)
	}
	again, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	want = []CredentialInfo{{"alice", SCRAMSHA512, 4096}, {"bob", SCRAMSHA256, 4096}}
	if infos, err := again.Describe(); err != nil || !slices.Equal(infos, want) {
		t.Errorf("after the deletion: %v, %v; want %v", infos, err, want)
	}
}

// TestCredentialsInvalidInput is a table of credentials a caller may not store:
// each is ErrInvalidCredential and writes nothing.
func TestCredentialsInvalidInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	c, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	good, err := NewSCRAMCredential(SCRAMSHA256, "pw", 0)
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(*SCRAMCredential)) SCRAMCredential {
		credential := good.clone()
		change(&credential)
		return credential
	}
	for _, test := range []struct {
		name, mechanism, user string
		credential            SCRAMCredential
	}{
		{"unknown mechanism", "SCRAM-SHA-1", "alice", good},
		{"PLAIN", "PLAIN", "alice", good},
		{"empty user", SCRAMSHA256, "", good},
		{"user not UTF-8", SCRAMSHA256, "al\xffice", good},
		{"too few iterations", SCRAMSHA256, "alice", with(func(c *SCRAMCredential) { c.Iterations = 4095 })},
		{"too many iterations", SCRAMSHA256, "alice", with(func(c *SCRAMCredential) { c.Iterations = 16385 })},
		{"empty salt", SCRAMSHA256, "alice", with(func(c *SCRAMCredential) { c.Salt = nil })},
		{"short StoredKey", SCRAMSHA256, "alice", with(func(c *SCRAMCredential) { c.StoredKey = c.StoredKey[:31] })},
		{"ServerKey of another hash", SCRAMSHA512, "alice", good},
	} {
		if err := c.Upsert(test.mechanism, test.user, test.credential); !errors.Is(err, ErrInvalidCredential) {
			t.Errorf("%s: %v, want ErrInvalidCredential", test.name, err)
		}
	}
	if err := c.SetPassword(SCRAMSHA256, "alice", "pw", 100); !errors.Is(err, ErrInvalidCredential) {
		t.Errorf("SetPassword with 100 iterations: %v, want ErrInvalidCredential", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file after invalid input only: %v, want none", err)
	}
}

// TestCredentialsSeeAnotherWriter has two stores on one file, as the server and
// the strata-kafka command in two processes: each sees the other's changes at
// its next lookup, and a change keeps the other's users (each write re-reads
// the file under the lock).
func TestCredentialsSeeAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	server, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	command, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := command.SetPassword(SCRAMSHA512, "alice", "pw", 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := server.Lookup(SCRAMSHA512, "alice"); !ok {
		t.Fatal("the server does not see alice, added by the command")
	}
	if err := server.SetPassword(SCRAMSHA512, "bob", "pw", 0); err != nil {
		t.Fatal(err)
	}
	// A change that keeps the file's size: only its checksum line tells.
	before, _ := server.Lookup(SCRAMSHA512, "alice")
	if err := command.SetPassword(SCRAMSHA512, "alice", "other", 0); err != nil {
		t.Fatal(err)
	}
	after, ok := server.Lookup(SCRAMSHA512, "alice")
	if !ok || bytes.Equal(before.StoredKey, after.StoredKey) || !after.verifyPassword(SCRAMSHA512, "other") {
		t.Error("the server does not see alice's new password")
	}
	if err := command.Delete(SCRAMSHA512, "bob"); err != nil {
		t.Fatalf("the command deleting bob, added by the server: %v", err)
	}
	if _, ok := server.Lookup(SCRAMSHA512, "bob"); ok {
		t.Error("the server still finds bob, deleted by the command")
	}
	if infos, err := server.Describe(); err != nil || len(infos) != 1 || infos[0].User != "alice" {
		t.Errorf("the server's Describe: %v, %v; want alice alone", infos, err)
	}
}

// TestCredentialsConcurrentWriters changes one file from two stores and
// several goroutines each: every user stored is there at the end (run it with
// -race).
func TestCredentialsConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	stores := make([]*Credentials, 2)
	for i := range stores {
		var err error
		if stores[i], err = OpenCredentials(path); err != nil {
			t.Fatal(err)
		}
	}
	credential, err := NewSCRAMCredential(SCRAMSHA256, "pw", 0)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				store := stores[(w+i)%2]
				errs <- store.Upsert(SCRAMSHA256, fmt.Sprintf("user-%d-%d", w, i), credential)
				store.Lookup(SCRAMSHA256, "user-0-0")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, store := range stores {
		if infos, err := store.Describe(); err != nil || len(infos) != writers*each {
			t.Errorf("%d credentials, %v; want %d", len(infos), err, writers*each)
		}
	}
}

// TestCredentialsCorruptFileFailsClosed damages the file under an open store
// and opens a damaged one: a lookup finds no one, Describe and changes fail
// with ErrCorruptCredentials, and the file is left as it is.
func TestCredentialsCorruptFileFailsClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	c, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(SCRAMSHA256, "alice", "pw", 0); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A change is noticed by the file's size and checksum line: damage the
	// line too, as a writer that does not keep the format might.
	damaged := bytes.Replace(data, []byte(`"alice"`), []byte(`"alicf"`), 1)
	damaged[len(damaged)-2] ^= 1
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Lookup(SCRAMSHA256, "alice"); ok {
		t.Error("alice found in a damaged file")
	}
	if _, ok := c.Lookup(SCRAMSHA256, "alicf"); ok {
		t.Error("alicf found in a damaged file")
	}
	if _, err := c.Describe(); !errors.Is(err, ErrCorruptCredentials) {
		t.Errorf("Describe: %v, want ErrCorruptCredentials", err)
	}
	if err := c.SetPassword(SCRAMSHA256, "bob", "pw", 0); !errors.Is(err, ErrCorruptCredentials) {
		t.Errorf("SetPassword: %v, want ErrCorruptCredentials", err)
	}
	if err := c.Delete(SCRAMSHA256, "alice"); !errors.Is(err, ErrCorruptCredentials) {
		t.Errorf("Delete: %v, want ErrCorruptCredentials", err)
	}
	if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, damaged) {
		t.Errorf("the damaged file was changed: %v", err)
	}
	if _, err := OpenCredentials(path); !errors.Is(err, ErrCorruptCredentials) {
		t.Errorf("OpenCredentials of the damaged file: %v, want ErrCorruptCredentials", err)
	}
}

// TestDecodeCredentials is a table of files that do not read, and of one that
// does: the bytes FORMAT.md shows.
func TestDecodeCredentials(t *testing.T) {
	entries := map[credentialKey]SCRAMCredential{
		{SCRAMSHA256, "alice"}: {Salt: []byte("salt"), Iterations: 4096, StoredKey: make([]byte, 32), ServerKey: bytes.Repeat([]byte{1}, 32)},
	}
	good := encodeCredentials(entries)
	const want = `{"version":1,"credentials":[
{"user":"alice","mechanism":"SCRAM-SHA-256","iterations":4096,"salt":"c2FsdA==","storedKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","serverKey":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}
]}
crc32c 082604f8
`
	if string(good) != want {
		t.Errorf("encoded:\n%s\nwant (FORMAT.md):\n%s", good, want)
	}
	if got, err := decodeCredentials(good); err != nil || len(got) != 1 {
		t.Fatalf("decoding the encoded: %v, %v", got, err)
	}
	withChecksum := func(body string) []byte {
		return fmt.Appendf(nil, "%scrc32c %08x\n", body, crc32Of(body))
	}
	for name, data := range map[string][]byte{
		"empty":              nil,
		"no checksum":        good[:len(good)-checksumLineBytes],
		"bad checksum":       append(slices.Clone(good[:len(good)-3]), "0\n"...),
		"no final newline":   good[:len(good)-1],
		"version 2":          withChecksum("{\"version\":2,\"credentials\":[]}\n"),
		"unknown field":      withChecksum("{\"version\":1,\"credentials\":[],\"x\":1}\n"),
		"two values":         withChecksum("{\"version\":1,\"credentials\":[]}\n{}\n"),
		"not JSON":           withChecksum("version 1\n"),
		"bad mechanism":      withChecksum(`{"version":1,"credentials":[{"user":"a","mechanism":"MD5","iterations":4096,"salt":"c2FsdA==","storedKey":"","serverKey":""}]}` + "\n"),
		"too few iterations": withChecksum(`{"version":1,"credentials":[{"user":"a","mechanism":"SCRAM-SHA-256","iterations":1,"salt":"c2FsdA==","storedKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","serverKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}` + "\n"),
		"twice": withChecksum(`{"version":1,"credentials":[{"user":"a","mechanism":"SCRAM-SHA-256","iterations":4096,"salt":"c2FsdA==","storedKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","serverKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},` +
			`{"user":"a","mechanism":"SCRAM-SHA-256","iterations":4096,"salt":"c2FsdA==","storedKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","serverKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}` + "\n"),
	} {
		if got, err := decodeCredentials(data); err == nil {
			t.Errorf("%s: read as %v, want an error", name, got)
		}
	}
}

func crc32Of(s string) uint32 { return crc32Checksum([]byte(s)) }

// FuzzDecodeCredentials feeds the credential file's decoder any bytes: an
// error or credentials that would be accepted from a caller, never a panic.
func FuzzDecodeCredentials(f *testing.F) {
	credential, err := NewSCRAMCredential(SCRAMSHA512, "pw", 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeCredentials(map[credentialKey]SCRAMCredential{{SCRAMSHA512, "alice"}: credential}))
	f.Add([]byte("{}\ncrc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decodeCredentials(data)
		if err != nil {
			return
		}
		for key, credential := range entries {
			if err := validateCredential(key.mechanism, key.user, credential); err != nil {
				t.Errorf("decoded an invalid credential: %v", err)
			}
		}
	})
}

// TestCredentialsCrash changes the store on a file system that then loses
// power: a change Upsert or Delete returned nil for is there after the crash;
// a change whose write failed (its fsync, its rename) returned an error and
// left the previous credentials.
func TestCredentialsCrash(t *testing.T) {
	fsys := vfs.NewCrashable()
	if err := fsys.MkdirAll("data", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("."); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("data", CredentialsFile)
	c, err := openCredentials(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(SCRAMSHA256, "alice", "pw", 0); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.TearGarbage} {
		after, err := openCredentials(fsys.Crash(mode, 1), path)
		if err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		if _, ok := after.Lookup(SCRAMSHA256, "alice"); !ok {
			t.Errorf("%v: alice lost", mode)
		}
	}

	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpRename} {
		faulty := vfs.NewFaulty(fsys, vfs.Match(".tmp", vfs.FailOp(op, nil)))
		broken, err := openCredentials(faulty, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := broken.SetPassword(SCRAMSHA256, "bob", "pw", 0); !errors.Is(err, vfs.ErrInjected) {
			t.Errorf("op %v failing: %v, want the injected error", op, err)
		}
		if err := broken.Delete(SCRAMSHA256, "alice"); !errors.Is(err, vfs.ErrInjected) {
			t.Errorf("op %v failing: deleting: %v, want the injected error", op, err)
		}
		for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.TearGarbage} {
			after, err := openCredentials(fsys.Crash(mode, 2), path)
			if err != nil {
				t.Fatalf("op %v failing, %v: %v", op, mode, err)
			}
			if infos, err := after.Describe(); err != nil || len(infos) != 1 || infos[0].User != "alice" {
				t.Errorf("op %v failing, %v: %v, %v; want alice alone", op, mode, infos, err)
			}
		}
	}
}

func writeFileForTest(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

func readFileForTest(path string) ([]byte, error) { return os.ReadFile(path) }
