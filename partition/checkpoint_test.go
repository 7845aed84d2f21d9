package partition

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// TestCheckpointFormat holds the code to the example in FORMAT.md.
func TestCheckpointFormat(t *testing.T) {
	const golden = "strata-partition-checkpoint 2\nlog-start-offset 250\nrecovery-point 368769\nnewest-segment 368769\nclean-shutdown false\ncrc32c 8da559b1\n"
	c := checkpoint{logStartOffset: 250, recoveryPoint: 368769, newestSegment: 368769}
	require.Equal(t, golden, string(c.encode()))
	got, err := decodeCheckpoint("cp", []byte(golden))
	require.NoError(t, err)
	require.Equal(t, c, got)
	// Version 1 (no newest-segment) still reads.
	const version1 = "strata-partition-checkpoint 1\nlog-start-offset 250\nrecovery-point 368769\nclean-shutdown false\ncrc32c 211305dd\n"
	got, err = decodeCheckpoint("cp", []byte(version1))
	require.NoError(t, err)
	require.Equal(t, checkpoint{logStartOffset: 250, recoveryPoint: 368769, newestSegment: -1}, got)
	for _, bad := range []string{"", "\n", golden[:len(golden)-1], golden[:40] + "9" + golden[41:], "crc32c 00000000\n"} {
		_, err := decodeCheckpoint("cp", []byte(bad))
		require.ErrorIs(t, err, errs.ErrCorrupt, "%q", bad)
	}
}

// A checkpoint file claiming gigabytes (a sparse file, say) is corrupt and is not
// read: Open must not allocate what a damaged file asks for.
func TestHugeCheckpointIsCorruptNotRead(t *testing.T) {
	for _, name := range []string{CheckpointFile, CleanerCheckpointFile} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := Open(dir, nil)
			require.NoError(t, err)
			require.NoError(t, p.Close())
			f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o644)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(8<<30)) // sparse: no disk used
			require.NoError(t, f.Close())
			data, err := readSmallFile(vfs.OS, filepath.Join(dir, name))
			require.ErrorIs(t, err, errs.ErrCorrupt)
			require.Nil(t, data)
		})
	}
}
