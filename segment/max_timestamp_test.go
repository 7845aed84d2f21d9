package segment_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// MaxTimestampRecord answers the first record of the greatest timestamp at or above
// from, below end; a sealed segment reopened answers from its time index's last
// entry and the one batch it names: it reads no other batch, which a damaged second
// batch shows (a scan from the segment's start would fail on it).
func TestMaxTimestampRecord(t *testing.T) {
	fsys := newFS(t)
	opts := &segment.Options{IndexIntervalBytes: 100}
	s, err := segment.Create(fsys, dir, 0, opts)
	require.NoError(t, err)
	// Batch i holds offsets 2i, 2i+1 at timestamps 10i, 10i+1; batch 30 peaks.
	var positions []int64
	for i := range int64(50) {
		ts := 10 * i
		if i == 30 {
			ts = 10_000
		}
		positions = append(positions, s.Size())
		b, h := batchOf(t, i*2, 2, ts)
		require.NoError(t, s.Append(b, &h))
	}
	for _, tc := range []struct {
		from, end  int64
		offset, ts int64
		found      bool
	}{
		{0, s.Size(), 61, 10_001, true},       // the batch the bound names
		{61, s.Size(), 61, 10_001, true},      // from at the record
		{62, s.Size(), 99, 491, true},         // above it: a scan
		{0, positions[30], 59, 291, true},     // the peak not below end: a scan
		{60, positions[31], 61, 10_001, true}, // from inside the peak's batch
		{99, s.Size(), 99, 491, true},         // the last record
		{100, s.Size(), 0, 0, false},          // nothing at or above from
		{0, 0, 0, 0, false},                   // nothing below end
		{3, positions[2], 3, 11, true},        // from in the middle of batch 1
	} {
		got, found, err := s.MaxTimestampRecord(tc.from, tc.end)
		require.NoError(t, err, "from %d end %d", tc.from, tc.end)
		require.Equal(t, tc.found, found, "from %d end %d", tc.from, tc.end)
		if tc.found {
			require.Equal(t, tc.offset, got.Offset, "from %d end %d", tc.from, tc.end)
			require.Equal(t, tc.ts, got.Timestamp, "from %d end %d", tc.from, tc.end)
		}
	}
	require.NoError(t, s.Seal())
	require.NoError(t, s.Close())

	// Damage the second batch's magic byte (Open reads the first), then reopen.
	f, err := fsys.OpenFile(segment.LogPath(dir, 0), os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0}, positions[1]+16)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s, err = segment.Open(fsys, dir, 0, opts)
	require.NoError(t, err)
	defer s.Close()
	timestamp, last := s.MaxTimestampBound()
	require.Equal(t, int64(10_001), timestamp, "the time index's last entry")
	require.Equal(t, int64(61), last)
	got, found, err := s.MaxTimestampRecord(0, s.Size())
	require.NoError(t, err, "the damaged batch is not read")
	require.True(t, found)
	require.Equal(t, segment.TimestampOffset{Offset: 61, Timestamp: 10_001, LeaderEpoch: got.LeaderEpoch}, got)
	_, _, err = s.MaxTimestampRecord(0, positions[30])
	require.ErrorIs(t, err, errs.ErrCorrupt, "a scan from the start reads the damaged batch")
}
