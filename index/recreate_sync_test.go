package index

import (
	"testing"

	"github.com/stratalog/strata/vfs"
)

// Sync leaves on disk exactly what the index holds, also when the index was
// re-created empty over an old file and has nothing to flush. (Found in review: the
// re-created file was closed between writes without an fsync, and Sync skipped it.)
func TestSyncAfterRecreateMakesTheTruncationDurable(t *testing.T) {
	fsys := vfs.NewCrashable()
	if err := fsys.MkdirAll("/p", 0o755); err != nil {
		t.Fatal(err)
	}
	path := "/p/00000000000000001000.index"
	x, err := CreateOffsetIndex(fsys, path, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"/", "/p"} {
		if err := fsys.SyncDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	for i := range int64(3) {
		if err := x.Append(1000+10*(i+1), 4096*(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	// Rebuild: an empty index (a segment smaller than the index interval).
	y, err := CreateOffsetIndex(fsys, path, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := y.Sync(); err != nil {
		t.Fatal(err)
	}
	after := fsys.Crash(vfs.DropUnsynced, 1)
	z, err := OpenOffsetIndex(after, path, 1000, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if z.Len() != 0 {
		t.Fatalf("after Sync and power loss the index holds %d stale entries, want the 0 that were synced", z.Len())
	}
}
