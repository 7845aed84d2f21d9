package partition_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestModel is a model-based property test. A seeded random sequence of operations
// (appends through Append and AppendBatch, rolls, truncations, retention,
// DeleteRecordsBefore, Sync, clock moves, close and reopen with other options,
// crashes) drives both a real partition on an in-memory file system and modelLog, a
// plain in-memory description of what the partition must hold: its segments, their
// batches (the exact bytes) and records, the log start offset. After every operation
// the partition must equal the model: offsets, files, sizes, counters, Read,
// ReadBatches, a fresh Reader and a long-lived one that follows the tail, Locate,
// OffsetForTime, and ErrOffsetOutOfRange outside the log.
//
// The model mirrors the partition's rules exactly: roll when the active segment is
// not empty and the batch would make it exceed SegmentBytes or it is SegmentAge old;
// retention deletes the oldest sealed segments that are below the start offset, whose
// newest record is older than RetentionAge, or without which RetentionBytes are still
// kept; truncation removes whole batches; Open drops segments wholly below the start
// offset and takes the age of the active segment from its first batch.
//
// Even seeds run on vfs.NewMem, odd ones on vfs.NewCrashable, where a crash (any
// CrashMode) must keep every finished operation and every fsynced append: all of them
// under SyncEveryAppend; under SyncNone the active segment may lose batches appended
// since the last Sync, Roll or Open, and nothing else.
//
// Each seed runs as a subtest and logs itself. To replay one:
//
//	STRATA_SEED=7 go test -race ./partition/ -run TestModel
//
// STRATA_OPS sets the number of operations per seed (default 300); STRATA_LONG=1
// runs many more seeds and operations; STRATA_VERBOSE=1 logs every operation.
func TestModel(t *testing.T) {
	seeds, ops := modelSeeds(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runModel(t, seed, ops)
		})
	}
}

// modelSeeds returns the seeds and the number of operations per seed to run.
func modelSeeds(t *testing.T) (seeds []int64, ops int) {
	count, ops := 20, 300
	if os.Getenv("STRATA_LONG") != "" {
		count, ops = 200, 1000
	}
	if s := os.Getenv("STRATA_OPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("STRATA_OPS=%q: want a number of operations", s)
		}
		ops = n
	}
	if s := os.Getenv("STRATA_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("STRATA_SEED=%q: want an integer", s)
		}
		return []int64{seed}, ops
	}
	for seed := range int64(count) {
		seeds = append(seeds, seed+1)
	}
	return seeds, ops
}

// modelHarness runs one seed: the partition, its model, the clock and the history.
type modelHarness struct {
	t         *testing.T
	seed      int64
	rng       *rand.Rand
	fsys      vfs.FS
	crashable *vfs.CrashableFS // nil when the seed runs on vfs.NewMem
	opts      partition.Options
	p         *partition.Partition
	model     modelLog
	clock     atomic.Int64  // Unix nanoseconds, read by Options.Now
	producer  int64         // the producers' clock (ms), for record timestamps
	counters  modelCounters // what Stats must count since Open
	tail      *partition.Reader
	// cleanOpen is the last Open's CleanShutdown; wrote says an append happened
	// since, mayHaveWritten that another change (roll, truncation, retention) may
	// have. A crash reopens clean only if the last Open was clean and nothing changed
	// since: the partition writes nothing before its first change.
	cleanOpen, wrote, mayHaveWritten bool
	tailNext                         int64 // the offset the tail reader returns next
	op                               int
	history                          []string
	verbose                          bool
}

