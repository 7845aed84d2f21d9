package partition_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
)

// corruptLog rewrites, in dir's only .log, the first occurrence of old with new
// (of the same length) and returns the position of old.
func corruptLog(t *testing.T, dir string, old, new []byte) int {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	require.NoError(t, err)
	require.Len(t, logs, 1)
	data, err := os.ReadFile(logs[0])
	require.NoError(t, err)
	i := bytes.Index(data, old)
	require.GreaterOrEqual(t, i, 0)
	copy(data[i:], new)
	require.NoError(t, os.WriteFile(logs[0], data, 0o644))
	return i
}

// TestReaderCheckCRCs checks that a Reader verifies CRCs by default, that
// SetCheckCRCs(false) returns a record whose value bytes changed on disk as they
// are, and that a record whose structure is broken is an error either way.
func TestReaderCheckCRCs(t *testing.T) {
	dir := t.TempDir()
	p, err := partition.Open(dir, nil)
	require.NoError(t, err)
	appendN(t, p, 20, 20)
	require.NoError(t, p.Close())
	corruptLog(t, dir, value(5), []byte("valuX-5"))

	p, err = partition.Open(dir, nil)
	require.NoError(t, err)
	defer p.Close()
	r := p.NewReader(0, 0)
	_, err = r.TryNext()
	require.ErrorIs(t, err, errs.ErrCorrupt)

	r = p.NewReader(0, 0)
	r.SetCheckCRCs(false)
	for o := range int64(20) {
		rec, err := r.TryNext()
		require.NoError(t, err)
		want := value(o)
		if o == 5 {
			want = []byte("valuX-5")
		}
		require.Equal(t, want, rec.Value)
	}

	// A value length of -64 (zig-zag 0x7f) breaks record 7's structure.
	i := corruptLog(t, dir, value(7), value(7))
	require.NoError(t, p.Close())
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	data, err := os.ReadFile(logs[0])
	require.NoError(t, err)
	data[i-1] = 0x7f
	require.NoError(t, os.WriteFile(logs[0], data, 0o644))
	p, err = partition.Open(dir, nil)
	require.NoError(t, err)
	defer p.Close()
	r = p.NewReader(0, 0)
	r.SetCheckCRCs(false)
	var last int64 = -1
	for {
		rec, err := r.TryNext()
		if err != nil {
			require.ErrorIs(t, err, errs.ErrCorrupt)
			break
		}
		require.NotNil(t, rec, "the broken record must not pass")
		last = rec.Offset
	}
	require.Less(t, last, int64(7))
}
