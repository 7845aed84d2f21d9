package partition_test

// Recovery after a crash, through vfs.CrashableFS: a crash at every kind of point
// (before any mutating file operation, while appends from several goroutines wait on
// a group commit), torn tails written by hand, damaged indexes, corruption in sealed
// segments, absurd length fields and leftover files.
//
// Every randomized test prints its seed and runs one subtest per seed, so a failure
// replays with -run 'TestCrashRecovery/TearGarbage/seed=2000017'. STRATA_LONG=1 runs
// ten times more seeds.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/index"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// partitionDir is the directory the open helper uses.
const partitionDir = "/data/orders-0"

// longRun reports whether STRATA_LONG=1 asks for the long version of randomized tests.
func longRun() bool { return os.Getenv("STRATA_LONG") == "1" }

// seedCount returns short, or long under STRATA_LONG=1.
func seedCount(short, long int) int {
	if longRun() {
		return long
	}
	return short
}

var crashModes = []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix, vfs.TearGarbage, vfs.TearZeros}

// openAt opens the partition in partitionDir on fsys, returning Open's error.
func openAt(fsys vfs.FS, opts partition.Options) (*partition.Partition, error) {
	opts.FS = fsys
	return partition.Open(partitionDir, &opts)
}

// diskLogSizes returns the size of every .log file in partitionDir, by path.
func diskLogSizes(t testing.TB, fsys vfs.FS) map[string]int64 {
	t.Helper()
	names, err := fsys.ReadDir(partitionDir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int64{}
	}
	require.NoError(t, err)
	sizes := map[string]int64{}
	for _, name := range names {
		if _, suffix, ok := segment.ParseFileName(name); ok && suffix == segment.LogSuffix {
			sizes[filepath.Join(partitionDir, name)] = diskSize(t, fsys, filepath.Join(partitionDir, name))
		}
	}
	return sizes
}

// diskSegmentBases lists the base offsets of the .log files in partitionDir, in order.
func diskSegmentBases(t testing.TB, fsys vfs.FS) []int64 {
	t.Helper()
	names, err := fsys.ReadDir(partitionDir)
	require.NoError(t, err)
	var bases []int64
	for _, name := range names {
		if base, suffix, ok := segment.ParseFileName(name); ok && suffix == segment.LogSuffix {
			bases = append(bases, base)
		}
	}
	return bases
}

func diskSize(t testing.TB, fsys vfs.FS, path string) int64 {
	t.Helper()
	info, err := fsys.Stat(path)
	require.NoError(t, err)
	return info.Size()
}

func diskRead(t testing.TB, fsys vfs.FS, path string) []byte {
	t.Helper()
	data, err := vfs.ReadFile(fsys, path)
	require.NoError(t, err)
	return data
}

// diskWriteAt writes data at off in the existing file at path, and syncs it.
func diskWriteAt(t testing.TB, fsys vfs.FS, path string, data []byte, off int64) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(data, off)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

// diskAppend writes data at the end of the existing file at path, and syncs it.
func diskAppend(t testing.TB, fsys vfs.FS, path string, data []byte) {
	t.Helper()
	diskWriteAt(t, fsys, path, data, diskSize(t, fsys, path))
}

// diskReplace replaces the content of the file at path with data.
func diskReplace(t testing.TB, fsys vfs.FS, path string, data []byte) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	require.NoError(t, err)
	if len(data) > 0 {
		_, err = f.WriteAt(data, 0)
		require.NoError(t, err)
	}
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

// diskWriteCheckpoint writes partition.CheckpointFile as documented in checkpoint.go, so a
// test can make a closed partition look crashed, or move its recovery point back.
func diskWriteCheckpoint(t testing.TB, fsys vfs.FS, start, recoveryPoint int64, clean bool) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "strata-partition-checkpoint 1\n")
	fmt.Fprintf(&b, "log-start-offset %d\n", start)
	fmt.Fprintf(&b, "recovery-point %d\n", recoveryPoint)
	fmt.Fprintf(&b, "clean-shutdown %t\n", clean)
	fmt.Fprintf(&b, "crc32c %08x\n", crc32.Checksum(b.Bytes(), crc32.MakeTable(crc32.Castagnoli)))
	require.NoError(t, vfs.WriteFileAtomic(fsys, filepath.Join(partitionDir, partition.CheckpointFile), b.Bytes()))
}

// encodeBatch returns the bytes of a batch holding records, stamped with base offset
// base, exactly as Append writes it.
func encodeBatch(t testing.TB, base int64, records ...partition.Record) []byte {
	t.Helper()
	batch, err := segment.AppendBatch(nil, records, nil)
	require.NoError(t, err)
	segment.SetBaseOffset(batch, base)
	return batch
}

// ackLedger is what a test knows of its appends: the value acknowledged at each offset,
// and every value ever attempted (an append that was not acknowledged may survive a
// crash, but only with the value some append wrote, and only once).
type ackLedger struct {
	mu        sync.Mutex
	acked     map[int64]string
	attempted map[string]bool
}

func newAckLedger() *ackLedger {
	return &ackLedger{acked: map[int64]string{}, attempted: map[string]bool{}}
}

func (l *ackLedger) attempt(records []partition.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range records {
		l.attempted[string(r.Value)] = true
	}
}

func (l *ackLedger) ack(base int64, records []partition.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range records {
		l.acked[base+int64(i)] = string(r.Value)
	}
}

// snapshot returns a copy of the acknowledged offsets and of the attempted values.
func (l *ackLedger) snapshot() (map[int64]string, map[string]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	acked := make(map[int64]string, len(l.acked))
	for o, v := range l.acked {
		acked[o] = v
	}
	attempted := make(map[string]bool, len(l.attempted))
	for v := range l.attempted {
		attempted[v] = true
	}
	return acked, attempted
}

