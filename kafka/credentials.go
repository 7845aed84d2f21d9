package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/stratalog/strata/vfs"
)

// CredentialsFile is the name strata-kafka gives the credential file in a
// store's data directory: filepath.Join(dir, CredentialsFile) is what it opens
// with OpenCredentials.
const CredentialsFile = "kafka-scram-users.json"

// maxCredentialsFileBytes bounds the credential file read (format: a file
// larger is refused before it is read).
const maxCredentialsFileBytes = 64 << 20

// credentialsFileVersion is the version of the file's JSON (format).
const credentialsFileVersion = 1

// Credentials is a store of SCRAM credentials (Kafka's user SCRAM credentials:
// a user, a mechanism, a salt, an iteration count, StoredKey and ServerKey;
// never a password) kept in one file, so that users survive restarts and can be
// changed while a server uses them: by AlterUserScramCredentials on any
// connection (Options.Credentials), by Upsert and Delete in the program, or by
// another process (`strata-kafka users`) writing the same file.
//
// The file is JSON with a CRC-32C line (FORMAT.md, "kafka-scram-users.json"),
// replaced crash-atomically at every change (a temporary file, fsync, rename,
// fsync of the directory) under an exclusive lock file (path + ".lock"), so
// that processes changing it at the same time each see the other's change.
// Every read (Lookup, Describe) first checks whether the file changed (its size
// and checksum line) and reloads it if so: a change made by another process is
// seen at the next authentication. A file that cannot be read or is corrupt
// fails closed: Lookup finds no one, Describe, Upsert and Delete return the
// error (ErrCorruptCredentials), and the file is never overwritten.
//
// A Credentials is safe for concurrent use; it holds no open file, and needs no
// closing.
type Credentials struct {
	fsys vfs.FS
	path string
	// mu serializes loads and writes in this process; the lock file serializes
	// writers across processes.
	mu sync.Mutex
	// table is the credentials last loaded, read without mu.
	table atomic.Pointer[credentialTable]
}

// credentialKey names one credential: a user's for one mechanism.
type credentialKey struct {
	mechanism string
	user      string
}

// credentialTable is one version of the file, immutable once stored.
type credentialTable struct {
	entries map[credentialKey]SCRAMCredential
	// size and tail identify the file it was read from: its size (-1: no file)
	// and its checksum line.
	size int64
	tail string
}

// CredentialInfo describes one stored credential without its keys.
type CredentialInfo struct {
	User       string
	Mechanism  string // SCRAMSHA256 or SCRAMSHA512
	Iterations int
}

// OpenCredentials opens the SCRAM credential store kept in the file at path
// (created at the first change; a missing file is a store without users) and
// reads it: a corrupt file is an error wrapping ErrCorruptCredentials. The
// directory must exist.
func OpenCredentials(path string) (*Credentials, error) {
	return openCredentials(vfs.OS, path)
}

func openCredentials(fsys vfs.FS, path string) (*Credentials, error) {
	c := &Credentials{fsys: fsys, path: path}
	if _, err := c.current(); err != nil {
		return nil, err
	}
	return c, nil
}

// Path returns the file the store is kept in.
func (c *Credentials) Path() string { return c.path }

// Lookup returns user's credential for mechanism (SCRAMSHA256 or SCRAMSHA512),
// as the file holds it now; ok is false for a user without one, and when the
// file cannot be read (failing closed). It has the signature of
// SASL.SCRAMCredentials.
func (c *Credentials) Lookup(mechanism, user string) (credential SCRAMCredential, ok bool) {
	t, err := c.current()
	if err != nil {
		return SCRAMCredential{}, false
	}
	credential, ok = t.entries[credentialKey{mechanism, user}]
	return credential.clone(), ok
}

// Describe returns every stored credential without its keys, sorted by user
// then mechanism.
func (c *Credentials) Describe() ([]CredentialInfo, error) {
	t, err := c.current()
	if err != nil {
		return nil, err
	}
	return t.describe(), nil
}

