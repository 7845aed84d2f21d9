package log

import (
	"maps"
	"testing"
)

// FuzzDecodeRecoveryPoints: no bytes make decodeRecoveryPoints panic; whatever it
// accepts encodes back to a file it accepts again with the same points.
func FuzzDecodeRecoveryPoints(f *testing.F) {
	f.Add(encodeRecoveryPoints(map[string]int64{"orders-0": 368769, "orders-1": 1200, OffsetsTopic + "-0": 7}))
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
	const golden = "strata-recovery-points 1\norders-0 368769\norders-1 1200\ncrc32c 5fc5cc32\n"
	got := string(encodeRecoveryPoints(map[string]int64{"orders-1": 1200, "orders-0": 368769}))
	if got != golden {
		t.Fatalf("got %q, want %q", got, golden)
	}
}