// verifyRecovered checks a recovered partition against a ackLedger snapshot: offsets run
// without a gap from the start offset to the end offset, every record decodes (the
// Reader checks each batch's CRC), every acknowledged offset is there with its exact
// value, every other record holds a value some append attempted, and no value appears
// twice. It returns the number of records.
func verifyRecovered(t testing.TB, p *partition.Partition, acked map[int64]string, attempted map[string]bool) int64 {
	t.Helper()
	start, end := p.StartOffset(), p.EndOffset()
	require.Equal(t, end, p.WrittenOffset(), "after recovery everything written is acknowledged")
	seen := make(map[string]int64, end-start)
	r := p.NewReader(start, 0)
	want := start
	for {
		rec, err := r.TryNext()
		require.NoError(t, err, "reading offset %d of [%d, %d)", want, start, end)
		if rec == nil {
			break
		}
		require.Equal(t, want, rec.Offset, "offsets must be contiguous")
		v := string(rec.Value)
		if a, ok := acked[rec.Offset]; ok {
			require.Equal(t, a, v, "acknowledged offset %d holds another value", rec.Offset)
		} else {
			require.True(t, attempted[v], "offset %d holds %q, which no append wrote", rec.Offset, v)
		}
		if prev, dup := seen[v]; dup {
			t.Fatalf("value %q at offsets %d and %d: a duplicate", v, prev, rec.Offset)
		}
		seen[v] = rec.Offset
		want++
	}
	require.Equal(t, end, want, "the log must read up to its end offset")
	var lost []int64
	for o := range acked {
		if o < start || o >= end {
			lost = append(lost, o)
		}
	}
	slices.Sort(lost)
	require.Empty(t, lost, "acknowledged offsets lost (log is [%d, %d))", start, end)
	return end - start
}

// appendAfterRecovery checks that a recovered partition takes an append at its end
// offset and reads it back.
func appendAfterRecovery(t testing.TB, p *partition.Partition) {
	t.Helper()
	end := p.EndOffset()
	base, err := p.Append(context.Background(), []partition.Record{{Value: []byte("after-recovery"), Timestamp: 1}})
	require.NoError(t, err)
	require.Equal(t, end, base, "the first append after recovery continues at the end offset")
	got, err := p.Read(base, 1, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "after-recovery", string(got[0].Value))
	require.Equal(t, end+1, p.EndOffset())
}

// checkTruncations checks a RecoveryReport against the .log sizes before recovery
// (before), after it (after) and what the crash kept for sure (synced): recovery never
// cuts synced bytes and reports every cut exactly. torn, if not nil, holds the synced
// sizes at a crash that tore every file with unsynced bytes (TearGarbage, TearZeros):
// a file longer than that ends in garbage or zeros, which recovery must cut.
func checkTruncations(t testing.TB, report partition.RecoveryReport, before, after, synced, torn map[string]int64) {
	t.Helper()
	reported := map[string]segment.Truncation{}
	for _, tr := range report.Truncated {
		_, dup := reported[tr.Path]
		require.False(t, dup, "%s truncated twice in one report", tr.Path)
		reported[tr.Path] = tr
	}
	for path, size := range before {
		newSize, ok := after[path]
		require.True(t, ok, "recovery deleted %s", path)
		require.GreaterOrEqual(t, newSize, synced[path], "recovery cut synced bytes of %s", path)
		tr, ok := reported[path]
		if newSize < size {
			require.True(t, ok, "%s cut from %d to %d bytes but the report does not say so: %+v", path, size, newSize, report.Truncated)
			require.Equal(t, newSize, tr.Position, "reported position of the cut in %s", path)
			require.Equal(t, size-newSize, tr.Bytes, "reported bytes cut from %s", path)
			require.NotEmpty(t, tr.Reason)
		} else {
			require.False(t, ok, "%s reported truncated (%+v) but not cut", path, tr)
		}
		if torn != nil && size > torn[path] {
			require.Less(t, newSize, size, "%s: the torn tail after byte %d was not cut", path, torn[path])
		}
	}
}

// opGate is an Injector that numbers the mutating operations made through it and
// holds the one numbered stopAt: it reports it on stopped and waits for release, so
// that the test can crash the file system exactly before that operation.
type opGate struct {
	count   atomic.Int64
	stopAt  atomic.Int64 // 0: hold nothing
	stopped chan string
	release chan struct{}
}

func newOpGate() *opGate {
	return &opGate{stopped: make(chan string, 1), release: make(chan struct{})}
}

func (g *opGate) inject(op vfs.Op, path string) *vfs.Fault {
	switch op {
	case vfs.OpOpen, vfs.OpWrite, vfs.OpSync, vfs.OpTruncate, vfs.OpRemove, vfs.OpRename, vfs.OpSyncDir, vfs.OpMkdir:
	default:
		return nil
	}
	n := g.count.Add(1)
	if stop := g.stopAt.Load(); stop != 0 && n == stop {
		g.stopped <- fmt.Sprintf("%v %s (operation %d)", op, path, n)
		<-g.release
	}
	return nil
}

// arm makes the gate hold the n-th mutating operation from now.
func (g *opGate) arm(n int64) { g.stopAt.Store(g.count.Load() + n) }

// disarm makes the gate hold nothing, if it has not held an operation yet.
func (g *opGate) disarm() { g.stopAt.Store(0) }

// recordFiller is the deterministic padding of record values.
var recordFiller = strings.Repeat("abcdefghijklmnopqrstuvwxyz", 20)

// randomBatch returns 1-6 records whose values are unique (writer, sequence, index)
// with up to 300 bytes of padding.
func randomBatch(rng *rand.Rand, writer, seq int) []partition.Record {
	records := make([]partition.Record, 1+rng.IntN(6))
	for i := range records {
		records[i] = partition.Record{
			Key:       []byte(fmt.Sprintf("k%d", rng.IntN(10))),
			Value:     []byte(fmt.Sprintf("w%d/a%d/r%d/%s", writer, seq, i, recordFiller[:rng.IntN(300)])),
			Timestamp: 1_700_000_000_000 + int64(seq),
		}
	}
	return records
}