func (t *credentialTable) describe() []CredentialInfo {
	infos := make([]CredentialInfo, 0, len(t.entries))
	for key, credential := range t.entries {
		infos = append(infos, CredentialInfo{User: key.user, Mechanism: key.mechanism, Iterations: credential.Iterations})
	}
	slices.SortFunc(infos, func(a, b CredentialInfo) int {
		return cmpOr(strings.Compare(a.User, b.User), strings.Compare(a.Mechanism, b.Mechanism))
	})
	return infos
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// Upsert stores credential as user's for mechanism, replacing any it had. An
// invalid one (a mechanism other than SCRAMSHA256 and SCRAMSHA512, an empty
// user or one not UTF-8, iterations outside 4096 to 16384, an empty salt, keys
// not of the mechanism's hash size), or one that would make the file larger
// than it may be (64 MiB: a huge salt), is an error wrapping
// ErrInvalidCredential, and changes nothing. When Upsert returns nil, the change is durable.
func (c *Credentials) Upsert(mechanism, user string, credential SCRAMCredential) error {
	if err := validateCredential(mechanism, user, credential); err != nil {
		return err
	}
	return c.update(func(entries map[credentialKey]SCRAMCredential) (bool, error) {
		entries[credentialKey{mechanism, user}] = credential.clone()
		return true, nil
	})
}

// SetPassword salts password for mechanism with a new random salt (as
// NewSCRAMCredential, iterations 0 meaning DefaultSCRAMIterations) and stores it
// as user's credential (Upsert). The password itself is not kept.
func (c *Credentials) SetPassword(mechanism, user, password string, iterations int) error {
	credential, err := NewSCRAMCredential(mechanism, password, iterations)
	if err != nil {
		return err
	}
	return c.Upsert(mechanism, user, credential)
}

// Delete removes user's credential for mechanism: an error wrapping
// ErrCredentialNotFound if it has none. When Delete returns nil, the change is
// durable.
func (c *Credentials) Delete(mechanism, user string) error {
	return c.update(func(entries map[credentialKey]SCRAMCredential) (bool, error) {
		key := credentialKey{mechanism, user}
		if _, ok := entries[key]; !ok {
			return false, fmt.Errorf("%w: %s of user %q", ErrCredentialNotFound, mechanism, user)
		}
		delete(entries, key)
		return true, nil
	})
}

// validateCredential checks a credential given by a caller.
func validateCredential(mechanism, user string, credential SCRAMCredential) error {
	newHash := scramHash(mechanism)
	switch {
	case newHash == nil:
		return fmt.Errorf("%w: %q is not a SCRAM mechanism", ErrInvalidCredential, mechanism)
	case user == "":
		return fmt.Errorf("%w: empty user name", ErrInvalidCredential)
	case !utf8.ValidString(user):
		return fmt.Errorf("%w: user name %q is not UTF-8", ErrInvalidCredential, user)
	case credential.Iterations < minSCRAMIterations || credential.Iterations > maxSCRAMIterations:
		return fmt.Errorf("%w: %d iterations: want %d to %d", ErrInvalidCredential, credential.Iterations, minSCRAMIterations, maxSCRAMIterations)
	case len(credential.Salt) == 0:
		return fmt.Errorf("%w: empty salt", ErrInvalidCredential)
	case len(credential.StoredKey) != newHash().Size() || len(credential.ServerKey) != newHash().Size():
		return fmt.Errorf("%w: StoredKey and ServerKey of %d and %d bytes, want %d for %s",
			ErrInvalidCredential, len(credential.StoredKey), len(credential.ServerKey), newHash().Size(), mechanism)
	}
	return nil
}

// current returns the credentials as the file holds them now: the table last
// loaded if the file's size and checksum line are still the same, else the file
// read again.
func (c *Credentials) current() (*credentialTable, error) {
	size, tail, err := c.peek()
	if t := c.table.Load(); t != nil && err == nil && t.size == size && t.tail == tail {
		return t, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.loadLocked()
	if err != nil {
		return nil, err
	}
	return t, nil
}

// checksumLineBytes is the length of the file's last line, "crc32c xxxxxxxx\n".
const checksumLineBytes = len("crc32c 00000000\n")

// peek returns the file's size (-1 if there is none) and its last
// checksumLineBytes bytes, without reading the rest.
func (c *Credentials) peek() (int64, string, error) {
	f, err := c.fsys.OpenFile(c.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil || size < int64(checksumLineBytes) {
		return size, "", err
	}
	tail := make([]byte, checksumLineBytes)
	if _, err := f.ReadAt(tail, size-int64(checksumLineBytes)); err != nil && !errors.Is(err, io.EOF) {
		return 0, "", err
	}
	return size, string(tail), nil
}

// loadLocked reads the file and makes it the current table.
func (c *Credentials) loadLocked() (*credentialTable, error) {
	data, err := vfs.ReadFileLimit(c.fsys, c.path, maxCredentialsFileBytes)
	var t *credentialTable
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t = &credentialTable{entries: map[credentialKey]SCRAMCredential{}, size: -1}
	case errors.Is(err, vfs.ErrTooLarge):
		return nil, fmt.Errorf("%w: %w", ErrCorruptCredentials, err)
	case err != nil:
		return nil, err
	default:
		entries, err := decodeCredentials(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorruptCredentials, c.path, err)
		}
		t = &credentialTable{entries: entries, size: int64(len(data)), tail: string(data[len(data)-checksumLineBytes:])}
	}
	c.table.Store(t)
	return t, nil
}

// update changes the credentials: under the lock file, it reads the file again,
// lets change edit a copy of its entries, and if change reports a change,
// writes them crash-atomically. An error of change is returned as is, and
// nothing is written.
//
// A failed write is not sticky (unlike the store's logs): every update
// re-reads the file and writes a whole new one through a new temporary file, so
// nothing of a failed attempt is reused; a rename whose directory fsync failed
// is made durable by the next update's.
func (c *Credentials) update(change func(map[credentialKey]SCRAMCredential) (bool, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	lock, err := c.lockFile()
	if err != nil {
		return err
	}
	defer lock.Close()
	t, err := c.loadLocked()
	if err != nil {
		return err
	}
	entries := maps.Clone(t.entries)
	changed, err := change(entries)
	if err != nil || !changed {
		return err
	}
	data := encodeCredentials(entries)
	if len(data) > maxCredentialsFileBytes {
		// A file the next read would refuse as corrupt: refuse the change.
		return fmt.Errorf("%w: the credential file would be %d bytes, above the %d it may hold", ErrInvalidCredential, len(data), maxCredentialsFileBytes)
	}
	if err := c.writeLocked(data); err != nil {
		return err
	}
	c.table.Store(&credentialTable{entries: entries, size: int64(len(data)), tail: string(data[len(data)-checksumLineBytes:])})
	return nil
}

// Lock-file retries: another process holds the lock for one write of a small
// file, so it is retried for a while before giving up.
const (
	lockAttempts = 500
	lockInterval = 10 * time.Millisecond
)

// lockFile takes the lock file that serializes writers across processes.
func (c *Credentials) lockFile() (io.Closer, error) {
	for attempt := 1; ; attempt++ {
		lock, err := c.fsys.Lock(c.path + ".lock")
		if err == nil || !errors.Is(err, vfs.ErrLocked) || attempt == lockAttempts {
			return lock, err
		}
		time.Sleep(lockInterval)
	}
}

// writeLocked replaces the file with data crash-atomically, readable by its
// owner only (the keys let whoever reads them pose as the server).
func (c *Credentials) writeLocked(data []byte) error {
	return vfs.WriteFileAtomicMode(c.fsys, c.path, data, 0o600)
}

// credentialsJSON is the file's JSON (format: FORMAT.md).
type credentialsJSON struct {
	Version     int              `json:"version"`
	Credentials []credentialJSON `json:"credentials"`
}

// credentialJSON is one credential in the file; the byte slices are base64.
type credentialJSON struct {
	User       string `json:"user"`
	Mechanism  string `json:"mechanism"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	StoredKey  []byte `json:"storedKey"`
	ServerKey  []byte `json:"serverKey"`
}

// crcTable is CRC-32C (Castagnoli), the checksum of strata's files.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// encodeCredentials returns the file's bytes: the JSON, one credential a line
// sorted by user then mechanism, then the checksum line.
func encodeCredentials(entries map[credentialKey]SCRAMCredential) []byte {
	keys := slices.SortedFunc(maps.Keys(entries), func(a, b credentialKey) int {
		return cmpOr(strings.Compare(a.user, b.user), strings.Compare(a.mechanism, b.mechanism))
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"version\":%d,\"credentials\":[", credentialsFileVersion)
	for i, key := range keys {
		credential := entries[key]
		line, _ := json.Marshal(credentialJSON{
			User: key.user, Mechanism: key.mechanism, Iterations: credential.Iterations,
			Salt: credential.Salt, StoredKey: credential.StoredKey, ServerKey: credential.ServerKey,
		}) // cannot fail: strings and byte slices
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n")
		b.Write(line)
	}
	b.WriteString("\n]}\n")
	fmt.Fprintf(&b, "crc32c %08x\n", crc32.Checksum(b.Bytes(), crcTable))
	return b.Bytes()
}

// decodeCredentials checks and parses the file's bytes.
func decodeCredentials(data []byte) (map[credentialKey]SCRAMCredential, error) {
	if len(data) < checksumLineBytes || data[len(data)-1] != '\n' {
		return nil, errors.New("no checksum line")
	}
	body, line := data[:len(data)-checksumLineBytes], string(data[len(data)-checksumLineBytes:len(data)-1])
	hexSum, found := strings.CutPrefix(line, "crc32c ")
	want, err := strconv.ParseUint(hexSum, 16, 32)
	if !found || err != nil || len(body) == 0 || body[len(body)-1] != '\n' {
		return nil, fmt.Errorf("malformed checksum line %q", line)
	}
	if got := crc32.Checksum(body, crcTable); got != uint32(want) {
		return nil, fmt.Errorf("checksum %08x, the file's line says %08x", got, want)
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	var file credentialsJSON
	if err := decoder.Decode(&file); err != nil {
		return nil, err
	}
	if decoder.More() {
		return nil, errors.New("bytes after the JSON")
	}
	if file.Version != credentialsFileVersion {
		return nil, fmt.Errorf("version %d, want %d", file.Version, credentialsFileVersion)
	}
	entries := make(map[credentialKey]SCRAMCredential, len(file.Credentials))
	for _, record := range file.Credentials {
		credential := SCRAMCredential{Salt: record.Salt, Iterations: record.Iterations, StoredKey: record.StoredKey, ServerKey: record.ServerKey}
		if err := validateCredential(record.Mechanism, record.User, credential); err != nil {
			return nil, err
		}
		key := credentialKey{record.Mechanism, record.User}
		if _, again := entries[key]; again {
			return nil, fmt.Errorf("%s of user %q twice", record.Mechanism, record.User)
		}
		entries[key] = credential
	}
	return entries, nil
}

// crc32Checksum is the CRC-32C of data.
func crc32Checksum(data []byte) uint32 { return crc32.Checksum(data, crcTable) }
