package log_test

import (
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// The corruption sweep's symlink class, on the OS filesystem (the in-memory ones
// have no symlinks): the sweep's store, closed cleanly or not, is copied to disk,
// and one file strata wrote (or a partition directory) is replaced by a symlink to a
// copy of it outside the store; after a crash the copy of the newest .log also ends
// in a torn tail, which recovery would cut. A symlinked copy of a segment is also
// planted far ahead of a partition's end, and the lock file is linked too. strata never follows such a link: after
// Open, reading everything, seeking, producing and Close, the outside file is
// unchanged byte for byte, and the store's outcome is harmless or detected, never
// silent.
func TestCorruptionSweepSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	images := buildSweepStore(t)
	for _, clean := range []bool{true, false} {
		files := scanStore(images.image(clean))
		targets := map[string]storeFile{
			"sealed log":           filesOf(nil, files, "orders-1", false, fileLog)[0],
			"newest log":           newestOf(files, "orders-1", fileLog),
			"sealed index":         filesOf(nil, files, "orders-0", false, fileIndex)[0],
			"newest timeindex":     newestOf(files, "users-0", fileTimeIndex),
			"partition.checkpoint": filesOf(nil, files, "orders-2", false, filePartitionCheckpoint)[0],
			"cleaner.checkpoint":   filesOf(nil, files, "users-1", false, fileCleanerCheckpoint)[0],
			"offsets log":          newestOf(files, "__consumer_offsets-0", fileLog),
			"topics.json":          filesOf(nil, files, "", false, fileTopics)[0],
			"partition directory":  {path: path.Join(sweepDir, "events-0"), partition: "events-0"},
			"lock file":            {path: path.Join(sweepDir, ".lock")},
			// Planted, not replacing anything: a copy of the newest segment of
			// orders-2, linked far ahead of its end.
			"stray segment": {path: segment.LogPath(path.Join(sweepDir, "orders-2"), farAhead), partition: "orders-2", kind: fileLog},
		}
		for _, what := range slices.Sorted(maps.Keys(targets)) {
			target := targets[what]
			t.Run(stateName(clean)+"/"+what, func(t *testing.T) {
				root := t.TempDir()
				dir := filepath.Join(root, "data")
				copyToDisk(t, images.image(clean), dir)
				onDisk := filepath.Join(dir, filepath.FromSlash(target.path[len(sweepDir):]))
				outside := filepath.Join(root, "outside", filepath.Base(onDisk))
				require.NoError(t, os.MkdirAll(filepath.Dir(outside), 0o755))
				if what == "stray segment" {
					newest := newestOf(files, "orders-2", fileLog)
					require.NoError(t, os.WriteFile(outside, readStoreFile(images.image(clean), newest.path), 0o644))
				} else {
					require.NoError(t, os.Rename(onDisk, outside))
				}
				if !clean && target.kind == fileLog {
					appendFile(t, outside, []byte("torn tail: recovery would cut this"))
				}
				require.NoError(t, os.Symlink(outside, onDisk))
				before := snapshotTree(t, outside)

				var logs logBuffer
				v := judgeStore(testContext(t), vfs.OS, dir, images.acked, &logs)
				require.Contains(t, []outcome{harmless, detected}, v.outcome, "%s %s\n%s", v.how, v.detail, logs.String())
				require.Equal(t, before, snapshotTree(t, outside), "the file outside the store changed")
				t.Logf("%v by %s: %.200s", v.outcome, v.how, v.detail)
			})
		}
	}
}

func stateName(clean bool) string {
	if clean {
		return "clean"
	}
	return "unclean"
}

// newestOf returns the partition's file of the kind of its newest segment.
func newestOf(files []storeFile, partition, kind string) storeFile {
	for _, f := range files {
		if f.partition == partition && f.kind == kind && f.newest {
			return f
		}
	}
	panic("no newest " + kind + " in " + partition)
}

// copyToDisk writes every file and directory below sweepDir of fsys into dir.
func copyToDisk(t *testing.T, fsys vfs.FS, dir string) {
	t.Helper()
	var walk func(from, to string)
	walk = func(from, to string) {
		require.NoError(t, os.MkdirAll(to, 0o755))
		names, err := fsys.ReadDir(from)
		require.NoError(t, err)
		for _, name := range names {
			info, err := fsys.Stat(path.Join(from, name))
			require.NoError(t, err)
			if info.IsDir() {
				walk(path.Join(from, name), filepath.Join(to, name))
				continue
			}
			data, err := vfs.ReadFile(fsys, path.Join(from, name))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(to, name), data, 0o644))
		}
	}
	walk(sweepDir, dir)
}

func appendFile(t *testing.T, name string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(data)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// snapshotTree returns the content of a file, or of every file below a directory,
// by path.
func snapshotTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(name)
		out[name] = string(data)
		return err
	}))
	return out
}