// crashOptions are the options of the randomized crash tests: the default sync policy
// (fsync before every acknowledgement), 8 KiB segments so that rolls happen, and dense
// indexes.
func crashOptions() partition.Options {
	return partition.Options{SegmentBytes: 8 << 10, IndexIntervalBytes: 1024}
}

// TestCrashRecovery crashes a partition before a random mutating file operation (an
// append's write or fsync, a roll's index flush, segment creation, directory fsync,
// checkpoint rename...) while four goroutines take turns appending, then recovers and
// checks what was acknowledged before the crash. The turns make the operations, and so
// the crash, a function of the seed. One run in three also crashes the recovery itself
// at a random operation and recovers again.
func TestCrashRecovery(t *testing.T) {
	n := seedCount(30, 300)
	for _, mode := range crashModes {
		t.Run(mode.String(), func(t *testing.T) {
			for i := range n {
				seed := int64(mode+1)*1_000_000 + int64(i)
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					crashAtOperation(t, mode, seed)
				})
			}
		})
	}
}

func crashAtOperation(t *testing.T, mode vfs.CrashMode, seed int64) {
	t.Logf("crash mode %v, seed %d", mode, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	fsys := vfs.NewCrashable()
	gate := newOpGate()
	opts := crashOptions()
	p, err := openAt(vfs.NewFaulty(fsys, gate.inject), opts)
	require.NoError(t, err)

	stopAt := 1 + rng.Int64N(400)
	gate.arm(stopAt)
	led := newAckLedger()
	ring := startTokenRing(t, p, rng, led, 4, 2000)
	var crashed, synced *vfs.CrashableFS
	var acked map[int64]string
	var attempted map[string]bool
	select {
	case op := <-gate.stopped:
		// One append is in flight, held before op; every append before it returned.
		t.Logf("crash before %s", op)
		acked, attempted = led.snapshot()
		synced = fsys.Crash(vfs.DropUnsynced, seed)
		crashed = fsys.Crash(mode, seed)
		ring.halt()
		close(gate.release)
	case <-ring.done:
		gate.disarm()
		acked, attempted = led.snapshot()
		t.Logf("crash after the last append")
		synced = fsys.Crash(vfs.DropUnsynced, seed)
		crashed = fsys.Crash(mode, seed)
	case <-ring.exited:
		t.Fatal("the writers stopped early")
	}
	ring.wait()
	require.NoError(t, p.Close())
	_, attempted = led.snapshot() // an append attempted after the snapshot may be in the crash too
	t.Logf("%d offsets acknowledged before the crash", len(acked))

	durable := diskLogSizes(t, synced)
	torn := durable
	if rng.IntN(3) == 0 {
		crashed, synced = crashDuringRecovery(t, crashed, opts, mode, seed+1, 1+rng.Int64N(40))
		torn = diskLogSizes(t, synced)
	}
	if mode != vfs.TearGarbage && mode != vfs.TearZeros {
		torn = nil
	}

	before := diskLogSizes(t, crashed)
	q, err := openAt(crashed, opts)
	require.NoError(t, err)
	report := q.RecoveryReport()
	require.False(t, report.CleanShutdown)
	checkTruncations(t, report, before, diskLogSizes(t, crashed), durable, torn)
	count := verifyRecovered(t, q, acked, attempted)
	appendAfterRecovery(t, q)
	require.NoError(t, q.Close())

	q, err = openAt(crashed, opts)
	require.NoError(t, err)
	defer q.Close()
	require.True(t, q.RecoveryReport().CleanShutdown)
	require.Empty(t, q.RecoveryReport().Truncated)
	require.Equal(t, count+1, q.EndOffset())
	acked[count] = "after-recovery"
	attempted["after-recovery"] = true
	verifyRecovered(t, q, acked, attempted)
}

// crashDuringRecovery opens the partition on fsys and crashes it before the n-th
// mutating operation of the recovery, if the recovery gets that far; it returns the
// file system to recover next, and what that crash kept for sure.
func crashDuringRecovery(t *testing.T, fsys *vfs.CrashableFS, opts partition.Options, mode vfs.CrashMode, seed, n int64) (crashed, synced *vfs.CrashableFS) {
	gate := newOpGate()
	gate.arm(n)
	type result struct {
		p   *partition.Partition
		err error
	}
	opened := make(chan result, 1)
	go func() {
		p, err := openAt(vfs.NewFaulty(fsys, gate.inject), opts)
		opened <- result{p, err}
	}()
	var res result
	select {
	case op := <-gate.stopped:
		t.Logf("recovery crashed before %s (seed %d)", op, seed)
		synced, crashed = fsys.Crash(vfs.DropUnsynced, seed), fsys.Crash(mode, seed)
		close(gate.release)
		res = <-opened
	case res = <-opened:
		gate.disarm()
		t.Logf("recovery finished in fewer than %d operations; crash after it (seed %d)", n, seed)
		synced, crashed = fsys.Crash(vfs.DropUnsynced, seed), fsys.Crash(mode, seed)
	}
	require.NoError(t, res.err)
	require.NoError(t, res.p.Close())
	return crashed, synced
}

// tokenRing runs writers that take turns appending random batches: writer i appends
// when it holds the token, then passes it to writer i+1. Only one append is ever in
// flight, so the sequence of file operations depends on the seed alone.
type tokenRing struct {
	turns   []chan struct{}
	stop    atomic.Bool
	done    chan struct{} // closed when the writers made max appends
	exited  chan struct{} // closed when every writer has returned
	stopped sync.WaitGroup
}

func startTokenRing(t *testing.T, p *partition.Partition, rng *rand.Rand, led *ackLedger, writers, max int) *tokenRing {
	r := &tokenRing{turns: make([]chan struct{}, writers), done: make(chan struct{}), exited: make(chan struct{})}
	for i := range r.turns {
		r.turns[i] = make(chan struct{}, 1)
	}
	appends := 0
	for w := range writers {
		r.stopped.Add(1)
		go func() {
			defer r.stopped.Done()
			next := r.turns[(w+1)%writers]
			for range r.turns[w] {
				if r.stop.Load() || appends == max {
					next <- struct{}{}
					return
				}
				records := randomBatch(rng, w, appends)
				appends++
				led.attempt(records)
				base, err := p.Append(context.Background(), records)
				if err != nil {
					t.Errorf("writer %d: append: %v", w, err)
					r.stop.Store(true)
				} else {
					led.ack(base, records)
				}
				if appends == max {
					close(r.done)
				}
				next <- struct{}{}
			}
		}()
	}
	r.turns[0] <- struct{}{}
	go func() {
		r.stopped.Wait()
		close(r.exited)
	}()
	return r
}

// halt makes every writer stop at its next turn.
func (r *tokenRing) halt() { r.stop.Store(true) }

// wait halts the writers and waits until they have stopped.
func (r *tokenRing) wait() {
	r.halt()
	r.stopped.Wait()
}

// TestCrashDuringConcurrentAppends crashes a partition while four goroutines append
// at once and share fsyncs (group commit), after a random number of acknowledgements.
// The goroutines' interleaving is up to the scheduler, so the seed replays the crash
// point and the tearing, not the exact file content; the checks hold for any
// interleaving.
func TestCrashDuringConcurrentAppends(t *testing.T) {
	n := seedCount(10, 100)
	for _, mode := range crashModes {
		t.Run(mode.String(), func(t *testing.T) {
			for i := range n {
				seed := int64(mode+1)*2_000_000 + int64(i)
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					crashConcurrent(t, mode, seed)
				})
			}
		})
	}
}

