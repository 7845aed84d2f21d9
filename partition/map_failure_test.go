package partition_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// unmappableFS is the OS filesystem whose mappings always fail, as past the kernel's
// vm.max_map_count.
type unmappableFS struct{ vfs.FS }

func (unmappableFS) MapFile(vfs.File, int64) (*vfs.Mapping, error) {
	return nil, errors.New("cannot allocate memory")
}

// TestMapFailureReadsThroughTheFile checks that a partition whose segments cannot be
// mapped reads them correctly through the file, and logs the failure once per segment.
func TestMapFailureReadsThroughTheFile(t *testing.T) {
	var logs bytes.Buffer
	opts := &partition.Options{
		FS:           unmappableFS{vfs.OS},
		SegmentBytes: 64 << 10,
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	}
	p, err := partition.Open(t.TempDir(), opts)
	require.NoError(t, err)
	defer p.Close()
	appendN(t, p, 5000, 10)
	segments := p.Stats().Segments
	require.Greater(t, segments, 1)
	for range 3 {
		require.Equal(t, int64(5000), readAll(t, p, 0))
	}
	warnings := strings.Count(logs.String(), "cannot map segment")
	require.Equal(t, segments, warnings, "one warning per segment:\n%s", logs.String())
}
