package partition_test

// Crash safety of compaction: a crash (every vfs.CrashMode) before every mutating file
// operation of a compaction, sometimes followed by a crash during the recovery, and an
// I/O error injected at every such operation. Open must finish or undo the swap of
// each group of segments: the log afterwards is the log before the compaction, the log
// after it, or the log with the first groups compacted and the others not (each group
// commits on its own, in offset order) — never a lost acknowledged record, never a
// changed latest value of a key, and no .cleaned or .swap file is left. A compaction
// after recovery then reaches the same log as one that was never interrupted.
//
// Each operation number is a subtest: -run 'TestCompactCrashAtEveryOperation/TearZeros/op=41'.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// compactCrashOptions: small segments, so that the compaction merges several groups of
// several segments, and a fixed clock.
func compactCrashOptions() partition.Options {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return partition.Options{
		SegmentBytes:       900,
		IndexIntervalBytes: 100,
		Compact:            true,
		DeleteRetention:    time.Hour,
		Now:                func() time.Time { return now },
	}
}

// compactCrashSetup opens a partition on fsys and appends the same keyed records with
// tombstones every time, rolling now and then: several sealed segments and an active
// one. Every append is fsynced (SyncEveryAppend).
func compactCrashSetup(t testing.TB, fsys vfs.FS) *partition.Partition {
	t.Helper()
	p, err := openAt(fsys, compactCrashOptions())
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(42, 7))
	ctx := context.Background()
	for i := range 100 {
		records := make([]partition.Record, 1+rng.IntN(3))
		for j := range records {
			r := &records[j]
			r.Key = []byte(fmt.Sprintf("k%d", rng.IntN(30)))
			if rng.IntN(8) != 0 {
				r.Value = []byte(fmt.Sprintf("%d-%d-%s", i, j, strings.Repeat("x", rng.IntN(60))))
			}
			r.Timestamp = 1_772_000_000_000 + int64(i)
		}
		_, err := p.Append(ctx, records)
		require.NoError(t, err)
		if rng.IntN(4) == 0 {
			// A segment that ends with a batch the next marker supersedes: its last
			// batch is left empty by compaction.
			_, err := p.Append(ctx, []partition.Record{{Key: []byte("marker"), Value: fmt.Appendf(nil, "%d", i), Timestamp: 1_772_000_000_000}})
			require.NoError(t, err)
			require.NoError(t, p.Roll())
		}
	}
	require.NoError(t, p.Roll())
	_, err = p.Append(ctx, []partition.Record{{Key: []byte("k0"), Value: []byte("active"), Timestamp: 1_772_000_001_000}})
	require.NoError(t, err)
	return p
}

// compactRef is the log of the setup before and after an uninterrupted ForceCompact,
// and the base offsets of the segments after it: the boundaries of the groups.
type compactRef struct {
	before, after []string
	bases         []int64
}

// partial returns the log with the groups below bound compacted and the rest not.
func (r compactRef) partial(bound int64) []string {
	var out []string
	for _, rec := range r.after {
		if offsetOf(rec) < bound {
			out = append(out, rec)
		}
	}
	for _, rec := range r.before {
		if offsetOf(rec) >= bound {
			out = append(out, rec)
		}
	}
	return out
}

// offsetOf returns the offset of a record described by describe.
func offsetOf(described string) int64 {
	var offset int64
	fmt.Sscanf(described, "%d:", &offset)
	return offset
}

func compactReference(t *testing.T) compactRef {
	var ref compactRef
	ref.before, ref.after = compactReferenceLogs(t, &ref.bases)
	return ref
}

// compactReferenceLogs returns the records of the setup before and after an
// uninterrupted ForceCompact, and sets bases.
func compactReferenceLogs(t *testing.T, bases *[]int64) (before, after []string) {
	fsys := vfs.NewMem()
	p := compactCrashSetup(t, fsys)
	defer p.Close()
	before = describe(readRecords(t, p))
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.True(t, res.Compacted)
	require.Greater(t, res.SegmentsWritten, 1, "several groups")
	require.Greater(t, res.SegmentsRead, res.SegmentsWritten, "groups of several segments")
	require.Greater(t, res.TombstonesRemoved+res.RecordsRemoved, int64(20))
	after = describe(readRecords(t, p))
	require.NotEqual(t, before, after)
	*bases = diskSegmentBases(t, fsys)
	return before, after
}