func crashConcurrent(t *testing.T, mode vfs.CrashMode, seed int64) {
	t.Logf("crash mode %v, seed %d", mode, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc0c0))
	fsys := vfs.NewCrashable()
	opts := crashOptions()
	p, err := openAt(fsys, opts)
	require.NoError(t, err)

	const writers = 4
	crashAfter := 20 + rng.IntN(300)
	led := newAckLedger()
	var acks atomic.Int64
	reached := make(chan struct{})
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range writers {
		wrng := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; !stop.Load(); seq++ {
				records := randomBatch(wrng, w, seq)
				led.attempt(records)
				base, err := p.Append(context.Background(), records)
				if err != nil {
					t.Errorf("writer %d: append: %v", w, err)
					return
				}
				led.ack(base, records)
				if acks.Add(1) == int64(crashAfter) {
					close(reached)
				}
			}
		}()
	}
	exited := make(chan struct{})
	go func() {
		wg.Wait()
		close(exited)
	}()
	select {
	case <-reached:
	case <-exited:
		t.Fatal("the writers stopped early")
	}
	acked, attempted := led.snapshot()
	// synced is taken first: what is synced only grows, so its sizes are a lower
	// bound of what the crash below keeps for sure.
	synced := fsys.Crash(vfs.DropUnsynced, seed)
	crashed := fsys.Crash(mode, seed)
	stop.Store(true)
	wg.Wait()
	require.NoError(t, p.Close())
	_, attempted = led.snapshot() // an append attempted after the snapshot may be in the crash too
	t.Logf("crash after %d acknowledged appends (%d offsets)", crashAfter, len(acked))

	before := diskLogSizes(t, crashed)
	q, err := openAt(crashed, opts)
	require.NoError(t, err)
	defer q.Close()
	report := q.RecoveryReport()
	require.False(t, report.CleanShutdown)
	checkTruncations(t, report, before, diskLogSizes(t, crashed), diskLogSizes(t, synced), nil)
	verifyRecovered(t, q, acked, attempted)
	appendAfterRecovery(t, q)
}

// afterFS wraps a file system and calls after(op, path) once a file's WriteAt or Sync
// has returned: the hook that the Injector of vfs.NewFaulty, called before each
// operation, cannot give.
type afterFS struct {
	vfs.FS
	after func(op vfs.Op, path string)
}

func (a *afterFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := a.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &afterFile{File: f, after: a.after}, nil
}

type afterFile struct {
	vfs.File
	after func(op vfs.Op, path string)
}

func (f *afterFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	f.after(vfs.OpWrite, f.Name())
	return n, err
}

func (f *afterFile) Sync() error {
	err := f.File.Sync()
	f.after(vfs.OpSync, f.Name())
	return err
}

// TestCrashGroupCommit lines up a group commit by hand: the leader's fsync has
// completed but the leader has not yet marked anything durable, and meanwhile 1-6
// appenders write their batches, which that fsync did not cover. Then everyone is let
// go, and the file system crashes once every append has returned (or, one run in
// three, before: while the leader is held). An appender acknowledged by an fsync that
// did not cover its batch loses it in the crash.
func TestCrashGroupCommit(t *testing.T) {
	n := seedCount(10, 100)
	for _, mode := range crashModes {
		t.Run(mode.String(), func(t *testing.T) {
			for i := range n {
				seed := int64(mode+1)*3_000_000 + int64(i)
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					crashGroupCommit(t, mode, seed)
				})
			}
		})
	}
}

