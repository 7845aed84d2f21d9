package partition

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

func epochs(pairs ...int64) []EpochEntry {
	var out []EpochEntry
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, EpochEntry{Epoch: int32(pairs[i]), StartOffset: pairs[i+1]})
	}
	return out
}

// assign keeps epochs and start offsets strictly increasing, dropping what a new
// entry contradicts, as Kafka's LeaderEpochFileCache does.
func TestLeaderEpochsAssign(t *testing.T) {
	for _, tc := range []struct {
		name    string
		before  []EpochEntry
		assign  EpochEntry
		changed bool
		after   []EpochEntry
	}{
		{"first", nil, EpochEntry{0, 0}, true, epochs(0, 0)},
		{"a new epoch", epochs(0, 0), EpochEntry{2, 10}, true, epochs(0, 0, 2, 10)},
		{"the latest epoch again, later", epochs(0, 0, 2, 10), EpochEntry{2, 15}, false, epochs(0, 0, 2, 10)},
		{"the latest epoch again, at its start", epochs(0, 0, 2, 10), EpochEntry{2, 10}, false, epochs(0, 0, 2, 10)},
		{"the latest epoch, earlier", epochs(0, 0, 2, 10), EpochEntry{2, 5}, true, epochs(0, 0, 2, 5)},
		{"a lower epoch, later: the higher one is dropped", epochs(1, 0, 3, 10), EpochEntry{2, 20}, true, epochs(1, 0, 2, 20)},
		{"a higher epoch, earlier: the overlapped one is dropped", epochs(1, 0, 3, 10), EpochEntry{4, 5}, true, epochs(1, 0, 4, 5)},
		{"a higher epoch at the same offset: replaces it", epochs(1, 0, 3, 10), EpochEntry{4, 10}, true, epochs(1, 0, 4, 10)},
		{"below everything: replaces everything", epochs(1, 5, 3, 10), EpochEntry{0, 0}, true, epochs(0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := leaderEpochs{entries: append([]EpochEntry(nil), tc.before...)}
			changed, err := c.assign(tc.assign)
			require.NoError(t, err)
			require.Equal(t, tc.changed, changed)
			require.Equal(t, tc.after, c.entries)
		})
	}
	c := leaderEpochs{entries: epochs(1, 0)}
	for _, bad := range []EpochEntry{{-1, 5}, {2, -1}} {
		_, err := c.assign(bad)
		require.ErrorIs(t, err, errs.ErrInvalidArgument)
		require.Equal(t, epochs(1, 0), c.entries, "bad input changes nothing")
	}
}

// endOffsetFor answers as Kafka's OffsetForLeaderEpoch does.
func TestLeaderEpochsEndOffsetFor(t *testing.T) {
	c := leaderEpochs{entries: epochs(2, 0, 4, 10, 7, 25)}
	const logEnd = 40
	for _, tc := range []struct {
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{NoEpoch, NoEpoch, NoOffset},
		{7, 7, logEnd}, // the latest: the log end
		{4, 4, 25},     // a known epoch: the next one's start
		{2, 2, 10},
		{5, 4, 25}, // unknown, between two: the one below, ending where the next begins
		{6, 4, 25},
		{3, 2, 10},
		{1, 1, 0}, // below every known: itself, ending where the first known begins
		{8, NoEpoch, NoOffset},
	} {
		epoch, end := c.endOffsetFor(tc.epoch, logEnd)
		require.Equal(t, tc.wantEpoch, epoch, "epoch %d", tc.epoch)
		require.Equal(t, tc.wantEnd, end, "epoch %d", tc.epoch)
	}
	var empty leaderEpochs
	epoch, end := empty.endOffsetFor(3, logEnd)
	require.Equal(t, NoEpoch, epoch)
	require.Equal(t, NoOffset, end)
}

