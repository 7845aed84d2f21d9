package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/segment"
)

const (
	dumpBatches          = 40
	dumpRecordsPerBatch  = 5
	dumpValueBytes       = 200
	dumpFirstTimestampMs = 1_700_000_000_000
)

// writeSegment makes a store with topic "d" (one partition, the given codec) holding
// dumpBatches batches of dumpRecordsPerBatch records, closes it, and returns the
// partition directory. Record i has key "k<i>", a value of dumpValueBytes bytes
// starting with "v<i>-", timestamp dumpFirstTimestampMs+i, and record 0 a header.
func writeSegment(t *testing.T, codec string) string {
	t.Helper()
	dir := t.TempDir()
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateTopic(t.Context(), "d", log.TopicConfig{Compression: codec}); err != nil {
		t.Fatal(err)
	}
	i := 0
	for range dumpBatches {
		var batch []*log.Record
		for range dumpRecordsPerBatch {
			value := fmt.Sprintf("v%d-%s", i, strings.Repeat("x", dumpValueBytes))[:dumpValueBytes]
			r := &log.Record{Topic: "d", Key: []byte("k" + strconv.Itoa(i)), Value: []byte(value),
				Timestamp: time.UnixMilli(dumpFirstTimestampMs + int64(i))}
			if i == 0 {
				r.Headers = []log.Header{{Key: "h", Value: []byte("x")}, {Key: "n", Value: nil}}
			}
			batch = append(batch, r)
			i++
		}
		if err := store.Produce(t.Context(), batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "d-0")
}

var segmentName = segment.FileName(0, "")

func segmentFile(dir, suffix string) string { return filepath.Join(dir, segmentName+suffix) }

var positionRE = regexp.MustCompile(`position: (\d+) .* size: (\d+) `)

// batchPositions returns the position and size of each batch line of a dump.
func batchPositions(t *testing.T, dump string) (positions, sizes []int) {
	t.Helper()
	for _, line := range lines(dump) {
		if m := positionRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(line, "baseOffset:") {
			p, _ := strconv.Atoi(m[1])
			s, _ := strconv.Atoi(m[2])
			positions, sizes = append(positions, p), append(sizes, s)
		}
	}
	return positions, sizes
}

// TestDumpSegment dumps a real segment with --print-data and --verify-index.
func TestDumpSegment(t *testing.T) {
	dir := writeSegment(t, log.CompressionNone)
	out := ok(t, t.TempDir(), "", "dump", segmentFile(dir, ".log"), "--print-data", "--verify-index")
	all := lines(out)
	if all[0] != "Dumping "+segmentFile(dir, ".log") || all[1] != "Log starting offset: 0" {
		t.Fatalf("dump starts with %q", all[:2])
	}
	wantFirst := "baseOffset: 0 lastOffset: 4 count: 5 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 " +
		"partitionLeaderEpoch: 0 isTransactional: false isControl: false position: 0 timestampType: CreateTime " +
		"baseTimestamp: 1700000000000 maxTimestamp: 1700000000004 size: "
	if !strings.HasPrefix(all[2], wantFirst) || !strings.HasSuffix(all[2], "magic: 2 compresscodec: none crc: "+crcOf(t, segmentFile(dir, ".log"), 0)+" isvalid: true") {
		t.Fatalf("first batch line:\n%s\nwant prefix\n%s", all[2], wantFirst)
	}
	wantRecord := "| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 200 sequence: -1 headers: [h=x n=null] key: k0 payload: v0-xxx"
	if !strings.HasPrefix(all[3], wantRecord) || len(all[3]) != len(wantRecord)-len("v0-xxx")+dumpValueBytes {
		t.Fatalf("first record line:\n%s\nwant\n%s...", all[3], wantRecord)
	}
	if want := "| offset: 1 CreateTime: 1700000000001 keySize: 2 valueSize: 200 sequence: -1 headers: [] key: k1 payload: v1-"; !strings.HasPrefix(all[4], want) {
		t.Fatalf("second record line:\n%s\nwant prefix\n%s", all[4], want)
	}
	if n := strings.Count(out, "isvalid: true"); n != dumpBatches {
		t.Fatalf("%d valid batches, want %d", n, dumpBatches)
	}
	if n := strings.Count(out, "\n| offset: "); n != dumpBatches*dumpRecordsPerBatch {
		t.Fatalf("%d records, want %d", n, dumpBatches*dumpRecordsPerBatch)
	}
	positions, sizes := batchPositions(t, out)
	for i := 1; i < len(positions); i++ {
		if positions[i] != positions[i-1]+sizes[i-1] {
			t.Fatalf("batch %d at %d, previous at %d size %d", i, positions[i], positions[i-1], sizes[i-1])
		}
	}
	offsetEntries := verifiedEntries(t, out, ".index")
	timeEntries := verifiedEntries(t, out, ".timeindex")
	if offsetEntries < 2 || timeEntries < 2 {
		t.Fatalf("only %d offset and %d time index entries verified: the test wants a segment with several", offsetEntries, timeEntries)
	}

	// The index files alone list their entries, in Kafka's words.
	index := ok(t, t.TempDir(), "", "dump", segmentFile(dir, ".index"))
	entry := regexp.MustCompile(`^offset: \d+ position: \d+$`)
	if l := lines(index); len(l) != offsetEntries+1 || !entry.MatchString(l[1]) {
		t.Fatalf("dump .index:\n%s", index)
	}
	timeIndex := ok(t, t.TempDir(), "", "dump", segmentFile(dir, ".timeindex"), "--verify-index")
	timeEntry := regexp.MustCompile(`^timestamp: 17000000\d+ offset: \d+$`)
	if l := lines(timeIndex); len(l) != timeEntries+2 || !timeEntry.MatchString(l[1]) {
		t.Fatalf("dump .timeindex:\n%s", timeIndex)
	}
	// Relative paths are taken from --dir when it is given.
	if out := ok(t, dir, "", "dump", segmentName+".index"); out != index {
		t.Fatalf("dump with --dir:\n%s", out)
	}
}

// crcOf returns the crc field of the batch at pos of the file, in decimal.
func crcOf(t *testing.T, path string, pos int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[pos+17:])), 10)
}