func crashGroupCommit(t *testing.T, mode vfs.CrashMode, seed int64) {
	t.Logf("crash mode %v, seed %d", mode, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6c))
	fsys := vfs.NewCrashable()
	// holdSync holds the first .log fsync after a .log write: the leader's group
	// commit, not the fsync of the old segment when the leader's append rolls.
	var holdSync, leaderWrote, watchWrites atomic.Bool
	synced, resume := make(chan struct{}), make(chan struct{})
	written := make(chan struct{}, 1)
	after := func(op vfs.Op, path string) {
		if !strings.HasSuffix(path, segment.LogSuffix) {
			return
		}
		switch {
		case op == vfs.OpWrite && holdSync.Load():
			leaderWrote.Store(true)
		case op == vfs.OpSync && leaderWrote.Load() && holdSync.CompareAndSwap(true, false):
			synced <- struct{}{}
			<-resume
		case op == vfs.OpWrite && watchWrites.Load():
			written <- struct{}{}
		}
	}
	opts := crashOptions()
	// No roll while the leader is held: a roll seals the active segment only after
	// the group commit's fsync (TestRollDoesNotAckAfterFailedFsync), so a waiter that
	// had to roll could not write until the leader is released.
	opts.SegmentBytes = 64 << 20
	p, err := openAt(&afterFS{FS: fsys, after: after}, opts)
	require.NoError(t, err)
	defer p.Close()
	led := newAckLedger()
	appendRandom := func(writer, seq int) ([]partition.Record, int64, error) {
		records := randomBatch(rng, writer, seq)
		led.attempt(records)
		base, err := p.Append(context.Background(), records)
		return records, base, err
	}
	for seq := range rng.IntN(150) {
		records, base, err := appendRandom(0, seq)
		require.NoError(t, err)
		led.ack(base, records)
	}

	type result struct {
		records []partition.Record
		base    int64
		err     error
	}
	results := make(chan result, 8)
	holdSync.Store(true)
	go func() {
		records, base, err := appendRandom(1, 0)
		results <- result{records, base, err}
	}()
	<-synced // the leader's fsync returned; the leader is held before it marks anything
	waiters := 1 + rng.IntN(6)
	watchWrites.Store(true)
	for w := range waiters {
		// rng is used by one goroutine at a time: this one waits for the write.
		go func() {
			records, base, err := appendRandom(2+w, 0)
			results <- result{records, base, err}
		}()
		select {
		case <-written: // its batch is written, after the leader's fsync
		case r := <-results:
			t.Fatalf("an append returned while the leader was held: %d, %v", r.base, r.err)
		}
	}
	watchWrites.Store(false)
	crashWhileHeld := rng.IntN(3) == 0
	var acked map[int64]string
	var crashed, lowerBound *vfs.CrashableFS
	if crashWhileHeld {
		acked, _ = led.snapshot()
		lowerBound, crashed = fsys.Crash(vfs.DropUnsynced, seed), fsys.Crash(mode, seed)
	}
	close(resume)
	for range waiters + 1 {
		r := <-results
		require.NoError(t, r.err)
		led.ack(r.base, r.records)
	}
	if !crashWhileHeld {
		acked, _ = led.snapshot()
		lowerBound, crashed = fsys.Crash(vfs.DropUnsynced, seed), fsys.Crash(mode, seed)
	}
	_, attempted := led.snapshot()
	t.Logf("%d waiters, crash while the leader is held: %v, %d offsets acknowledged", waiters, crashWhileHeld, len(acked))

	before := diskLogSizes(t, crashed)
	q, err := openAt(crashed, opts)
	require.NoError(t, err)
	defer q.Close()
	var torn map[string]int64
	if mode == vfs.TearGarbage || mode == vfs.TearZeros {
		torn = diskLogSizes(t, lowerBound)
	}
	checkTruncations(t, q.RecoveryReport(), before, diskLogSizes(t, crashed), diskLogSizes(t, lowerBound), torn)
	verifyRecovered(t, q, acked, attempted)
	appendAfterRecovery(t, q)
}

// TestCrashKeepsDirectoriesOpenCreated: Open creates the partition directory and any
// missing parent, "durably". A crash right after appends were acknowledged must not
// lose the directories, and with them the log.
func TestCrashKeepsDirectoriesOpenCreated(t *testing.T) {
	fsys := vfs.NewCrashable() // /data does not exist: Open creates /data/orders-0
	p := open(t, fsys, partition.Options{})
	appendN(t, p, 10, 5)
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())

	q := open(t, crashed, partition.Options{})
	defer q.Close()
	require.Equal(t, int64(10), q.EndOffset(), "acknowledged records lost with the directory /data, whose entry in / was never fsynced")
	readAll(t, q, 0)
}

// TestCrashSyncNoneCloseIsDurable: under SyncNone nothing is fsynced per append, but
// Close fsyncs everything: a crash after Close loses nothing.
func TestCrashSyncNoneCloseIsDurable(t *testing.T) {
	for _, mode := range crashModes {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			opts := partition.Options{SegmentBytes: 8 << 10, Sync: partition.SyncPolicy{Mode: partition.SyncNone}}
			p := open(t, fsys, opts)
			appendN(t, p, 2000, 7)
			require.Greater(t, p.Stats().Segments, 3)
			require.NoError(t, p.Close())
			require.Zero(t, fsys.UnsyncedBytes(), "Close left unsynced bytes")
			seed := int64(mode) + 7
			t.Logf("crash seed %d", seed)
			q := open(t, fsys.Crash(mode, seed), opts)
			defer q.Close()
			require.True(t, q.RecoveryReport().CleanShutdown)
			require.Equal(t, int64(2000), readAll(t, q, 0))
		})
	}
}

// closedPartition writes 4000 records (several 16 KiB segments) through a partition
// on a new MemFS and closes it cleanly.
func closedPartition(t testing.TB) (*vfs.MemFS, partition.Options) {
	t.Helper()
	fsys := vfs.NewMem()
	opts := partition.Options{SegmentBytes: 16 << 10}
	p := open(t, fsys, opts)
	appendN(t, p, 4000, 5)
	require.NoError(t, p.Close())
	require.Greater(t, len(diskSegmentBases(t, fsys)), 3)
	return fsys, opts
}

