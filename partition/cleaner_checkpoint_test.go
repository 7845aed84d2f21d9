package partition

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
)

// TestCleanerCheckpointFormat holds the code to the example in FORMAT.md.
func TestCleanerCheckpointFormat(t *testing.T) {
	const golden = "strata-cleaner-checkpoint 1\ncleaner-point 368769\ncrc32c f7fe17bd\n"
	require.Equal(t, golden, string(encodeCleanerCheckpoint(368769)))
	got, err := decodeCleanerCheckpoint("cp", []byte(golden))
	require.NoError(t, err)
	require.Equal(t, int64(368769), got)
	for _, bad := range []string{"", "\n", golden[:len(golden)-1], golden[:30] + "9" + golden[31:], "crc32c 00000000\n",
		"strata-cleaner-checkpoint 2\ncleaner-point 1\ncrc32c 00000000\n"} {
		_, err := decodeCleanerCheckpoint("cp", []byte(bad))
		require.ErrorIs(t, err, errs.ErrCorrupt, "%q", bad)
	}
	negative := encodeCleanerCheckpoint(-5)
	_, err = decodeCleanerCheckpoint("cp", negative)
	require.ErrorIs(t, err, errs.ErrCorrupt)
}
