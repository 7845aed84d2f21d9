package partition

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestCheckpointFormat holds the code to the example in FORMAT.md.
func TestCheckpointFormat(t *testing.T) {
	const golden = "strata-partition-checkpoint 3\nlog-start-offset 250\nrecovery-point 368769\nnewest-segment 368769\nclean-shutdown false\nsegment-250 368769 1048371 2c5e0a4b7d1f9e36 9b03e1f27a6c5d48\ncrc32c cd715086\n"
	c := checkpoint{logStartOffset: 250, recoveryPoint: 368769, newestSegment: 368769, hasManifest: true,
		manifest: []manifestEntry{{base: 250, next: 368769,
			Fingerprint: segment.Fingerprint{Size: 1048371, Digest: 0x2c5e0a4b7d1f9e36, DigestKnown: true, Edges: 0x9b03e1f27a6c5d48}}}}
	require.Equal(t, golden, string(c.encode()))
	got, err := decodeCheckpoint("cp", []byte(golden))
	require.NoError(t, err)
	require.Equal(t, c, got)
	// Version 2 (no manifest) and version 1 (no newest-segment) still read.
	const version2 = "strata-partition-checkpoint 2\nlog-start-offset 250\nrecovery-point 368769\nnewest-segment 368769\nclean-shutdown false\ncrc32c 8da559b1\n"
	got, err = decodeCheckpoint("cp", []byte(version2))
	require.NoError(t, err)
	require.Equal(t, checkpoint{logStartOffset: 250, recoveryPoint: 368769, newestSegment: 368769}, got)
	const version1 = "strata-partition-checkpoint 1\nlog-start-offset 250\nrecovery-point 368769\nclean-shutdown false\ncrc32c 211305dd\n"
	got, err = decodeCheckpoint("cp", []byte(version1))
	require.NoError(t, err)
	require.Equal(t, checkpoint{logStartOffset: 250, recoveryPoint: 368769, newestSegment: -1}, got)
	// An unknown digest is "-"; a bad entry is corrupt.
	unknown := checkpoint{newestSegment: 9, hasManifest: true, manifest: []manifestEntry{{base: 0, next: 9, Fingerprint: segment.Fingerprint{Size: 700, Edges: 0x1d}}}}
	got, err = decodeCheckpoint("cp", unknown.encode())
	require.NoError(t, err)
	require.Equal(t, unknown, got)
	for _, entry := range []string{"segment-x 9 700 - 00000000000000aa", "segment-0 9 700 -", "segment-5 4 700 - 00000000000000aa", "segment-0 9 -1 - 00000000000000aa", "segment-0 9 700 zz 00000000000000aa", "segment--1 9 700 - 00000000000000aa", "segment-0 9 700 - -"} {
		data := keyvalue.Encode("strata-partition-checkpoint", 3, "log-start-offset", "0", "recovery-point", "0", "newest-segment", "0", "clean-shutdown", "false",
			strings.Fields(entry)[0], strings.Join(strings.Fields(entry)[1:], " "))
		_, err := decodeCheckpoint("cp", data)
		require.ErrorIs(t, err, errs.ErrCorrupt, "%q", entry)
	}
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
