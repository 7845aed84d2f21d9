package partition_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestCompactionModel is a model-based property test of compaction. A seeded random
// sequence of operations (appends of keyed records through Append and AppendBatch,
// with tombstones, keyless records and headers; rolls; Compact and ForceCompact;
// clock moves; TruncateTo; DeleteRecordsBefore; close and reopen with other options;
// crashes) drives a partition with Options.Compact and compactionModel, the list of
// every record appended at each offset. After every operation the partition must
// hold exactly what the model says survives:
//
//   - every record at or above the cleaner point P (Stats.CleanerPoint, which may
//     only rise, except to the end offset after TruncateTo) and every keyless record
//     is there, unchanged, at its offset;
//   - below P a keyed record is there unless a later record of its key lies below P
//     (superseded), or it is a tombstone whose delete horizon has passed: the model
//     gives a tombstone its horizon (now + DeleteRetention) at the first compaction
//     that replaced segments while the tombstone lay below P, and expects it gone at
//     the first one at or after the horizon; once gone a record never comes back.
//
// Reads check it through a Reader from the start and from a random offset, Read,
// ReadBatches, Locate and OffsetForTime; the directory must hold no .cleaned or .swap
// file between operations. Odd seeds run on vfs.NewCrashable with SyncEveryAppend,
// where a crash must lose nothing.
//
//	STRATA_SEED=7 go test -race ./partition/ -run TestCompactionModel
//
// STRATA_OPS sets the operations per seed (300), STRATA_LONG=1 runs 200 seeds of
// 1000, STRATA_VERBOSE=1 logs every operation.
func TestCompactionModel(t *testing.T) {
	seeds, ops := modelSeeds(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runCompactionModel(t, seed, ops)
		})
	}
}

// cmRecord is one appended record and what the model knows of it.
type cmRecord struct {
	rec        partition.Record
	removed    bool  // compaction removed it
	horizon    int64 // delete horizon of a tombstone, once set
	horizonSet bool
}

func (r *cmRecord) tombstone() bool { return r.rec.Key != nil && r.rec.Value == nil }

type compactionModel struct {
	t         *testing.T
	seed      int64
	rng       *rand.Rand
	fsys      vfs.FS
	crashable *vfs.CrashableFS
	opts      partition.Options
	p         *partition.Partition
	clock     atomic.Int64
	keys      int
	lag       time.Duration // MinCompactionLag, the same for the whole seed

	records []*cmRecord // by offset
	batches [][2]int64  // [base, next) of every appended batch, in order
	start   int64
	point   int64 // the cleaner point

	op      int
	history []string
	verbose bool
}