// tornTails are bytes found after the last whole batch of a .log.
func tornTails(t testing.TB, next int64) map[string][]byte {
	valid := encodeBatch(t, next, partition.Record{Value: bytes.Repeat([]byte("v"), 300), Timestamp: 5})
	garbage := make([]byte, 700)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	return map[string][]byte{
		"garbage":        garbage,
		"zeros":          make([]byte, 512),
		"half-batch":     valid[:len(valid)/2],
		"partial-header": valid[:segment.BatchHeaderSize-1],
		"one-byte":       {0},
	}
}

// TestTornTailAfterCleanShutdown: bytes after the last batch of a partition that was
// closed cleanly were not written by strata (Close fsynced everything and recorded
// it): Open refuses them as corruption naming the file and where they start, and
// leaves the file alone, instead of silently cutting them.
func TestTornTailAfterCleanShutdown(t *testing.T) {
	for name, tail := range tornTails(t, 4000) {
		t.Run(name, func(t *testing.T) {
			fsys, opts := closedPartition(t)
			bases := diskSegmentBases(t, fsys)
			last := segment.LogPath(partitionDir, bases[len(bases)-1])
			size := diskSize(t, fsys, last)
			diskAppend(t, fsys, last, tail)

			_, err := openAt(fsys, opts)
			require.ErrorIs(t, err, partition.ErrCorrupt)
			var corrupt *partition.CorruptError
			require.ErrorAs(t, err, &corrupt)
			require.Equal(t, last, corrupt.Path)
			require.Equal(t, size, corrupt.Position, "the error names where the unknown bytes start")
			require.Equal(t, size+int64(len(tail)), diskSize(t, fsys, last), "Open must not cut the file")
		})
	}
}

// crashedPartition writes 4000 records (several 16 KiB segments) through a partition
// on a CrashableFS and returns the file system a crash leaves (nothing was lost: every
// append was fsynced).
func crashedPartition(t testing.TB) (*vfs.CrashableFS, partition.Options) {
	t.Helper()
	fsys := vfs.NewCrashable()
	opts := partition.Options{SegmentBytes: 16 << 10}
	p := open(t, fsys, opts)
	appendN(t, p, 4000, 5)
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	require.NoError(t, p.Close())
	require.Greater(t, len(diskSegmentBases(t, crashed)), 3)
	return crashed, opts
}

// TestTornTailAfterCrash: the same tails after an unclean shutdown are a torn append:
// recovery cuts exactly them and reports it.
func TestTornTailAfterCrash(t *testing.T) {
	for name, tail := range tornTails(t, 4000) {
		t.Run(name, func(t *testing.T) {
			fsys, opts := crashedPartition(t)
			bases := diskSegmentBases(t, fsys)
			last := segment.LogPath(partitionDir, bases[len(bases)-1])
			size := diskSize(t, fsys, last)
			diskAppend(t, fsys, last, tail)

			p, err := openAt(fsys, opts)
			require.NoError(t, err)
			defer p.Close()
			report := p.RecoveryReport()
			require.False(t, report.CleanShutdown)
			require.Len(t, report.Truncated, 1)
			require.Equal(t, segment.Truncation{Path: last, Position: size, Bytes: int64(len(tail)), Reason: report.Truncated[0].Reason}, report.Truncated[0])
			require.Equal(t, size, diskSize(t, fsys, last))
			require.Equal(t, int64(4000), readAll(t, p, 0))
			appendN(t, p, 10, 3)
		})
	}
}

// checkLocateOnDisk checks Locate against the bytes on disk for a spread of offsets.
func checkLocateOnDisk(t testing.TB, fsys vfs.FS, p *partition.Partition) {
	t.Helper()
	end := p.EndOffset()
	for _, o := range []int64{0, 1, end / 7, end / 3, end / 2, end - end/5, end - 2, end - 1} {
		loc, err := p.Locate(o)
		require.NoError(t, err, "Locate(%d)", o)
		require.LessOrEqual(t, loc.BatchBase, o)
		require.GreaterOrEqual(t, loc.BatchLast, o)
		require.LessOrEqual(t, loc.Base, loc.IndexEntry)
		require.LessOrEqual(t, loc.IndexEntry, o)
		header := make([]byte, segment.BatchHeaderSize)
		f, err := fsys.OpenFile(loc.Path, os.O_RDONLY, 0)
		require.NoError(t, err)
		_, err = f.ReadAt(header, loc.Position)
		require.NoError(t, f.Close())
		require.NoError(t, err)
		h, err := segment.ParseBatchHeader(header, segment.DefaultMaxBatchBytes)
		require.NoError(t, err)
		require.Equal(t, loc.BatchBase, h.BaseOffset, "Locate(%d): no such batch at %s:%d", o, loc.Path, loc.Position)
		require.Equal(t, loc.BatchLast, h.LastOffset())
	}
}

// checkIndexesOnDisk opens every segment's index files directly: both must load (no
// structural damage), every offset entry must name the last offset of the batch at
// its position, and a segment of several index intervals must have entries.
func checkIndexesOnDisk(t testing.TB, fsys vfs.FS) {
	t.Helper()
	for _, base := range diskSegmentBases(t, fsys) {
		logPath := segment.LogPath(partitionDir, base)
		data := diskRead(t, fsys, logPath)
		offsets, err := index.OpenOffsetIndex(fsys, segment.IndexPath(partitionDir, base), base, int64(len(data)), nil)
		require.NoError(t, err, "%s", segment.IndexPath(partitionDir, base))
		for i := range offsets.Len() {
			o, pos := offsets.Entry(i)
			h, err := segment.ParseBatchHeader(data[pos:], segment.DefaultMaxBatchBytes)
			require.NoError(t, err)
			require.Equal(t, o, h.LastOffset(), "index entry %d of %s", i, offsets.Path())
		}
		if len(data) > 3*segment.DefaultIndexIntervalBytes {
			require.Positive(t, offsets.Len(), "%s has no entry for %d bytes of log", offsets.Path(), len(data))
		}
		require.NoError(t, offsets.Close())
		times, err := index.OpenTimeIndex(fsys, segment.TimeIndexPath(partitionDir, base), base, nil)
		require.NoError(t, err, "%s", segment.TimeIndexPath(partitionDir, base))
		require.NoError(t, times.Close())
	}
}

