package kafka

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestCredentialsUpsertTooLargeForTheFileChangesNothing upserts a credential
// whose salt (any length is taken, from AlterUserScramCredentials too) would
// make the file larger than the store reads back: it is refused with
// ErrInvalidCredential and changes nothing, so that the other users still
// authenticate and the file still opens, instead of a file that every later
// read refuses as corrupt (every authentication then failing, every change too).
func TestCredentialsUpsertTooLargeForTheFileChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	c, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(SCRAMSHA256, "alice", "alice-password", 0); err != nil {
		t.Fatal(err)
	}
	huge, err := NewSCRAMCredential(SCRAMSHA512, "mallory-password", 0)
	if err != nil {
		t.Fatal(err)
	}
	huge.Salt = make([]byte, maxCredentialsFileBytes*3/4) // its base64 alone fills the file's limit
	if err := c.Upsert(SCRAMSHA512, "mallory", huge); !errors.Is(err, ErrInvalidCredential) {
		t.Fatalf("Upsert of a credential the file cannot hold: %v, want ErrInvalidCredential", err)
	}
	if _, ok := c.Lookup(SCRAMSHA256, "alice"); !ok {
		t.Error("alice has no credential after the refused upsert")
	}
	reopened, err := OpenCredentials(path)
	if err != nil {
		t.Fatalf("reopening the file after the refused upsert: %v", err)
	}
	if infos, err := reopened.Describe(); err != nil || len(infos) != 1 || infos[0].User != "alice" {
		t.Fatalf("the file holds %v (%v), want alice's credential only", infos, err)
	}
}
