package partition

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/keyvalue"
)

// DowngradeCheckpoint returns the partition.checkpoint data as version 2 wrote it:
// the same fields, without the manifest.
func DowngradeCheckpoint(t testing.TB, data []byte) []byte {
	t.Helper()
	c, err := decodeCheckpoint("cp", data)
	require.NoError(t, err)
	return keyvalue.Encode("strata-partition-checkpoint", 2,
		"log-start-offset", strconv.FormatInt(c.logStartOffset, 10),
		"recovery-point", strconv.FormatInt(c.recoveryPoint, 10),
		"newest-segment", strconv.FormatInt(c.newestSegment, 10),
		"clean-shutdown", strconv.FormatBool(c.cleanShutdown))
}
