package log

import (
	"maps"
	"testing"

	"github.com/stratalog/strata/partition"
)

// FuzzDecodeRecoveryPoints: no bytes make decodeRecoveryPoints panic; whatever it
// accepts encodes back to a file it accepts again with the same points.
func FuzzDecodeRecoveryPoints(f *testing.F) {
	f.Add(encodeRecoveryPoints(map[string]recordedPoint{"orders-0": {offset: 368769}, "orders-1": {offset: 1200}, OffsetsTopic + "-0": {offset: 7}}))
	f.Add(encodeRecoveryPoints(map[string]recordedPoint{"orders-0": {offset: 368769, mark: partition.SegmentMark{Base: 368000, FirstTerm: 0x2c5e0a4b7d1f9e36}, marked: true}}))
	f.Add(encodeRecoveryPoints(nil))
	f.Add([]byte("strata-recovery-points 1\norders-0 -1\ncrc32c 00000000\n"))
	f.Add([]byte("crc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		points, err := decodeRecoveryPoints(recoveryPointsFileName, data)
		if err != nil {
			return
		}
		again := encodeRecoveryPoints(points)
		back, err := decodeRecoveryPoints(recoveryPointsFileName, again)
		if err != nil {
			t.Fatalf("re-encoded file refused: %v\n%s", err, again)
		}
		if !maps.Equal(points, back) {
			t.Fatalf("points %v, then %v", points, back)
		}
	})
}

// TestRecoveryPointsFormat holds the code to the example in FORMAT.md.
func TestRecoveryPointsFormat(t *testing.T) {
	const golden = "strata-recovery-points 1\norders-0 368769 368000 2c5e0a4b7d1f9e36\norders-1 1200\ncrc32c 8ad21ecf\n"
	got := string(encodeRecoveryPoints(map[string]recordedPoint{"orders-1": {offset: 1200},
		"orders-0": {offset: 368769, mark: partition.SegmentMark{Base: 368000, FirstTerm: 0x2c5e0a4b7d1f9e36}, marked: true}}))
	if got != golden {
		t.Fatalf("got %q, want %q", got, golden)
	}
}

// TestRecoveryPointLinesCanonical: a line is read only as it is written (decimal
// without sign or leading zero, 16 lowercase hex digits): anything else is damage,
// never a second spelling of a point.
func TestRecoveryPointLinesCanonical(t *testing.T) {
	for _, value := range []string{"5", "0", "5 3 2c5e0a4b7d1f9e36", "5 0 0000000000000000"} {
		r, ok := parseRecordedPoint(value)
		if !ok || r.value() != value {
			t.Errorf("%q refused, or read as %q", value, r.value())
		}
	}
	for _, value := range []string{"+5", "05", "-0", "5 3 2C5E0A4B7D1F9E36", "5 +3 2c5e0a4b7d1f9e36", "5 03 2c5e0a4b7d1f9e36",
		"5 -0 2c5e0a4b7d1f9e36", "5 5 2c5e0a4b7d1f9e36", "5 3 2c5e0a4b7d1f9e3", "5  3 2c5e0a4b7d1f9e36", "5 3", "", " 5", "5 ",
		"5 3 +c5e0a4b7d1f9e36", "5 3 0x5e0a4b7d1f9e36", "5 3 2c5e_a4b7d1f9e36", "5 3 2c5e0a4b7d1f9e36 1"} {
		if r, ok := parseRecordedPoint(value); ok {
			t.Errorf("%q accepted, as %q", value, r.value())
		}
	}
}

// FuzzParseRecordedPoint: a line's value is accepted only as value writes it, and
// an accepted mark lies below its point.
func FuzzParseRecordedPoint(f *testing.F) {
	for _, value := range []string{"5", "368769 368000 2c5e0a4b7d1f9e36", "+5", "5 3 2C5E0A4B7D1F9E36"} {
		f.Add(value)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r, ok := parseRecordedPoint(value)
		if !ok {
			return
		}
		if r.value() != value {
			t.Fatalf("%q accepted, written %q", value, r.value())
		}
		if r.offset < 0 || r.marked && (r.mark.Base < 0 || r.mark.Base >= r.offset) {
			t.Fatalf("%q: %+v", value, r)
		}
	})
}