func runModel(t *testing.T, seed int64, ops int) {
	h := &modelHarness{
		t:       t,
		seed:    seed,
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		verbose: os.Getenv("STRATA_VERBOSE") != "",
		op:      -1,
	}
	t.Logf("seed %d, %d ops; replay: STRATA_SEED=%d STRATA_OPS=%d go test -race ./partition/ -run TestModel", seed, ops, seed, ops)
	h.clock.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	h.producer = h.now().UnixMilli()
	if seed%2 == 1 {
		h.crashable = vfs.NewCrashable()
		h.fsys = h.crashable
	} else {
		h.fsys = vfs.NewMem()
	}
	defer func() {
		if r := recover(); r != nil {
			h.fatalf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	defer func() {
		if h.p != nil {
			h.p.Close()
		}
	}()
	h.opts = h.randomOptions()
	h.record("open %s", describeOptions(&h.opts))
	h.openPartition()
	h.model = modelLog{segments: []*modelSegment{{base: 0}}, activeSince: h.now()}
	h.check()
	for h.op = 0; h.op < ops; h.op++ {
		h.step()
		h.check()
	}
	h.checkReader(h.model.start) // a last full scan
}

func (h *modelHarness) now() time.Time { return time.Unix(0, h.clock.Load()).UTC() }

// record adds an operation to the history printed on failure.
func (h *modelHarness) record(format string, args ...any) {
	line := fmt.Sprintf("op %d: ", h.op) + fmt.Sprintf(format, args...)
	h.history = append(h.history, line)
	if h.verbose {
		h.t.Log(line)
	}
}

// fatalf fails the seed, naming the seed, the operation and the recent history.
func (h *modelHarness) fatalf(format string, args ...any) {
	h.t.Helper()
	recent := h.history[max(0, len(h.history)-40):]
	h.t.Fatalf("seed %d, op %d: %s\nreplay: STRATA_SEED=%d STRATA_OPS=%d STRATA_VERBOSE=1 go test -race ./partition/ -run TestModel\nlast operations:\n  %s",
		h.seed, h.op, fmt.Sprintf(format, args...), h.seed, h.op+1, strings.Join(recent, "\n  "))
}

// noError, errorIs and equal fail the seed with a message formatted only on failure.
func (h *modelHarness) noError(err error, format string, args ...any) {
	h.t.Helper()
	if err != nil {
		h.fatalf("%s: unexpected error: %v", fmt.Sprintf(format, args...), err)
	}
}

func (h *modelHarness) errorIs(err, target error, format string, args ...any) {
	h.t.Helper()
	if !errors.Is(err, target) {
		h.fatalf("%s: got error %v, want %v", fmt.Sprintf(format, args...), err, target)
	}
}

func (h *modelHarness) equal(got, want any, format string, args ...any) {
	h.t.Helper()
	if !reflect.DeepEqual(got, want) {
		h.fatalf("%s: got %+v, want %+v", fmt.Sprintf(format, args...), got, want)
	}
}

// randomOptions returns options for an Open: small segments and index intervals so
// that rolls and index entries happen all the time, sometimes retention and a
// segment age.
func (h *modelHarness) randomOptions() partition.Options {
	o := partition.Options{
		SegmentBytes:       int64(1<<10 + h.rng.IntN(15<<10+1)),
		IndexIntervalBytes: 64 + h.rng.IntN(4096-64+1),
		Compression:        randomCompression(h.rng),
		Now:                h.now,
		FS:                 h.fsys,
	}
	if h.rng.IntN(3) == 0 {
		o.SegmentAge = time.Duration(10+h.rng.IntN(110)) * time.Minute
	}
	if h.rng.IntN(3) == 0 {
		o.RetentionBytes = o.SegmentBytes * int64(1+h.rng.IntN(6))
	}
	if h.rng.IntN(3) == 0 {
		o.RetentionAge = time.Duration(10+h.rng.IntN(170)) * time.Minute
	}
	// The sync policy changes when data is fsynced, not what is acknowledged and
	// readable. With crashes, SyncPeriodic is left out: its background fsyncs would
	// make what survives a crash depend on timing, not on the seed.
	switch h.rng.IntN(4) {
	case 0:
		o.Sync = partition.SyncPolicy{Mode: partition.SyncNone}
	case 1:
		if h.crashable == nil {
			o.Sync = partition.SyncPolicy{Mode: partition.SyncPeriodic, EveryRecords: 1 + h.rng.IntN(200)}
		}
	}
	return o
}

func describeOptions(o *partition.Options) string {
	return fmt.Sprintf("{SegmentBytes:%d IndexIntervalBytes:%d Compression:%v SegmentAge:%v RetentionBytes:%d RetentionAge:%v Sync:%v/%d}",
		o.SegmentBytes, o.IndexIntervalBytes, o.Compression, o.SegmentAge, o.RetentionBytes, o.RetentionAge, o.Sync.Mode, o.Sync.EveryRecords)
}

func randomCompression(rng *rand.Rand) segment.Compression {
	return []segment.Compression{segment.CompressionNone, segment.CompressionGzip, segment.CompressionSnappy, segment.CompressionZstd}[rng.IntN(4)]
}

func (h *modelHarness) openPartition() {
	h.t.Helper()
	h.opts.FS = h.fsys
	p, err := partition.Open(modelDir, &h.opts)
	h.noError(err, "Open")
	h.p = p
	h.counters = modelCounters{}
	h.tail = nil
}

// step runs one random operation on the partition and the model.
func (h *modelHarness) step() {
	switch r := h.rng.IntN(100); {
	case r < 34:
		h.wrote = true
		h.appendRecords()
	case r < 50:
		h.wrote = true
		h.appendBatch()
	case r < 55:
		h.mayHaveWritten = true
		h.roll()
	case r < 61:
		h.mayHaveWritten = true
		h.truncate()
	case r < 66:
		h.mayHaveWritten = true
		h.applyRetention()
	case r < 72:
		h.mayHaveWritten = true
		h.deleteRecordsBefore()
	case r < 77:
		h.reopen()
	case r < 82 && h.crashable != nil:
		h.crash()
	case r < 90:
		h.advanceClock()
	case r < 92:
		h.sync()
	default:
		h.invalidAppend()
	}
}

// randomRecords returns n records with keys, values and headers of many shapes (nil,
// empty, short, long) and timestamps that mostly rise but sometimes fall. zeroTime
// allows a zero timestamp (Append replaces it with the current time).
func (h *modelHarness) randomRecords(n int, zeroTime bool) []partition.Record {
	rng := h.rng
	switch r := rng.IntN(20); {
	case r == 0:
		h.producer -= 1 + rng.Int64N(24*3600*1000) // a producer with a clock far behind
	case r < 4:
		h.producer -= 1 + rng.Int64N(5000)
	default:
		h.producer = max(h.producer, h.now().UnixMilli()-rng.Int64N(1000)) + rng.Int64N(100)
	}
	h.producer = max(h.producer, 1)
	ts := h.producer
	records := make([]partition.Record, n)
	for i := range records {
		r := &records[i]
		r.Key = h.randomBytes(16)
		r.Value = h.randomBytes(64)
		if rng.IntN(3) == 0 {
			for range 1 + rng.IntN(3) {
				key := []string{"trace-id", "h", "", "content-type"}[rng.IntN(4)]
				r.Headers = append(r.Headers, partition.Header{Key: key, Value: h.randomBytes(8)})
			}
		}
		if rng.IntN(10) == 0 {
			ts = max(1, ts-rng.Int64N(10_000))
		} else {
			ts += rng.Int64N(5)
		}
		r.Timestamp = ts
		if zeroTime && rng.IntN(15) == 0 {
			r.Timestamp = 0
		}
	}
	return records
}

// randomBytes returns nil, an empty slice, or compressible bytes mostly shorter than
// typical, sometimes long.
func (h *modelHarness) randomBytes(typical int) []byte {
	rng := h.rng
	switch r := rng.IntN(20); {
	case r < 2:
		return nil
	case r < 4:
		return []byte{}
	case r < 5:
		typical = 2000
	}
	b := make([]byte, 1+rng.IntN(typical))
	for i := range b {
		b[i] = "abcdefgh"[rng.IntN(8)]
	}
	return b
}

func (h *modelHarness) recordCount() int {
	if h.rng.IntN(2) == 0 {
		return 1 + h.rng.IntN(5)
	}
	return 1 + h.rng.IntN(50)
}

// appendRecords appends through Append, encoding the batch it expects the same way.
func (h *modelHarness) appendRecords() {
	records := h.randomRecords(h.recordCount(), true)
	original := make([]partition.Record, len(records))
	for i, r := range records {
		original[i] = cloneModelRecord(r)
	}
	filled := make([]partition.Record, len(records))
	for i, r := range records {
		filled[i] = r
		if r.Timestamp == 0 {
			filled[i].Timestamp = h.now().UnixMilli()
		}
	}
	encoded, err := segment.AppendBatch(nil, filled, &segment.BatchOptions{Compression: h.opts.Compression})
	h.noError(err, "segment.AppendBatch")
	h.record("Append(%d records, %d bytes %v) at end %d", len(records), len(encoded), h.opts.Compression, h.model.end())
	base, err := h.p.Append(context.Background(), records)
	h.noError(err, "Append")
	want := h.model.append(&h.opts, h.now(), filled, encoded, false)
	h.appended(len(records), len(encoded))
	h.equal(base, want, "Append base offset")
	h.equal(records, original, "Append modified the caller's records")
}

// appendBatch appends a batch built by segment.AppendBatch with random batch options.
func (h *modelHarness) appendBatch() {
	rng := h.rng
	records := h.randomRecords(h.recordCount(), false)
	o := segment.BatchOptions{Compression: randomCompression(rng), PartitionLeaderEpoch: rng.Int32N(100)}
	if rng.IntN(4) == 0 {
		o.Idempotent = true
		o.ProducerID, o.ProducerEpoch, o.BaseSequence = rng.Int64N(1<<40), int16(rng.IntN(100)), rng.Int32N(1<<20)
		o.Transactional = rng.IntN(2) == 0
	}
	o.LogAppendTime = rng.IntN(8) == 0
	batch, err := segment.AppendBatch(nil, records, &o)
	h.noError(err, "segment.AppendBatch")
	if rng.IntN(4) == 0 {
		segment.SetBaseOffset(batch, rng.Int64N(1<<40)) // the producer's base offset is ignored
	}
	encoded := slices.Clone(batch)
	segment.SetPartitionLeaderEpoch(encoded, 0) // the partition stamps its own leader epoch
	h.record("AppendBatch(%d records, %d bytes %+v) at end %d", len(records), len(batch), o, h.model.end())
	base, err := h.p.AppendBatch(context.Background(), batch)
	h.noError(err, "AppendBatch")
	want := h.model.append(&h.opts, h.now(), records, encoded, o.LogAppendTime)
	h.appended(len(records), len(encoded))
	h.equal(base, want, "AppendBatch base offset")
}

// appended counts an acknowledged append; under SyncEveryAppend it is durable.
func (h *modelHarness) appended(records, bytes int) {
	h.counters.add(records, bytes)
	if h.opts.Sync.Mode == partition.SyncEveryAppend {
		h.model.durableEnd = h.model.end()
	}
}

// invalidAppend tries appends that must fail and change nothing.
func (h *modelHarness) invalidAppend() {
	ctx := context.Background()
	switch h.rng.IntN(3) {
	case 0:
		h.record("Append(no records)")
		_, err := h.p.Append(ctx, nil)
		h.errorIs(err, partition.ErrInvalidArgument, "Append(nil)")
	case 1:
		batch, err := segment.AppendBatch(nil, h.randomRecords(1+h.rng.IntN(5), false), nil)
		h.noError(err, "segment.AppendBatch")
		i := segment.BatchHeaderSize - 4 + h.rng.IntN(len(batch)-segment.BatchHeaderSize+4) // CRC-covered bytes
		batch[i] ^= 1 << h.rng.IntN(8)
		h.record("AppendBatch(batch with byte %d flipped)", i)
		_, err = h.p.AppendBatch(ctx, batch)
		h.errorIs(err, partition.ErrInvalidArgument, "AppendBatch of a corrupt batch")
	default:
		batch, err := segment.AppendBatch(nil, h.randomRecords(1+h.rng.IntN(5), false), nil)
		h.noError(err, "segment.AppendBatch")
		cut := h.rng.IntN(len(batch))
		h.record("AppendBatch(batch cut to %d of %d bytes)", cut, len(batch))
		_, err = h.p.AppendBatch(ctx, batch[:cut])
		h.errorIs(err, partition.ErrInvalidArgument, "AppendBatch of a cut batch")
	}
}

func (h *modelHarness) roll() {
	h.record("Roll at end %d", h.model.end())
	h.noError(h.p.Roll(), "Roll")
	if h.model.active().size() > 0 {
		h.model.roll(&h.opts, h.now())
	}
}

// randomOffset returns an offset in [lo, hi], often an end or a batch boundary.
func (h *modelHarness) randomOffset(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	switch h.rng.IntN(5) {
	case 0:
		return lo
	case 1:
		return hi
	case 2:
		var bounds []int64
		for _, b := range h.model.batches() {
			if b.base >= lo && b.base <= hi {
				bounds = append(bounds, b.base)
			}
		}
		if len(bounds) > 0 {
			return bounds[h.rng.IntN(len(bounds))]
		}
	}
	return lo + h.rng.Int64N(hi-lo+1)
}

func (h *modelHarness) truncate() {
	start, end := h.model.start, h.model.end()
	if h.rng.IntN(10) == 0 {
		target := end + 1 + h.rng.Int64N(10)
		if start > 0 && h.rng.IntN(2) == 0 {
			target = h.rng.Int64N(start)
		}
		h.record("TruncateTo(%d) out of [%d, %d]", target, start, end)
		_, err := h.p.TruncateTo(target)
		h.errorIs(err, partition.ErrOffsetOutOfRange, "TruncateTo out of range")
		return
	}
	target := h.randomOffset(start, end)
	h.record("TruncateTo(%d) in [%d, %d]", target, start, end)
	got, err := h.p.TruncateTo(target)
	h.noError(err, "TruncateTo")
	want := h.model.truncateTo(target)
	h.equal(got, want, "TruncateTo(%d) new end offset", target)
}

func (h *modelHarness) applyRetention() {
	h.record("ApplyRetention at %v", h.now().Format(time.RFC3339))
	got, err := h.p.ApplyRetention()
	h.noError(err, "ApplyRetention")
	want := h.model.retention(&h.opts, h.now())
	h.equal(got, want, "ApplyRetention deleted segments")
}

func (h *modelHarness) deleteRecordsBefore() {
	start, end := h.model.start, h.model.end()
	if h.rng.IntN(10) == 0 {
		target := end + 1 + h.rng.Int64N(10)
		if h.rng.IntN(3) == 0 {
			target = -1
		}
		h.record("DeleteRecordsBefore(%d) out of [%d, %d]", target, start, end)
		h.errorIs(h.p.DeleteRecordsBefore(target), partition.ErrOffsetOutOfRange, "DeleteRecordsBefore out of range")
		return
	}
	target := h.randomOffset(start, end)
	if start > 0 && h.rng.IntN(10) == 0 {
		target = h.rng.Int64N(start) // below the start offset: changes nothing
	}
	h.record("DeleteRecordsBefore(%d) in [%d, %d]", target, start, end)
	h.noError(h.p.DeleteRecordsBefore(target), "DeleteRecordsBefore")
	if target > h.model.start {
		h.model.start = target
		h.model.retention(&h.opts, h.now())
	}
}

// reopen closes the partition cleanly and opens it again, sometimes with other
// options.
func (h *modelHarness) reopen() {
	if h.rng.IntN(2) == 0 {
		h.opts = h.randomOptions()
	}
	h.record("Close; Open %s", describeOptions(&h.opts))
	h.noError(h.p.Close(), "Close")
	h.p = nil
	h.openPartition()
	h.model.settle(h.now())
	report := h.p.RecoveryReport()
	h.equal(report.CleanShutdown, true, "RecoveryReport.CleanShutdown after Close")
	h.cleanOpen, h.wrote, h.mayHaveWritten = true, false, false
	h.equal(len(report.Truncated), 0, "RecoveryReport.Truncated after Close")
}

// crash simulates a power loss and opens the file system found after it. Every
// finished operation survives, and so does every append below the model's durable
// offset: under SyncEveryAppend all of them, and the model does not change. Under
// SyncNone the active segment may lose any suffix of its batches above the durable
// offset; the model keeps the prefix that matches what the partition recovered.
func (h *modelHarness) crash() {
	mode := vfs.DropUnsynced
	if h.rng.IntN(4) == 0 {
		mode = []vfs.CrashMode{vfs.KeepPrefix, vfs.TearGarbage, vfs.TearZeros}[h.rng.IntN(3)]
	}
	crashSeed := h.rng.Int64()
	if h.rng.IntN(2) == 0 {
		h.opts = h.randomOptions()
	}
	h.record("Crash(%v, %d) with durable offset %d of end %d; Open %s", mode, crashSeed, h.model.durableEnd, h.model.end(), describeOptions(&h.opts))
	after := h.crashable.Crash(mode, crashSeed)
	h.noError(h.p.Close(), "Close of the partition on the file system before the crash")
	h.p = nil
	h.crashable, h.fsys = after, after
	h.openPartition()
	report := h.p.RecoveryReport()
	switch {
	case h.wrote || !h.cleanOpen:
		h.equal(report.CleanShutdown, false, "RecoveryReport.CleanShutdown after a crash")
	case !h.mayHaveWritten:
		h.equal(report.CleanShutdown, true, "RecoveryReport.CleanShutdown after a crash of a partition unchanged since a clean Open")
	}
	h.cleanOpen, h.wrote, h.mayHaveWritten = report.CleanShutdown, false, false
	if h.model.durableEnd == h.model.end() {
		h.model.settle(h.now())
		h.equal(report.Truncated, []segment.Truncation(nil), "RecoveryReport.Truncated after a crash (every append was fsynced)")
		return
	}
	active := h.model.active()
	for _, tr := range report.Truncated {
		h.equal(tr.Path, segment.LogPath(modelDir, active.base), "RecoveryReport.Truncated: only the active segment may be torn")
	}
	st := h.p.Stats()
	for k := len(active.batches); k >= 0; k-- {
		survivor := &modelSegment{base: active.base, batches: active.batches[:k]}
		if survivor.next() < h.model.durableEnd {
			break
		}
		candidate := h.model
		candidate.segments = append(slices.Clone(h.model.segments[:len(h.model.segments)-1]), survivor)
		candidate.settle(h.now())
		if candidate.start == st.StartOffset && candidate.end() == st.EndOffset && candidate.bytes() == st.Bytes && len(candidate.segments) == st.Segments {
			h.model = candidate
			return
		}
	}
	h.fatalf("after the crash the partition holds [%d, %d), %d bytes in %d segments: no prefix of the active segment [%d, %d) keeping the durable offset %d matches",
		st.StartOffset, st.EndOffset, st.Bytes, st.Segments, active.base, active.next(), h.model.durableEnd)
}

// sync fsyncs everything appended: it all becomes durable.
func (h *modelHarness) sync() {
	h.record("Sync at end %d", h.model.end())
	h.noError(h.p.Sync(context.Background()), "Sync")
	h.model.durableEnd = h.model.end()
}

func (h *modelHarness) advanceClock() {
	var d time.Duration
	switch r := h.rng.IntN(20); {
	case r < 14:
		d = time.Duration(h.rng.Int64N(int64(5 * time.Minute)))
	case r < 19:
		d = time.Duration(h.rng.Int64N(int64(2 * time.Hour)))
	default:
		d = time.Duration(h.rng.Int64N(int64(72 * time.Hour)))
	}
	d = d.Truncate(time.Millisecond)
	h.record("clock += %v", d)
	h.clock.Add(int64(d))
}
