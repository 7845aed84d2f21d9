package partition

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
)

// FuzzCheckpoints decodes arbitrary bytes as both checkpoint files: never a panic,
// anything refused is a *CorruptError, and anything accepted encodes back to a file
// that decodes to the same content.
func FuzzCheckpoints(f *testing.F) {
	f.Add(checkpoint{logStartOffset: 250, recoveryPoint: 368769}.encode())
	f.Add(checkpoint{cleanShutdown: true}.encode())
	f.Add([]byte("strata-partition-checkpoint 3\nlog-start-offset 250\nrecovery-point 368769\nnewest-segment 368769\nclean-shutdown false\nsegment-250 368769 1048371 2c5e0a4b7d1f9e36 9b03e1f27a6c5d48\ncrc32c cd715086\n"))
	f.Add([]byte("strata-partition-checkpoint 2\nlog-start-offset 250\nrecovery-point 368769\nnewest-segment 368769\nclean-shutdown false\ncrc32c 8da559b1\n"))
	f.Add(cleanerCheckpoint{point: 368769, gapsBelow: 368769}.encode())
	f.Add([]byte("strata-cleaner-checkpoint 1\ncleaner-point 368769\ncrc32c f7fe17bd\n"))
	f.Add([]byte("crc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := decodeCheckpoint("cp", data); err != nil {
			require.ErrorIs(t, err, errs.ErrCorrupt)
		} else {
			again, err := decodeCheckpoint("cp", c.encode())
			require.NoError(t, err)
			again.hasManifest = c.hasManifest // an older version is written as the current one
			require.Equal(t, c, again)
		}
		if c, err := decodeCleanerCheckpoint("cp", data); err != nil {
			require.ErrorIs(t, err, errs.ErrCorrupt)
		} else {
			again, err := decodeCleanerCheckpoint("cp", c.encode())
			require.NoError(t, err)
			require.Equal(t, c, again)
		}
	})
}
