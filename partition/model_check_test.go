package partition_test

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// check compares the partition with the model.
func (h *modelHarness) check() {
	h.t.Helper()
	m := &h.model
	start, end := m.start, m.end()
	st := h.p.Stats()
	if st.StartOffset > st.EndOffset {
		h.fatalf("Stats: start offset %d above end offset %d", st.StartOffset, st.EndOffset)
	}
	h.equal([]int64{st.StartOffset, st.EndOffset}, []int64{start, end}, "Stats start and end offsets")
	h.equal(h.p.StartOffset(), start, "StartOffset")
	h.equal(h.p.EndOffset(), end, "EndOffset")
	h.equal(h.p.WrittenOffset(), end, "WrittenOffset")
	h.equal(st.Segments, len(m.segments), "Stats.Segments")
	h.equal(st.Bytes, m.bytes(), "Stats.Bytes")
	h.equal([]uint64{st.Appends, st.AppendedRecords, st.AppendedBytes}, []uint64{h.counters.appends, h.counters.records, h.counters.bytes},
		"Stats appends, appended records and bytes since Open")
	h.checkFiles()
	h.checkRead()
	h.checkReadBatches()
	h.checkLocate()
	h.checkOffsetForTime()
	h.checkOutOfRange()
	h.checkTail()
	if h.rng.IntN(8) == 0 {
		h.checkReader(h.randomOffset(start, end))
	}
}

// checkTail drains a long-lived Reader that follows the log across operations, as a
// consumer does: it returns what was appended since, and ErrOffsetOutOfRange once
// truncation or retention moved the log past it (it then starts again elsewhere).
func (h *modelHarness) checkTail() {
	h.t.Helper()
	start, end := h.model.start, h.model.end()
	if h.tail == nil {
		h.tailNext = h.randomOffset(start, end)
		h.tail = h.p.NewReader(h.tailNext, h.randomMaxBytes())
	}
	if h.tailNext < start || h.tailNext > end {
		_, err := h.tail.TryNext()
		h.errorIs(err, partition.ErrOffsetOutOfRange, "tail Reader at %d outside [%d, %d]", h.tailNext, start, end)
		h.tailNext = h.randomOffset(start, end)
		h.tail.SetOffset(h.tailNext)
	}
	var got []partition.Record
	for {
		rec, err := h.tail.TryNext()
		h.noError(err, "tail Reader at %d", h.tail.Offset())
		if rec == nil {
			break
		}
		got = append(got, cloneModelRecord(*rec))
	}
	h.equalRecords(got, h.model.recordsFrom(h.tailNext), fmt.Sprintf("tail Reader from %d", h.tailNext))
	h.equal(h.tail.Offset(), end, "tail Reader offset at the end")
	h.tailNext = end
}

// checkFiles checks that the directory holds exactly the model's segments and the
// checkpoint, and producer snapshots: none above the log end, at most one per
// segment, one at the log end and one below the first segment
// (producer_durability_test.go checks their content).
func (h *modelHarness) checkFiles() {
	h.t.Helper()
	all, err := h.fsys.ReadDir(modelDir)
	h.noError(err, "ReadDir")
	var names []string
	snapshots := 0
	for _, name := range all {
		if base, suffix, ok := segment.ParseFileName(name); ok && suffix == partition.SnapshotSuffix {
			if base > h.model.end() {
				h.fatalf("producer snapshot %s above the log end %d", name, h.model.end())
			}
			snapshots++
			continue
		}
		names = append(names, name)
	}
	if snapshots > len(h.model.segments)+2 {
		h.fatalf("%d producer snapshots in %v, want at most one per segment and two more", snapshots, all)
	}
	want := []string{partition.CheckpointFile}
	for _, s := range h.model.segments {
		for _, suffix := range []string{segment.LogSuffix, segment.IndexSuffix, segment.TimeIndexSuffix} {
			want = append(want, segment.FileName(s.base, suffix))
		}
	}
	slices.Sort(want)
	h.equal(names, want, "files in the partition directory")
}