// requireNoCompactionLeftovers checks that no .cleaned or .swap file is left.
func requireNoCompactionLeftovers(t testing.TB, fsys vfs.FS) {
	t.Helper()
	names, err := fsys.ReadDir(partitionDir)
	require.NoError(t, err)
	for _, name := range names {
		require.NotContains(t, name, segment.CleanedSuffix)
		require.NotContains(t, name, segment.SwapSuffix)
	}
}

// requireBeforeOrAfter checks that p holds exactly the log before or after the
// compaction or, unless strict, the log with its first groups compacted and the others
// not; then it compacts p and checks that it holds the log after.
func requireBeforeOrAfter(t testing.TB, p *partition.Partition, ref compactRef, strict bool) {
	t.Helper()
	got := describe(readRecords(t, p))
	ok := slicesEqual(got, ref.before) || slicesEqual(got, ref.after)
	for _, bound := range ref.bases {
		ok = ok || (!strict && slicesEqual(got, ref.partial(bound)))
	}
	if !ok {
		t.Fatalf("after recovery the log is neither the one before compaction, nor the one after, nor one with the first groups compacted:\n got    %v\n before %v\n after  %v", got, ref.before, ref.after)
	}
	require.Equal(t, latestView(ref.before), latestView(got), "the latest record of each key")
	_, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.Equal(t, ref.after, describe(readRecords(t, p)), "a compaction after recovery")
	require.NoError(t, p.Verify(context.Background()))
}