// TestDamagedIndexesAreRebuilt: an index is a cache of its .log. Deleted, cut to a
// partial entry, overwritten with garbage or zero-padded, it is rebuilt on Open (of a
// cleanly closed partition, whose segments Open otherwise trusts), lookups stay
// correct, and the rebuilt file is itself valid on the next Open.
func TestDamagedIndexesAreRebuilt(t *testing.T) {
	damages := map[string]func(t testing.TB, fsys vfs.FS, path string){
		"delete": func(t testing.TB, fsys vfs.FS, path string) { require.NoError(t, fsys.Remove(path)) },
		"partial-entry": func(t testing.TB, fsys vfs.FS, path string) {
			data := diskRead(t, fsys, path)
			require.GreaterOrEqual(t, len(data), 8)
			diskReplace(t, fsys, path, data[:len(data)-3])
		},
		"garbage": func(t testing.TB, fsys vfs.FS, path string) {
			data := diskRead(t, fsys, path)
			rng := rand.New(rand.NewPCG(3, 3))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			diskReplace(t, fsys, path, data)
		},
		"zero-pad-10KiB": func(t testing.TB, fsys vfs.FS, path string) {
			diskAppend(t, fsys, path, make([]byte, 10<<10))
		},
		"empty": func(t testing.TB, fsys vfs.FS, path string) { diskReplace(t, fsys, path, nil) },
	}
	for _, suffix := range []string{segment.IndexSuffix, segment.TimeIndexSuffix} {
		for name, damage := range damages {
			for _, which := range []string{"first", "last"} {
				t.Run(fmt.Sprintf("%s/%s/%s", suffix[1:], name, which), func(t *testing.T) {
					fsys, opts := closedPartition(t)
					bases := diskSegmentBases(t, fsys)
					base := bases[0]
					if which == "last" {
						base = bases[len(bases)-1]
					}
					path := filepath.Join(partitionDir, segment.FileName(base, suffix))
					original := diskRead(t, fsys, path)
					require.NotEmpty(t, original)
					damage(t, fsys, path)

					p, err := openAt(fsys, opts)
					require.NoError(t, err)
					require.Equal(t, int64(4000), readAll(t, p, 0))
					checkLocateOnDisk(t, fsys, p)
					require.NoError(t, p.Close())
					checkIndexesOnDisk(t, fsys)
					if suffix == segment.IndexSuffix {
						require.Equal(t, original, diskRead(t, fsys, path), "the rebuilt index differs from the one appends built")
					}

					p, err = openAt(fsys, opts)
					require.NoError(t, err)
					defer p.Close()
					require.Equal(t, int64(4000), readAll(t, p, 0))
					checkLocateOnDisk(t, fsys, p)
				})
			}
		}
	}
}

// TestMissingTimeIndexIsRebuilt: a segment whose .timeindex is gone (deleted, or lost
// in a crash with its directory entry) must not report a smaller greatest timestamp
// than it holds: OffsetForTime would skip its records, and retention by age would
// delete it early. Timestamps come from producers and need not rise; here the
// segment's first record is its newest.
func TestMissingTimeIndexIsRebuilt(t *testing.T) {
	for _, damage := range []string{"delete", "empty"} {
		t.Run(damage, func(t *testing.T) {
			fsys := vfs.NewMem()
			opts := partition.Options{SegmentBytes: 16 << 10}
			p := open(t, fsys, opts)
			const newest = 9_000_000
			_, err := p.Append(context.Background(), []partition.Record{{Value: value(0), Timestamp: newest}})
			require.NoError(t, err)
			appendN(t, p, 3999, 5) // timestamps 1000+o, far below newest
			require.NoError(t, p.Close())
			path := segment.TimeIndexPath(partitionDir, 0)
			if damage == "delete" {
				require.NoError(t, fsys.Remove(path))
			} else {
				diskReplace(t, fsys, path, nil)
			}

			p = open(t, fsys, opts)
			defer p.Close()
			offset, found, err := p.OffsetForTime(newest)
			require.NoError(t, err)
			require.True(t, found, "the record with timestamp %d at offset 0 is not found after the .timeindex of its segment was lost", newest)
			require.Equal(t, int64(0), offset)
		})
	}
}

