// Package vfs is the small filesystem interface that every strata layer uses for disk
// access, so that tests can run the same code on an in-memory filesystem, simulate a
// crash that drops or tears unsynced writes, and inject errors (ENOSPC, EIO, short
// writes). It is public so that applications can test their own crash handling the
// same way: pass a filesystem from this package in log.Options.FS (or
// partition.Options.FS), crash it or fail its calls, and reopen the store on the
// result. pebble's vfs and errorfs packages are the model.
//
// # Implementations
//
//   - OS: the real filesystem. Lock is flock(2) where available.
//   - NewMem: an in-memory filesystem with POSIX-like inode semantics (an open handle
//     survives the removal or renaming of its name).
//   - NewCrashable: an in-memory filesystem that remembers what was synced (a file's
//     content at its last File.Sync, a directory's entries at its last SyncDir);
//     Crash returns the state a machine would find after power loss: unsynced
//     directory changes undone and unsynced file bytes dropped, kept in part or torn,
//     as the CrashMode says.
//   - NewFaulty: wraps another FS and fails the operations an Injector chooses
//     (FailOp, FailAfter, ShortWriteAfter, Match, Switch).
//
// WriteFileAtomic and ReadFile are the helpers for small files that must be replaced
// crash-atomically (checkpoints, metadata).
//
// # Testing recovery
//
// Run the code under test on a CrashableFS, crash it with a printed seed, and reopen on
// the result:
//
//	fsys := vfs.NewCrashable()
//	... write through fsys ...
//	seed := time.Now().UnixNano()
//	t.Logf("crash seed %d", seed)
//	after := fsys.Crash(vfs.TearGarbage, seed)
//	... reopen on after; every acknowledged write must be there ...
//
// # Concurrency and ownership
//
// Every FS method is safe for concurrent use. A File's ReadAt may run concurrently
// with WriteAt on non-overlapping ranges; its other methods need the caller's
// synchronization. A File and a lock returned by Lock belong to the caller, who must
// Close them; operations on a closed File return an error wrapping fs.ErrClosed. ReadAt
// and WriteAt copy p: the caller keeps ownership of its buffers.
//
// # Paths and errors
//
// Paths are plain strings joined with path/filepath; every implementation accepts the
// same paths. The in-memory filesystems clean each path and resolve it from their one
// root, so relative and absolute paths both work. Errors are *fs.PathError (Rename:
// *os.LinkError) wrapping fs.ErrNotExist, fs.ErrExist and the like, so check them with
// errors.Is; this package's own sentinels are in errors.go.
package vfs