func (h *modelHarness) randomMaxBytes() int {
	switch h.rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return 1 + h.rng.IntN(100)
	default:
		return 1 + h.rng.IntN(20_000)
	}
}

func (h *modelHarness) checkRead() {
	h.t.Helper()
	offset := h.randomOffset(h.model.start, h.model.end())
	maxRecords := h.rng.IntN(60)
	maxBytes := h.randomMaxBytes()
	got, err := h.p.Read(offset, maxRecords, maxBytes)
	what := fmt.Sprintf("Read(%d, %d, %d)", offset, maxRecords, maxBytes)
	h.noError(err, "%s", what)
	fetch := maxBytes
	if fetch <= 0 {
		fetch = partition.DefaultReadBytes
	}
	var want []partition.Record
	for _, b := range h.model.readBatches(offset, fetch) {
		for _, r := range b.records {
			if r.Offset >= offset && (maxRecords <= 0 || len(want) < maxRecords) {
				want = append(want, r)
			}
		}
	}
	h.equalRecords(got, want, what)
}

func (h *modelHarness) checkReadBatches() {
	h.t.Helper()
	offset := h.randomOffset(h.model.start, h.model.end())
	maxBytes := h.randomMaxBytes()
	prefix := []byte("prefix")
	got, err := h.p.ReadBatches(slices.Clone(prefix), offset, maxBytes)
	what := fmt.Sprintf("ReadBatches(%d, %d)", offset, maxBytes)
	h.noError(err, "%s", what)
	want := slices.Clone(prefix)
	var bases []int64
	for _, b := range h.model.readBatches(offset, maxBytes) {
		want = append(want, b.encoded...)
		bases = append(bases, b.base)
	}
	if !bytes.Equal(got, want) {
		h.fatalf("%s: got %d bytes, want %d bytes: batches at %v (equal prefix %d bytes)", what, len(got), len(want), bases, commonPrefix(got, want))
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// checkReader reads from offset to the end with a Reader and compares every record.
func (h *modelHarness) checkReader(offset int64) {
	h.t.Helper()
	maxBytes := h.randomMaxBytes()
	r := h.p.NewReader(offset, maxBytes)
	var got []partition.Record
	for {
		rec, err := r.TryNext()
		h.noError(err, "Reader from %d (maxBytes %d) at %d", offset, maxBytes, r.Offset())
		if rec == nil {
			break
		}
		got = append(got, cloneModelRecord(*rec))
	}
	what := fmt.Sprintf("Reader from %d (maxBytes %d)", offset, maxBytes)
	h.equalRecords(got, h.model.recordsFrom(offset), what)
	h.equal(r.Offset(), h.model.end(), "%s: Offset at the end", what)
}

// equalRecords compares records field by field: a nil key or value differs from an
// empty one.
func (h *modelHarness) equalRecords(got, want []partition.Record, what string) {
	h.t.Helper()
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.Timestamp != w.Timestamp || !equalNullable(g.Key, w.Key) || !equalNullable(g.Value, w.Value) || !equalHeaders(g.Headers, w.Headers) {
			h.fatalf("%s: record %d:\n got %s\nwant %s", what, i, formatRecord(g), formatRecord(w))
		}
	}
	if len(got) != len(want) {
		h.fatalf("%s: got %d records, want %d (first offsets %v, %v)", what, len(got), len(want), firstOffset(got), firstOffset(want))
	}
}

func firstOffset(records []partition.Record) any {
	if len(records) == 0 {
		return "none"
	}
	return records[0].Offset
}

func equalNullable(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func equalHeaders(a, b []partition.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !equalNullable(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func formatRecord(r partition.Record) string {
	nullable := func(b []byte) string {
		if b == nil {
			return "null"
		}
		return strconv.Quote(string(b))
	}
	var headers []string
	for _, hd := range r.Headers {
		headers = append(headers, strconv.Quote(hd.Key)+"="+nullable(hd.Value))
	}
	return fmt.Sprintf("{offset %d ts %d key %s value %s headers [%s]}", r.Offset, r.Timestamp, nullable(r.Key), nullable(r.Value), strings.Join(headers, " "))
}

func (h *modelHarness) checkLocate() {
	h.t.Helper()
	start, end := h.model.start, h.model.end()
	if start >= end {
		return
	}
	offset := h.randomOffset(start, end-1)
	loc, err := h.p.Locate(offset)
	what := fmt.Sprintf("Locate(%d)", offset)
	h.noError(err, "%s", what)
	s, b, pos := h.model.locate(offset)
	want := partition.Location{
		Path: segment.LogPath(modelDir, s.base), Base: s.base, Position: pos,
		IndexEntry: loc.IndexEntry, BatchBase: b.base, BatchLast: b.last(),
	}
	h.equal(loc, want, "%s", what)
	entryOK := loc.IndexEntry == s.base
	for _, sb := range s.batches {
		if sb.last() == loc.IndexEntry && sb.base <= b.base {
			entryOK = true // index entries name the last offset of a batch
		}
	}
	if !entryOK || loc.IndexEntry > offset {
		h.fatalf("%s: index entry %d is neither the segment base %d nor the last offset of a batch at or before %d", what, loc.IndexEntry, s.base, b.base)
	}
}

func (h *modelHarness) checkOffsetForTime() {
	h.t.Helper()
	var ts int64
	batches := h.model.batches()
	switch r := h.rng.IntN(10); {
	case r < 6 && len(batches) > 0:
		b := batches[h.rng.IntN(len(batches))]
		ts = b.records[h.rng.IntN(len(b.records))].Timestamp + h.rng.Int64N(3) - 1
	case r < 7:
		ts = h.rng.Int64N(2)
	case r < 8:
		ts = h.producer + 1 + h.rng.Int64N(1000)
	default:
		ts = h.now().UnixMilli() - h.rng.Int64N(3*3600*1000)
	}
	got, found, err := h.p.OffsetForTime(ts)
	what := fmt.Sprintf("OffsetForTime(%d)", ts)
	h.noError(err, "%s", what)
	want, wantFound := h.model.offsetForTime(ts)
	h.equal([]any{got, found}, []any{want, wantFound}, "%s (offset, found)", what)
}

// checkOutOfRange reads outside [start, end].
func (h *modelHarness) checkOutOfRange() {
	h.t.Helper()
	start, end := h.model.start, h.model.end()
	outside := []int64{end + 1, end + 1 + h.rng.Int64N(1000), -1}[h.rng.IntN(3):][:1]
	if start > 0 {
		outside = append(outside, []int64{start - 1, h.rng.Int64N(start)}[h.rng.IntN(2)])
	}
	for _, offset := range outside {
		_, err := h.p.Read(offset, 0, 0)
		h.errorIs(err, partition.ErrOffsetOutOfRange, "Read(%d) outside [%d, %d]", offset, start, end)
		_, err = h.p.ReadBatches(nil, offset, 0)
		h.errorIs(err, partition.ErrOffsetOutOfRange, "ReadBatches(%d) outside [%d, %d]", offset, start, end)
		_, err = h.p.Locate(offset)
		h.errorIs(err, partition.ErrOffsetOutOfRange, "Locate(%d) outside [%d, %d]", offset, start, end)
		_, err = h.p.NewReader(offset, 0).TryNext()
		h.errorIs(err, partition.ErrOffsetOutOfRange, "Reader.TryNext at %d outside [%d, %d]", offset, start, end)
	}
	_, err := h.p.Locate(end)
	h.errorIs(err, partition.ErrOffsetOutOfRange, "Locate(end %d)", end)
	got, err := h.p.Read(end, 0, 0)
	h.noError(err, "Read(end %d)", end)
	h.equal(len(got), 0, "records read at the end offset %d", end)
	batches, err := h.p.ReadBatches(nil, end, 0)
	h.noError(err, "ReadBatches(end %d)", end)
	h.equal(len(batches), 0, "bytes read at the end offset %d", end)
}