// diskFlipByte flips the bits of the byte at pos in the file at path.
func diskFlipByte(t testing.TB, fsys vfs.FS, path string, pos int64) {
	t.Helper()
	b := make([]byte, 1)
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.ReadAt(b, pos)
	require.NoError(t, err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b, pos)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

// recordBytePosition returns the position of a byte inside the records (not the
// header) of a batch near the middle of the .log at path.
func recordBytePosition(t testing.TB, fsys vfs.FS, path string) int64 {
	t.Helper()
	data := diskRead(t, fsys, path)
	var pos int64
	for pos < int64(len(data))/2 {
		h, err := segment.ParseBatchHeader(data[pos:], segment.DefaultMaxBatchBytes)
		require.NoError(t, err)
		pos += int64(h.Size())
	}
	return pos + segment.BatchHeaderSize + 10
}

// requireCorruptAt checks that err is a *CorruptError about path at or before pos.
func requireCorruptAt(t testing.TB, err error, path string, pos int64) {
	t.Helper()
	require.ErrorIs(t, err, partition.ErrCorrupt)
	var corrupt *partition.CorruptError
	require.ErrorAs(t, err, &corrupt)
	require.Equal(t, path, corrupt.Path)
	require.LessOrEqual(t, corrupt.Position, pos)
	require.Greater(t, corrupt.Position, pos-segment.DefaultMaxBatchBytes)
}

// TestCorruptSealedSegment: a flipped byte in the records of a sealed segment is bit
// rot in fsynced data, not a torn write. It is reported as a *CorruptError naming the
// file and a position at or before the byte — by Open when the recovery point says the
// segment must be verified, otherwise by Verify and by reads — and a segment that is
// not the last is never truncated.
func TestCorruptSealedSegment(t *testing.T) {
	for _, shutdown := range []string{"clean", "crash", "crash-recovery-point-0"} {
		t.Run(shutdown, func(t *testing.T) {
			var fsys vfs.FS
			var opts partition.Options
			if shutdown == "clean" {
				fsys, opts = closedPartition(t)
			} else {
				fsys, opts = crashedPartition(t)
			}
			if shutdown == "crash-recovery-point-0" {
				diskWriteCheckpoint(t, fsys, 0, 0, false)
			}
			sizes := diskLogSizes(t, fsys)
			first := segment.LogPath(partitionDir, 0)
			pos := recordBytePosition(t, fsys, first)
			diskFlipByte(t, fsys, first, pos)

			p, err := openAt(fsys, opts)
			if shutdown != "crash-recovery-point-0" {
				// A segment below the recovery point was fsynced: Open trusts it
				// without reading it all (as Kafka does). The flipped byte is not
				// hidden: Verify and every read of it report the file and position.
				require.NoError(t, err)
				defer p.Close()
				requireCorruptAt(t, p.Verify(context.Background()), first, pos)
				var readErr error
				for o := int64(0); readErr == nil && o < p.EndOffset(); o += 50 {
					_, readErr = p.Read(o, 0, 1<<20)
				}
				requireCorruptAt(t, readErr, first, pos)
				require.Equal(t, sizes, diskLogSizes(t, fsys), "no segment may be truncated")
				return
			}
			requireCorruptAt(t, err, first, pos)
			require.Equal(t, sizes, diskLogSizes(t, fsys), "no segment may be truncated")
		})
	}
}

// TestReadCorruptBatchNamesFile: a read that meets a batch whose CRC does not match
// returns a *CorruptError naming the .log file and the byte position of the batch, as
// every CorruptError must (errs.CorruptError: "file holding the bad bytes", "byte
// position in the file").
func TestReadCorruptBatchNamesFile(t *testing.T) {
	fsys, opts := closedPartition(t)
	first := segment.LogPath(partitionDir, 0)
	pos := recordBytePosition(t, fsys, first)
	p, err := openAt(fsys, opts)
	require.NoError(t, err)
	defer p.Close()
	diskFlipByte(t, fsys, first, pos) // after Open: only the read can see it
	var readErr error
	for o := int64(0); readErr == nil && o < p.EndOffset(); o += 50 {
		_, readErr = p.Read(o, 0, 1<<20)
	}
	requireCorruptAt(t, readErr, first, pos)
}

// TestHugeLengthFieldIsRefused: a batch header claiming 369296128 bytes (what a TLS
// handshake reads as) at the tail of the log is refused before anything is allocated
// for it: corruption after a clean shutdown, a torn tail after a crash.
func TestHugeLengthFieldIsRefused(t *testing.T) {
	const hugeLength = 369296128
	header := encodeBatch(t, 4000, partition.Record{Value: []byte("x"), Timestamp: 1})[:segment.BatchHeaderSize]
	binary.BigEndian.PutUint32(header[8:], hugeLength)
	h, err := segment.ParseBatchHeader(header, 1<<31-1)
	require.NoError(t, err)
	require.Equal(t, int32(hugeLength), h.Length)

	for _, shutdown := range []string{"clean", "crash"} {
		t.Run(shutdown, func(t *testing.T) {
			var fsys vfs.FS
			var opts partition.Options
			if shutdown == "clean" {
				fsys, opts = closedPartition(t)
			} else {
				fsys, opts = crashedPartition(t)
			}
			bases := diskSegmentBases(t, fsys)
			last := segment.LogPath(partitionDir, bases[len(bases)-1])
			size := diskSize(t, fsys, last)
			diskAppend(t, fsys, last, header)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			p, err := openAt(fsys, opts)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("Open allocated %d bytes", allocated)
			require.Less(t, allocated, uint64(32<<20), "Open allocated for the length field")
			if shutdown == "clean" {
				requireCorruptAt(t, err, last, size)
				return
			}
			require.NoError(t, err)
			defer p.Close()
			require.Len(t, p.RecoveryReport().Truncated, 1)
			require.Equal(t, size, p.RecoveryReport().Truncated[0].Position)
			require.Equal(t, int64(4000), readAll(t, p, 0))
		})
	}
}

// TestLeftoverFilesRemoved: indexes without a .log (a crash in the middle of deleting
// a segment) and temporary files (a crash in the middle of replacing a checkpoint) are
// removed on Open and reported.
func TestLeftoverFilesRemoved(t *testing.T) {
	for _, shutdown := range []string{"clean", "crash"} {
		t.Run(shutdown, func(t *testing.T) {
			var fsys vfs.FS
			var opts partition.Options
			if shutdown == "clean" {
				fsys, opts = closedPartition(t)
			} else {
				fsys, opts = crashedPartition(t)
			}
			leftovers := []string{
				segment.FileName(99_999, segment.IndexSuffix),
				segment.FileName(99_999, segment.TimeIndexSuffix),
				segment.FileName(123_456, segment.IndexSuffix),
				partition.CheckpointFile + ".tmp",
				"00000000000000000000.log.tmp",
			}
			for _, name := range leftovers {
				diskReplace(t, fsys, filepath.Join(partitionDir, name), []byte("leftover"))
			}
			p, err := openAt(fsys, opts)
			require.NoError(t, err)
			defer p.Close()
			require.ElementsMatch(t, leftovers, p.RecoveryReport().RemovedFiles)
			names, err := fsys.ReadDir(partitionDir)
			require.NoError(t, err)
			for _, name := range leftovers {
				require.NotContains(t, names, name)
			}
			require.Equal(t, int64(4000), readAll(t, p, 0))
		})
	}
}
