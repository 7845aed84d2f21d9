package partition

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
)

// TestCheckpointFormat holds the code to the example in FORMAT.md.
func TestCheckpointFormat(t *testing.T) {
	const golden = "strata-partition-checkpoint 1\nlog-start-offset 250\nrecovery-point 368769\nclean-shutdown false\ncrc32c 211305dd\n"
	c := checkpoint{logStartOffset: 250, recoveryPoint: 368769}
	require.Equal(t, golden, string(c.encode()))
	got, err := decodeCheckpoint("cp", []byte(golden))
	require.NoError(t, err)
	require.Equal(t, c, got)
	for _, bad := range []string{"", "\n", golden[:len(golden)-1], golden[:40] + "9" + golden[41:], "crc32c 00000000\n"} {
		_, err := decodeCheckpoint("cp", []byte(bad))
		require.ErrorIs(t, err, errs.ErrCorrupt, "%q", bad)
	}
}