// verifiedEntries returns N from the dump's "Verified N entries of X<suffix>" line,
// which must report no problems.
func verifiedEntries(t *testing.T, out, suffix string) int {
	t.Helper()
	m := regexp.MustCompile(`Verified (\d+) entries of ` + regexp.QuoteMeta(segmentName+suffix) + ` against ` + regexp.QuoteMeta(segmentName) + `\.log: (\d+) problems`).FindStringSubmatch(out)
	if m == nil || m[2] != "0" {
		t.Fatalf("no clean verification of %s in:\n%s", suffix, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestDumpCodecs decodes the records of compressed batches.
func TestDumpCodecs(t *testing.T) {
	for _, codec := range []string{log.CompressionGzip, log.CompressionSnappy, log.CompressionZstd} {
		t.Run(codec, func(t *testing.T) {
			dir := writeSegment(t, codec)
			out := ok(t, t.TempDir(), "", "dump", segmentFile(dir, ".log"), "--print-data", "--verify-index")
			if n := strings.Count(out, "compresscodec: "+codec+" "); n != dumpBatches {
				t.Fatalf("%d batches of %s, want %d", n, codec, dumpBatches)
			}
			last := dumpBatches*dumpRecordsPerBatch - 1
			if want := fmt.Sprintf("| offset: %d CreateTime: %d keySize: 4 valueSize: 200 sequence: -1 headers: [] key: k%d payload: v%d-", last, dumpFirstTimestampMs+int64(last), last, last); !strings.Contains(out, want) {
				t.Fatalf("no line %q in:\n%s", want, out)
			}
		})
	}
}

// copySegment copies the segment files of dir into a new directory, keeping names.
func copySegment(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	for _, suffix := range []string{".log", ".index", ".timeindex"} {
		b, err := os.ReadFile(segmentFile(dir, suffix))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(segmentFile(to, suffix), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// change rewrites a file through edit.
func change(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDumpCorrupt: dump reports the first bad batch and stops, exit 1, one line on
// stderr, no panic.
func TestDumpCorrupt(t *testing.T) {
	dir := writeSegment(t, log.CompressionNone)
	positions, sizes := batchPositions(t, ok(t, dir, "", "dump", segmentFile(dir, ".log")))
	third := positions[2]

	for _, tc := range []struct {
		name  string
		edit  func([]byte) []byte
		valid int    // batches printed as valid before the bad one
		shown bool   // the bad batch's header line is printed, isvalid: false
		want  string // in the report
	}{
		{"flipped record byte", func(b []byte) []byte { b[third+100] ^= 0x40; return b }, 2, true, "batch crc"},
		{"flipped crc", func(b []byte) []byte { b[third+17] ^= 1; return b }, 2, true, "batch crc"},
		{"huge length", func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[third+8:], 0x7fff0000)
			return b
		}, 2, false, "runs past the end of the file"},
		{"bad magic", func(b []byte) []byte { b[third+16] = 1; return b }, 2, false, "invalid batch header: corrupt data: batch magic 1"},
		{"torn tail", func(b []byte) []byte { return b[:third+sizes[2]/2] }, 2, false, "runs past the end of the file"},
		{"short tail", func(b []byte) []byte { return append(b[:third], make([]byte, 10)...) }, 2, false, "10 bytes left, fewer than a batch header"},
		{"offsets fall", func(b []byte) []byte { copy(b[third:third+8], b[0:8]); return b }, 3, false, "base offset 0 is below 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := copySegment(t, dir)
			change(t, segmentFile(bad, ".log"), tc.edit)
			r := strata(t, bad, "", "dump", segmentFile(bad, ".log"), "--print-data")
			checkFailure(t, r, 1, fmt.Sprintf("invalid batch at position %d: ", third), nil)
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr %q does not say %q", r.stderr, tc.want)
			}
			if n := strings.Count(r.stdout, "isvalid: true"); n != tc.valid {
				t.Fatalf("%d valid batches, want %d:\n%s", n, tc.valid, r.stdout)
			}
			if got := strings.Contains(r.stdout, "isvalid: false"); got != tc.shown {
				t.Fatalf("isvalid: false shown %t, want %t:\n%s", got, tc.shown, r.stdout)
			}
			l := lines(r.stdout)
			if last := l[len(l)-1]; !strings.HasPrefix(last, fmt.Sprintf("Invalid batch at position %d: ", third)) {
				t.Fatalf("dump does not end with the report: %q", last)
			}
		})
	}
}

// TestDumpEveryFlippedByte flips each byte of the first batches in turn: dump never
// panics, and either reads everything or reports a problem.
func TestDumpEveryFlippedByte(t *testing.T) {
	dir := writeSegment(t, log.CompressionGzip)
	positions, _ := batchPositions(t, ok(t, dir, "", "dump", segmentFile(dir, ".log")))
	original, err := os.ReadFile(segmentFile(dir, ".log"))
	if err != nil {
		t.Fatal(err)
	}
	original = original[:positions[3]] // three batches
	bad := t.TempDir()
	path := segmentFile(bad, ".log")
	for i := range positions[1] + segment.BatchHeaderSize {
		b := append([]byte(nil), original...)
		b[i] ^= 0xff
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := strata(t, bad, "", "dump", path, "--print-data")
		if r.code != 0 && r.code != 1 {
			t.Fatalf("byte %d: exit %d: %s", i, r.code, r.stderr)
		}
		if r.code == 1 && !strings.Contains(r.stdout, "Invalid batch at position") {
			t.Fatalf("byte %d: exit 1 without a report: %s\n%s", i, r.stderr, r.stdout)
		}
	}
	// Garbage that is not a log at all.
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	checkFailure(t, strata(t, bad, "", "dump", path, "--print-data", "--verify-index"), 1, "invalid batch at position 0", nil)
}

// TestDumpIndexMismatch: --verify-index reports index entries that do not match the
// .log, and structural problems of index files.
func TestDumpIndexMismatch(t *testing.T) {
	dir := writeSegment(t, log.CompressionNone)
	bad := copySegment(t, dir)
	change(t, segmentFile(bad, ".index"), func(b []byte) []byte {
		position := binary.BigEndian.Uint32(b[4:8])
		binary.BigEndian.PutUint32(b[4:8], position+1) // entry 0 now points inside a batch
		return b
	})
	r := strata(t, bad, "", "dump", segmentFile(bad, ".index"), "--verify-index")
	checkFailure(t, r, 1, "1 index problems", nil)
	if !strings.Contains(r.stdout, "Mismatch: entry 0 (offset ") || !strings.Contains(r.stdout, "no batch starts at position") {
		t.Fatalf("no mismatch reported:\n%s", r.stdout)
	}
	// Without --verify-index the entries are only listed.
	if r := strata(t, bad, "", "dump", segmentFile(bad, ".index")); r.code != 0 {
		t.Fatalf("dump .index without --verify-index: exit %d %s", r.code, r.stderr)
	}

	change(t, segmentFile(bad, ".timeindex"), func(b []byte) []byte {
		binary.BigEndian.PutUint64(b[0:8], binary.BigEndian.Uint64(b[0:8])-1)
		return b
	})
	r = strata(t, bad, "", "dump", segmentFile(bad, ".log"), "--verify-index")
	checkFailure(t, r, 1, "00000000000000000000.timeindex: 1 index problems", nil)
	if !strings.Contains(r.stdout, "Mismatch: entry 0 (timestamp ") || !strings.Contains(r.stdout, "the greatest timestamp up to offset") {
		t.Fatalf("no time index mismatch reported:\n%s", r.stdout)
	}

	change(t, segmentFile(bad, ".index"), func(b []byte) []byte { return append(b, 0, 0, 0) })
	r = strata(t, bad, "", "dump", segmentFile(bad, ".index"))
	checkFailure(t, r, 1, "index problems", nil)
	if !strings.Contains(r.stdout, "Invalid: 3 trailing bytes, not a whole 8-byte entry") {
		t.Fatalf("no structural problem reported:\n%s", r.stdout)
	}
	change(t, segmentFile(bad, ".index"), func(b []byte) []byte { return append(b[:len(b)-3], make([]byte, 8)...) })
	r = strata(t, bad, "", "dump", segmentFile(bad, ".index"))
	checkFailure(t, r, 1, "index problems", nil)
	if !strings.Contains(r.stdout, "does not rise above the previous one") {
		t.Fatalf("a zero entry is not reported:\n%s", r.stdout)
	}
}

// TestDumpFiles: files that cannot be dumped are reported, the others dumped.
func TestDumpFiles(t *testing.T) {
	dir := writeSegment(t, log.CompressionNone)
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := strata(t, other, "", "dump", "notes.txt", "missing.log", segmentFile(dir, ".log"))
	checkFailure(t, r, 1, "notes.txt: not a segment file", nil)
	if !strings.Contains(r.stderr, "missing.log: open") || !strings.Contains(r.stdout, "isvalid: true") {
		t.Fatalf("stderr %q\nstdout %s", r.stderr, r.stdout)
	}

	// A .log not named by its base offset is dumped without the offset check.
	b, err := os.ReadFile(segmentFile(dir, ".log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "copy.log"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := ok(t, other, "", "dump", "copy.log")
	if strings.Contains(out, "Log starting offset") || strings.Count(out, "isvalid: true") != dumpBatches {
		t.Fatalf("dump copy.log:\n%s", out)
	}

	// Compaction's .swap files are read as their kind, with .swap siblings.
	for _, suffix := range []string{".log", ".index", ".timeindex"} {
		b, err := os.ReadFile(segmentFile(dir, suffix))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(segmentFile(other, suffix+".swap"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out = ok(t, other, "", "dump", segmentName+".log.swap", "--verify-index")
	verifiedEntries(t, strings.ReplaceAll(out, ".swap", ""), ".index")
	verifiedEntries(t, strings.ReplaceAll(out, ".swap", ""), ".timeindex")
	if !strings.Contains(out, "Dumping "+segmentFile(other, ".index.swap")) {
		t.Fatalf("dump .log.swap --verify-index:\n%s", out)
	}
	if out := ok(t, other, "", "dump", segmentName+".index.swap", "--verify-index"); !strings.Contains(out, "against "+segmentName+".log.swap: 0 problems") {
		t.Fatalf("dump .index.swap --verify-index:\n%s", out)
	}
	fails(t, other, 1, "not a segment file", "dump", segmentName+".unknown")
}