// latestView maps each key of described records to its latest value; a tombstone
// deletes the key.
func latestView(records []string) map[string]string {
	view := map[string]string{}
	for _, r := range records {
		_, kv, _ := strings.Cut(r, ":")
		key, value, _ := strings.Cut(kv, "=")
		if key == "<nil>" {
			continue
		}
		if value == "<nil>" {
			delete(view, key)
			continue
		}
		view[key] = value
	}
	return view
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// TestCompactCrashAtEveryOperation crashes before each mutating file operation of a
// compaction in turn, with the crash modes taking turns (every mode at every operation
// under STRATA_LONG=1).
func TestCompactCrashAtEveryOperation(t *testing.T) {
	ref := compactReference(t)
	for i, mode := range crashModes {
		t.Run(mode.String(), func(t *testing.T) {
			for n := int64(1); ; n++ {
				reached := true
				if longRun() || n%int64(len(crashModes)) == int64(i) {
					t.Run(fmt.Sprintf("op=%d", n), func(t *testing.T) {
						reached = crashCompactionAt(t, mode, n, ref)
					})
				} else if n > 5000 {
					t.Fatal("a compaction of the fixture makes more than 5000 file operations")
				}
				if !reached || t.Failed() {
					t.Logf("a compaction makes fewer than %d mutating file operations", n)
					require.Greater(t, n, int64(40), "the compaction did little")
					return
				}
			}
		})
	}
}

// crashCompactionAt crashes before the n-th mutating file operation of a compaction
// and recovers; it returns false if the compaction made fewer operations.
func crashCompactionAt(t *testing.T, mode vfs.CrashMode, n int64, ref compactRef) bool {
	fsys := vfs.NewCrashable()
	gate := newOpGate()
	p := compactCrashSetup(t, vfs.NewFaulty(fsys, gate.inject))
	gate.arm(n)
	done := make(chan error, 1)
	go func() {
		_, err := p.ForceCompact(context.Background())
		done <- err
	}()
	var crashed *vfs.CrashableFS
	reached := true
	select {
	case op := <-gate.stopped:
		t.Logf("crash (%v) before %s", mode, op)
		crashed = fsys.Crash(mode, n)
		close(gate.release)
		<-done // the compaction goes on, on the file system that did not crash
	case err := <-done:
		gate.disarm()
		require.NoError(t, err)
		reached = false
		crashed = fsys.Crash(mode, n)
	}
	require.NoError(t, p.Close())
	if n%3 == 0 {
		crashed, _ = crashDuringRecovery(t, crashed, compactCrashOptions(), mode, n, 1+n%11)
	}
	q, err := openAt(crashed, compactCrashOptions())
	require.NoError(t, err)
	defer q.Close()
	requireNoCompactionLeftovers(t, crashed)
	if !reached {
		require.Equal(t, ref.after, describe(readRecords(t, q)), "a finished compaction is durable")
	}
	// A crash after the first groups' commit points and before the others' leaves a
	// partly compacted log.
	requireBeforeOrAfter(t, q, ref, false)
	return reached
}

// failNth is an Injector that fails the n-th mutating operation with EIO.
func failNth(n int64, hit *atomic.Bool) vfs.Injector {
	var count atomic.Int64
	return func(op vfs.Op, path string) *vfs.Fault {
		switch op {
		case vfs.OpOpen, vfs.OpWrite, vfs.OpSync, vfs.OpTruncate, vfs.OpRemove, vfs.OpRename, vfs.OpSyncDir:
		default:
			return nil
		}
		if count.Add(1) == n {
			hit.Store(true)
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	}
}

// TestCompactFaultAtEveryOperation fails each mutating file operation of a compaction
// in turn. Before the swap's commit point the compaction returns the error and the
// partition goes on unchanged; from it on the partition fails closed, and reopening
// finishes the swap.
func TestCompactFaultAtEveryOperation(t *testing.T) {
	ref := compactReference(t)
	for n := int64(1); ; n++ {
		var hit atomic.Bool
		t.Run(fmt.Sprintf("op=%d", n), func(t *testing.T) {
			mem := vfs.NewMem()
			var faults vfs.Switch
			fsys := vfs.NewFaulty(mem, faults.Inject)
			p := compactCrashSetup(t, fsys)
			faults.Set(failNth(n, &hit))
			_, err := p.ForceCompact(context.Background())
			faults.Set(nil)
			if !hit.Load() {
				require.NoError(t, err)
				require.NoError(t, p.Close())
				return
			}
			require.ErrorIs(t, err, syscall.EIO)
			if p.Err() == nil {
				require.Equal(t, ref.before, describe(readRecords(t, p)), "a compaction that failed before its commit point changes nothing")
				requireNoCompactionLeftovers(t, mem)
				requireBeforeOrAfter(t, p, ref, true)
				require.NoError(t, p.Close())
				return
			}
			require.ErrorIs(t, p.Err(), syscall.EIO)
			p.Close()
			q, err := openAt(mem, compactCrashOptions())
			require.NoError(t, err)
			defer q.Close()
			requireNoCompactionLeftovers(t, mem)
			// Without a crash, renames before the failure stay: the first groups may
			// be swapped and the others not.
			requireBeforeOrAfter(t, q, ref, false)
		})
		if !hit.Load() || t.Failed() {
			require.Greater(t, n, int64(40))
			return
		}
	}
}

// TestCompactRecoveryLeftovers: files of every stage of the swap left by hand are
// handled by Open: .cleaned files deleted, a .swap completed, stray index .swap files
// deleted; a damaged .swap is a *CorruptError, not a silent loss.
func TestCompactRecoveryLeftovers(t *testing.T) {
	t.Run("cleaned and stray swap indexes", func(t *testing.T) {
		fsys := vfs.NewMem()
		p := compactCrashSetup(t, fsys)
		before := describe(readRecords(t, p))
		require.NoError(t, p.Close())
		for _, name := range []string{"00000000000000000000.log.cleaned", "00000000000000000000.index.cleaned",
			"00000000000000000007.timeindex.cleaned", "00000000000000000012.index.swap", "00000000000000000012.timeindex.swap"} {
			diskReplace(t, fsys, partitionDir+"/"+name, []byte("leftover"))
		}
		q, err := openAt(fsys, compactCrashOptions())
		require.NoError(t, err)
		defer q.Close()
		require.Len(t, q.RecoveryReport().RemovedFiles, 5)
		requireNoCompactionLeftovers(t, fsys)
		require.Equal(t, before, describe(readRecords(t, q)))
	})
	t.Run("damaged swap", func(t *testing.T) {
		fsys := vfs.NewMem()
		p := compactCrashSetup(t, fsys)
		require.NoError(t, p.Close())
		path := segment.LogPath(partitionDir, 0)
		data := diskRead(t, fsys, path)
		data[len(data)-2] ^= 0xff
		diskReplace(t, fsys, path+segment.SwapSuffix, data)
		_, err := openAt(fsys, compactCrashOptions())
		var corrupt *partition.CorruptError
		require.True(t, errors.As(err, &corrupt), "got %v", err)
		require.Equal(t, path+segment.SwapSuffix, corrupt.Path)
	})
}
