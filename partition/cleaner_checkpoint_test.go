package partition

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/vfs"
)

// TestCleanerCheckpointFormat holds the code to the example in FORMAT.md, and reads
// version 1 files (no gaps-below: gaps anywhere).
func TestCleanerCheckpointFormat(t *testing.T) {
	const golden = "strata-cleaner-checkpoint 2\ncleaner-point 368769\ngaps-below 368769\ncrc32c c1eb68c9\n"
	c := cleanerCheckpoint{point: 368769, gapsBelow: 368769}
	require.Equal(t, golden, string(c.encode()))
	got, err := decodeCleanerCheckpoint("cp", []byte(golden))
	require.NoError(t, err)
	require.Equal(t, c, got)

	const version1 = "strata-cleaner-checkpoint 1\ncleaner-point 368769\ncrc32c f7fe17bd\n"
	got, err = decodeCleanerCheckpoint("cp", []byte(version1))
	require.NoError(t, err)
	require.Equal(t, cleanerCheckpoint{point: 368769, gapsBelow: math.MaxInt64}, got)

	for _, bad := range []string{"", "\n", golden[:len(golden)-1], golden[:30] + "9" + golden[31:], "crc32c 00000000\n",
		"strata-cleaner-checkpoint 3\ncleaner-point 1\ncrc32c 00000000\n"} {
		_, err := decodeCleanerCheckpoint("cp", []byte(bad))
		require.ErrorIs(t, err, errs.ErrCorrupt, "%q", bad)
	}
	for _, negative := range []cleanerCheckpoint{{point: -5}, {gapsBelow: -1}} {
		_, err = decodeCleanerCheckpoint("cp", negative.encode())
		require.ErrorIs(t, err, errs.ErrCorrupt)
	}
}

// A store compacted by code that wrote version 1 cleaner checkpoints (no gaps-below)
// opens and reads as before: its compacted segments, which have gaps, are not taken
// for dense ones.
func TestCleanerCheckpointVersion1Opens(t *testing.T) {
	fsys := vfs.NewMem()
	opts := Options{FS: fsys, SegmentBytes: 400, Compact: true}
	p, err := Open("/p", &opts)
	require.NoError(t, err)
	for i := range 60 {
		_, err := p.Append(t.Context(), []Record{{Key: []byte(fmt.Sprint(i % 3)), Value: []byte(fmt.Sprint(i)), Timestamp: 1}})
		require.NoError(t, err)
	}
	require.NoError(t, p.Roll())
	_, err = p.ForceCompact(t.Context())
	require.NoError(t, err)
	point := p.cleaner.point.Load()
	require.Positive(t, point)
	require.NoError(t, p.Close())

	v1 := keyvalue.Encode("strata-cleaner-checkpoint", 1, "cleaner-point", fmt.Sprint(point))
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/p/"+CleanerCheckpointFile, v1))
	p, err = Open("/p", &opts)
	require.NoError(t, err)
	defer p.Close()
	records, err := p.Read(0, 0, 0)
	require.NoError(t, err)
	require.Len(t, records, 3, "the latest record of each of 3 keys")
	require.NoError(t, p.Verify(t.Context()))
	require.Equal(t, p.EndOffset(), p.cleaner.gapsBelow.Load(), "every segment there was may have gaps")
}