func runCompactionModel(t *testing.T, seed int64, ops int) {
	h := &compactionModel{
		t:       t,
		seed:    seed,
		rng:     rand.New(rand.NewPCG(uint64(seed), 0xc0ac7)),
		verbose: os.Getenv("STRATA_VERBOSE") != "",
		op:      -1,
	}
	t.Logf("seed %d, %d ops; replay: STRATA_SEED=%d STRATA_OPS=%d go test -race ./partition/ -run TestCompactionModel", seed, ops, seed, ops)
	h.clock.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	if seed%2 == 1 {
		h.crashable = vfs.NewCrashable()
		h.fsys = h.crashable
	} else {
		h.fsys = vfs.NewMem()
	}
	h.keys = 1 + h.rng.IntN(40)
	if h.rng.IntN(4) == 0 {
		h.lag = time.Duration(1+h.rng.IntN(60)) * time.Minute
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
	h.record("open %s", h.describeOptions())
	h.open()
	h.check()
	for h.op = 0; h.op < ops; h.op++ {
		h.step()
		h.check()
	}
}

func (h *compactionModel) now() time.Time { return time.Unix(0, h.clock.Load()).UTC() }

func (h *compactionModel) record(format string, args ...any) {
	line := fmt.Sprintf("op %d: ", h.op) + fmt.Sprintf(format, args...)
	h.history = append(h.history, line)
	if h.verbose {
		h.t.Log(line)
	}
}

func (h *compactionModel) fatalf(format string, args ...any) {
	h.t.Helper()
	recent := h.history[max(0, len(h.history)-40):]
	h.t.Fatalf("seed %d, op %d: %s\nreplay: STRATA_SEED=%d STRATA_OPS=%d STRATA_VERBOSE=1 go test -race ./partition/ -run TestCompactionModel\nlast operations:\n  %s",
		h.seed, h.op, fmt.Sprintf(format, args...), h.seed, h.op+1, strings.Join(recent, "\n  "))
}

func (h *compactionModel) noError(err error, format string, args ...any) {
	h.t.Helper()
	if err != nil {
		h.fatalf("%s: unexpected error: %v", fmt.Sprintf(format, args...), err)
	}
}

func (h *compactionModel) equal(got, want any, format string, args ...any) {
	h.t.Helper()
	if !reflect.DeepEqual(got, want) {
		h.fatalf("%s:\n got %+v\nwant %+v", fmt.Sprintf(format, args...), got, want)
	}
}

func (h *compactionModel) randomOptions() partition.Options {
	rng := h.rng
	o := partition.Options{
		SegmentBytes:           int64(512 + rng.IntN(6<<10)),
		IndexIntervalBytes:     64 + rng.IntN(1024),
		Compression:            randomCompression(rng),
		Compact:                true,
		DeleteRetention:        []time.Duration{0, time.Millisecond, 10 * time.Minute, 2 * time.Hour, -1}[rng.IntN(5)],
		MinCleanableDirtyRatio: []float64{0, 0.1, 0.9, 1}[rng.IntN(4)],
		MinCompactionLag:       h.lag,
		CleanerMapBytes:        []int64{0, 0, 1, 300, 3000}[rng.IntN(5)],
		Now:                    h.now,
	}
	if h.crashable == nil && rng.IntN(2) == 0 {
		o.Sync = partition.SyncPolicy{Mode: partition.SyncNone}
	}
	return o
}

func (h *compactionModel) describeOptions() string {
	o := &h.opts
	return fmt.Sprintf("{SegmentBytes:%d IndexIntervalBytes:%d Compression:%v DeleteRetention:%v MinCleanableDirtyRatio:%v MinCompactionLag:%v CleanerMapBytes:%d Sync:%v keys:%d}",
		o.SegmentBytes, o.IndexIntervalBytes, o.Compression, o.DeleteRetention, o.MinCleanableDirtyRatio, o.MinCompactionLag, o.CleanerMapBytes, o.Sync.Mode, h.keys)
}

func (h *compactionModel) open() {
	h.t.Helper()
	h.opts.FS = h.fsys
	p, err := partition.Open(modelDir, &h.opts)
	h.noError(err, "Open")
	h.p = p
}

func (h *compactionModel) end() int64 { return int64(len(h.records)) }

func (h *compactionModel) step() {
	switch r := h.rng.IntN(100); {
	case r < 40:
		h.appendRecords()
	case r < 50:
		h.roll()
	case r < 66:
		h.compact()
	case r < 78:
		h.advanceClock()
	case r < 83:
		h.truncate()
	case r < 87:
		h.deleteRecordsBefore()
	case r < 93:
		h.reopen()
	case h.crashable != nil:
		h.crash()
	default:
		h.advanceClock()
	}
}

// randomRecords returns n records over the seed's key space: sometimes keyless, an
// empty key, a tombstone, an empty value, headers; timestamps near the clock.
func (h *compactionModel) randomRecords(n int) []partition.Record {
	rng := h.rng
	records := make([]partition.Record, n)
	ts := h.now().UnixMilli() - rng.Int64N(2000)
	for i := range records {
		r := &records[i]
		switch k := rng.IntN(100); {
		case k < 5: // keyless
		case k < 7:
			r.Key = []byte{}
		default:
			r.Key = []byte(fmt.Sprintf("key-%02d", rng.IntN(h.keys)))
		}
		switch v := rng.IntN(100); {
		case v < 14: // tombstone (or a keyless null)
		case v < 17:
			r.Value = []byte{}
		default:
			size := 1 + rng.IntN(80)
			if rng.IntN(20) == 0 {
				size = 600
			}
			r.Value = []byte(fmt.Sprintf("op%d-%d-%s", h.op, i, strings.Repeat("v", size)))
		}
		if rng.IntN(6) == 0 {
			r.Headers = []partition.Header{{Key: "h", Value: []byte(fmt.Sprint(i))}}
		}
		ts += rng.Int64N(3) - 1
		r.Timestamp = max(ts, 1)
	}
	return records
}

func (h *compactionModel) appendRecords() {
	rng := h.rng
	records := h.randomRecords(1 + rng.IntN(8))
	base := h.end()
	if rng.IntN(3) == 0 {
		o := segment.BatchOptions{Compression: randomCompression(rng), PartitionLeaderEpoch: rng.Int32N(5), LogAppendTime: rng.IntN(4) == 0}
		if rng.IntN(3) == 0 {
			// Producer ids rarely repeat: the partition checks the sequences of a producer
			// it knows (producer_state.go), and these are random.
			o.Idempotent, o.ProducerID, o.ProducerEpoch, o.BaseSequence = true, rng.Int64N(1<<40), 1, rng.Int32N(1000)
		}
		batch, err := segment.AppendBatch(nil, records, &o)
		h.noError(err, "segment.AppendBatch")
		h.record("AppendBatch(%d records %+v) at %d", len(records), o, base)
		got, err := h.p.AppendBatch(context.Background(), batch)
		h.noError(err, "AppendBatch")
		h.equal(got, base, "AppendBatch base offset")
		if o.LogAppendTime {
			maxTs := records[0].Timestamp
			for _, r := range records {
				maxTs = max(maxTs, r.Timestamp)
			}
			for i := range records {
				records[i].Timestamp = maxTs
			}
		}
	} else {
		if rng.IntN(10) == 0 {
			records[0].Timestamp = 0 // Append stamps the clock
		}
		h.record("Append(%d records) at %d", len(records), base)
		got, err := h.p.Append(context.Background(), records)
		h.noError(err, "Append")
		h.equal(got, base, "Append base offset")
		if records[0].Timestamp == 0 {
			records[0].Timestamp = h.now().UnixMilli()
		}
	}
	for i, r := range records {
		c := cloneModelRecord(r)
		c.Offset = base + int64(i)
		h.records = append(h.records, &cmRecord{rec: c})
	}
	h.batches = append(h.batches, [2]int64{base, h.end()})
}

func (h *compactionModel) roll() {
	h.record("Roll at %d", h.end())
	h.noError(h.p.Roll(), "Roll")
}

func (h *compactionModel) advanceClock() {
	d := time.Duration(h.rng.Int64N(int64(20 * time.Minute)))
	if h.rng.IntN(5) == 0 {
		d = time.Duration(h.rng.Int64N(int64(30 * time.Hour)))
	}
	d = d.Truncate(time.Millisecond)
	h.record("clock += %v", d)
	h.clock.Add(int64(d))
}

// deleteRetention is the effective DeleteRetention.
func (h *compactionModel) deleteRetention() time.Duration {
	if h.opts.DeleteRetention == 0 {
		return partition.DefaultDeleteRetention
	}
	return h.opts.DeleteRetention
}

func (h *compactionModel) compact() {
	force := h.rng.IntN(2) == 0
	h.record("Compact(force=%v) at %v, cleaner point %d, end %d", force, h.now().Format(time.RFC3339), h.point, h.end())
	var res partition.CompactionResult
	var err error
	if force {
		res, err = h.p.ForceCompact(context.Background())
	} else {
		res, err = h.p.Compact(context.Background())
	}
	h.noError(err, "Compact")
	h.record("  -> %+v", res)
	if res.CleanerPoint < h.point || res.CleanerPoint > h.end() {
		h.fatalf("cleaner point %d after compaction: want in [%d, %d]", res.CleanerPoint, h.point, h.end())
	}
	if res.DirtyRatio < 0 || res.DirtyRatio > 1 {
		h.fatalf("dirty ratio %v", res.DirtyRatio)
	}
	h.point = res.CleanerPoint
	h.markSuperseded()
	if !res.Compacted {
		return
	}
	retention := h.deleteRetention()
	nowMs := h.now().UnixMilli()
	for _, r := range h.records[h.start:min(h.point, h.end())] {
		if r.removed || !r.tombstone() || retention < 0 {
			continue
		}
		switch {
		case !r.horizonSet:
			r.horizon, r.horizonSet = nowMs+retention.Milliseconds(), true
		case r.horizon <= nowMs:
			r.removed = true
		}
	}
}

// markSuperseded marks removed every keyed record below the cleaner point that a later
// record of its key below the cleaner point supersedes.
func (h *compactionModel) markSuperseded() {
	limit := min(h.point, h.end())
	latest := map[string]int64{}
	for o := int64(0); o < limit; o++ {
		if k := h.records[o].rec.Key; k != nil {
			latest[string(k)] = o
		}
	}
	for o := h.start; o < limit; o++ {
		if k := h.records[o].rec.Key; k != nil && latest[string(k)] != o {
			h.records[o].removed = true
		}
	}
}

func (h *compactionModel) truncate() {
	start, end := h.start, h.end()
	target := start
	if end > start {
		target = start + h.rng.Int64N(end-start+1)
	}
	h.record("TruncateTo(%d) in [%d, %d]", target, start, end)
	got, err := h.p.TruncateTo(target)
	h.noError(err, "TruncateTo(%d)", target)
	if got > target {
		h.fatalf("TruncateTo(%d) = %d: above the target", target, got)
	}
	if got < target {
		// Whole batches go: the new end is the end of a surviving batch below target
		// (or the start offset, when what is left lies below it), at least as high as
		// the end of the last batch below target that holds a surviving record.
		low, isBatchEnd := int64(0), got == start
		for _, b := range h.batches {
			if b[1] > target {
				break
			}
			isBatchEnd = isBatchEnd || b[1] == got
			for o := max(b[0], start); o < b[1]; o++ {
				if !h.records[o].removed {
					low = b[1]
					break
				}
			}
		}
		if !isBatchEnd || got < low {
			h.fatalf("TruncateTo(%d) = %d: want the end of a batch in [%d, %d]", target, got, low, target)
		}
	}
	end = max(got, start)
	h.records = h.records[:end]
	for len(h.batches) > 0 && h.batches[len(h.batches)-1][1] > end {
		h.batches = h.batches[:len(h.batches)-1]
	}
	h.point = min(h.point, got)
}

func (h *compactionModel) deleteRecordsBefore() {
	start, end := h.start, h.end()
	target := start
	if end > start {
		target = start + h.rng.Int64N(end-start+1)
	}
	h.record("DeleteRecordsBefore(%d) in [%d, %d]", target, start, end)
	h.noError(h.p.DeleteRecordsBefore(target), "DeleteRecordsBefore")
	h.start = max(h.start, target)
}

func (h *compactionModel) reopen() {
	if h.rng.IntN(2) == 0 {
		h.opts = h.randomOptions()
	}
	h.record("Close; Open %s", h.describeOptions())
	h.noError(h.p.Close(), "Close")
	h.p = nil
	h.open()
}

// crash simulates a power loss: under SyncEveryAppend nothing acknowledged is lost,
// and every operation that returned is durable, compactions included.
func (h *compactionModel) crash() {
	mode := crashModes[h.rng.IntN(len(crashModes))]
	seed := h.rng.Int64()
	h.record("Crash(%v, %d)", mode, seed)
	after := h.crashable.Crash(mode, seed)
	h.noError(h.p.Close(), "Close before the crash")
	h.p = nil
	h.crashable, h.fsys = after, after
	h.open()
}

// expected returns the records the partition must hold from offset on.
func (h *compactionModel) expected(from int64) []partition.Record {
	var out []partition.Record
	for _, r := range h.records[max(from, h.start):] {
		if !r.removed {
			out = append(out, r.rec)
		}
	}
	return out
}

func (h *compactionModel) check() {
	h.t.Helper()
	st := h.p.Stats()
	h.equal([]int64{st.StartOffset, st.EndOffset, st.CleanerPoint}, []int64{h.start, h.end(), h.point}, "Stats start, end and cleaner point")
	h.markSuperseded()
	h.checkReader(h.start, h.randomMaxBytes())
	h.checkFiles()
	if h.start == h.end() {
		return
	}
	from := h.start + h.rng.Int64N(h.end()-h.start)
	h.checkReader(from, h.randomMaxBytes())
	want := h.expected(from)

	maxRecords := h.rng.IntN(5)
	got, err := h.p.Read(from, maxRecords, h.randomMaxBytes())
	h.noError(err, "Read(%d)", from)
	if len(got) == 0 && len(want) > 0 || len(got) > len(want) || (maxRecords > 0 && len(got) > maxRecords) {
		h.fatalf("Read(%d, %d): %d records of %d", from, maxRecords, len(got), len(want))
	}
	h.equalRecords(got, want[:len(got)], fmt.Sprintf("Read(%d, %d)", from, maxRecords))

	loc, err := h.p.Locate(from)
	h.noError(err, "Locate(%d)", from)
	if loc.BatchLast < from || (len(want) > 0 && loc.BatchBase > want[0].Offset) {
		h.fatalf("Locate(%d) = %+v; first record at or after it: %v", from, loc, describe(want[:min(1, len(want))]))
	}

	buf, err := h.p.ReadBatches(nil, from, h.randomMaxBytes())
	h.noError(err, "ReadBatches(%d)", from)
	var fromBatches []partition.Record
	var dec segment.Decoder
	for pos := 0; pos < len(buf); {
		bh, err := segment.ParseBatchHeader(buf[pos:], 1<<20)
		h.noError(err, "ReadBatches(%d): batch at %d", from, pos)
		if pos+bh.Size() > len(buf) {
			h.fatalf("ReadBatches(%d): partial batch at %d", from, pos)
		}
		_, err = segment.VerifyBatch(buf[pos:pos+bh.Size()], 1<<20)
		h.noError(err, "ReadBatches(%d): batch at %d", from, pos)
		if pos == 0 && bh.LastOffset() < from {
			h.fatalf("ReadBatches(%d): first batch ends at %d", from, bh.LastOffset())
		}
		h.noError(dec.Reset(buf[pos:pos+bh.Size()]), "decode")
		for {
			var r partition.Record
			ok, err := dec.Next(&r)
			h.noError(err, "decode")
			if !ok {
				break
			}
			if r.Offset >= from {
				fromBatches = append(fromBatches, cloneModelRecord(r))
			}
		}
		pos += bh.Size()
	}
	if len(fromBatches) > len(want) {
		h.fatalf("ReadBatches(%d): %d records, more than %d", from, len(fromBatches), len(want))
	}
	h.equalRecords(fromBatches, want[:len(fromBatches)], fmt.Sprintf("ReadBatches(%d)", from))

	all := h.expected(h.start)
	ts := h.now().UnixMilli() - h.rng.Int64N(5000)
	if len(all) > 0 && h.rng.IntN(2) == 0 {
		ts = all[h.rng.IntN(len(all))].Timestamp
	}
	wantOffset, wantFound := h.end(), false
	for _, r := range all {
		if r.Timestamp >= ts {
			wantOffset, wantFound = r.Offset, true
			break
		}
	}
	off, found, err := h.p.OffsetForTime(ts)
	h.noError(err, "OffsetForTime(%d)", ts)
	h.equal([]any{off, found}, []any{wantOffset, wantFound}, "OffsetForTime(%d)", ts)
}

func (h *compactionModel) randomMaxBytes() int {
	return []int{0, 1, 200, 5000}[h.rng.IntN(4)]
}

func (h *compactionModel) checkReader(from int64, maxBytes int) {
	h.t.Helper()
	r := h.p.NewReader(from, maxBytes)
	var got []partition.Record
	for {
		rec, err := r.TryNext()
		h.noError(err, "Reader from %d at %d", from, r.Offset())
		if rec == nil {
			break
		}
		got = append(got, cloneModelRecord(*rec))
	}
	h.equalRecords(got, h.expected(from), fmt.Sprintf("Reader from %d", from))
	h.equal(r.Offset(), h.end(), "Reader offset at the end")
}

func (h *compactionModel) equalRecords(got, want []partition.Record, what string) {
	h.t.Helper()
	norm := func(rs []partition.Record) []partition.Record {
		out := make([]partition.Record, len(rs))
		for i, r := range rs {
			out[i] = cloneModelRecord(r)
			if len(out[i].Headers) == 0 {
				out[i].Headers = nil
			}
		}
		return out
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		h.fatalf("%s:\n got %v\nwant %v", what, describe(got), describe(want))
	}
}

// checkFiles: between operations the directory holds the checkpoints, whole
// segments and producer snapshots, never a leftover of compaction.
func (h *compactionModel) checkFiles() {
	names, err := h.fsys.ReadDir(modelDir)
	h.noError(err, "ReadDir")
	logs := 0
	for _, name := range names {
		if name == partition.CheckpointFile || name == partition.CleanerCheckpointFile {
			continue
		}
		base, suffix, ok := segment.ParseFileName(name)
		if !ok || !slices.Contains([]string{segment.LogSuffix, segment.IndexSuffix, segment.TimeIndexSuffix, partition.SnapshotSuffix}, suffix) {
			h.fatalf("unexpected file %s in %v", name, names)
		}
		if suffix == segment.LogSuffix {
			logs++
			for _, s := range []string{segment.IndexSuffix, segment.TimeIndexSuffix} {
				if !slices.Contains(names, segment.FileName(base, s)) {
					h.fatalf("segment %d has no %s file", base, s)
				}
			}
		}
	}
	h.equal(logs, h.p.Stats().Segments, "segments on disk")
}