func TestLeaderEpochsTruncate(t *testing.T) {
	for _, tc := range []struct {
		end     int64
		changed bool
		after   []EpochEntry
	}{
		{40, false, epochs(2, 0, 4, 10, 7, 25)},
		{26, false, epochs(2, 0, 4, 10, 7, 25)},
		{25, true, epochs(2, 0, 4, 10)},
		{11, true, epochs(2, 0, 4, 10)},
		{10, true, epochs(2, 0)},
		{0, true, []EpochEntry{}},
	} {
		c := leaderEpochs{entries: epochs(2, 0, 4, 10, 7, 25)}
		require.Equal(t, tc.changed, c.truncateFromEnd(tc.end), "end %d", tc.end)
		require.Equal(t, tc.after, c.entries, "end %d", tc.end)
	}
	for _, tc := range []struct {
		start   int64
		changed bool
		after   []EpochEntry
	}{
		{0, false, epochs(2, 0, 4, 10, 7, 25)},
		{5, true, epochs(2, 5, 4, 10, 7, 25)},
		{10, true, epochs(4, 10, 7, 25)},
		{12, true, epochs(4, 12, 7, 25)},
		{30, true, epochs(7, 30)},
	} {
		c := leaderEpochs{entries: epochs(2, 0, 4, 10, 7, 25)}
		require.Equal(t, tc.changed, c.truncateFromStart(tc.start), "start %d", tc.start)
		require.Equal(t, tc.after, c.entries, "start %d", tc.start)
	}
	c := leaderEpochs{entries: epochs(2, 5)}
	require.False(t, c.truncateFromStart(3), "a start below the first entry changes nothing")
	require.Equal(t, epochs(2, 5), c.entries)
}

// The file is Kafka's leader-epoch-checkpoint, byte for byte; anything else is
// corrupt.
func TestLeaderEpochCheckpointFormat(t *testing.T) {
	const golden = "0\n2\n0 0\n3 1500\n"
	entries := epochs(0, 0, 3, 1500)
	require.Equal(t, golden, string(encodeLeaderEpochs(entries)))
	got, err := decodeLeaderEpochs("f", []byte(golden))
	require.NoError(t, err)
	require.Equal(t, entries, got)
	got, err = decodeLeaderEpochs("f", []byte("0\n0\n"))
	require.NoError(t, err)
	require.Empty(t, got)
	for _, bad := range []string{"", "0\n", "1\n0\n", "0\n1\n", "0\n2\n0 0\n", "0\n1\n0 0", "0\n1\n-1 0\n", "0\n1\n0 -5\n",
		"0\n2\n3 0\n3 10\n", "0\n2\n1 10\n3 10\n", "0\n2\n3 0\n1 10\n", "0\n1\n0  0\n", "0\n1\n2147483648 0\n", "0\n1\nx 0\n"} {
		_, err := decodeLeaderEpochs("f", []byte(bad))
		require.ErrorIs(t, err, errs.ErrCorrupt, "%q", bad)
	}

	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll("/p", 0o755))
	_, found, err := readLeaderEpochs(fsys, "/p")
	require.NoError(t, err)
	require.False(t, found)
	require.NoError(t, writeLeaderEpochs(fsys, "/p", entries))
	got, found, err = readLeaderEpochs(fsys, "/p")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, entries, got)
}

// FuzzLeaderEpochCheckpoint decodes arbitrary bytes: never a panic, anything refused
// is a *CorruptError, and anything accepted encodes back to the same bytes.
func FuzzLeaderEpochCheckpoint(f *testing.F) {
	f.Add([]byte("0\n2\n0 0\n3 1500\n"))
	f.Add([]byte("0\n0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decodeLeaderEpochs("f", data)
		if err != nil {
			require.ErrorIs(t, err, errs.ErrCorrupt)
			return
		}
		again, err := decodeLeaderEpochs("f", encodeLeaderEpochs(entries))
		require.NoError(t, err)
		require.Equal(t, entries, again)
	})
}
