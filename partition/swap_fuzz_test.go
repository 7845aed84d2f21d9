package partition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// FuzzRecoverCompaction plants what an interrupted compaction's swap leaves, and what
// it never leaves, in a partition of 60 records: a <base>.log.swap holding segments
// first..last (a real swap's content, these records unchanged), a prefix of it, or
// arbitrary bytes; with the segments it replaces removed or not, and a .cleaned file.
// Open must not panic, and if it succeeds no record is lost or renumbered: a swap
// that would lose records is refused (ErrCorrupt), never renamed over a segment.
func FuzzRecoverCompaction(f *testing.F) {
	f.Add(uint8(0), uint8(1), int32(-1), []byte(nil), uint8(0), false)
	f.Add(uint8(1), uint8(2), int32(-1), []byte(nil), uint8(3), true)
	f.Add(uint8(0), uint8(0), int32(0), []byte(nil), uint8(0), false)
	f.Add(uint8(2), uint8(2), int32(100), []byte(nil), uint8(1), false)
	f.Add(uint8(3), uint8(3), int32(-1), []byte(nil), uint8(0), false)
	f.Add(uint8(1), uint8(1), int32(-1), []byte("garbage"), uint8(0), true)
	f.Fuzz(func(t *testing.T, first, last uint8, cut int32, raw []byte, removed uint8, cleaned bool) {
		fsys, bases := damagedStore(t, true)
		i, j := int(first)%len(bases), int(last)%len(bases)
		if i > j {
			i, j = j, i
		}
		var content []byte
		for _, base := range bases[i : j+1] {
			data, err := vfs.ReadFile(fsys, segment.LogPath(partitionDir, base))
			require.NoError(t, err)
			content = append(content, data...)
		}
		if cut >= 0 {
			content = content[:min(int(cut), len(content))]
		}
		if raw != nil {
			content = raw
		}
		swap := segment.LogPath(partitionDir, bases[i]) + segment.SwapSuffix
		require.NoError(t, vfs.WriteFileAtomic(fsys, swap, content))
		for k := range int(removed) % (j - i + 2) { // remove the first k segments replaced
			require.NoError(t, fsys.Remove(segment.LogPath(partitionDir, bases[i+k])))
		}
		if cleaned {
			require.NoError(t, vfs.WriteFileAtomic(fsys, segment.LogPath(partitionDir, bases[j])+segment.CleanedSuffix, content))
		}

		p, err := openAt(fsys, damageOptions())
		if err != nil {
			require.ErrorIs(t, err, errs.ErrCorrupt)
			return
		}
		defer p.Close()
		require.Equal(t, int64(60), p.EndOffset())
		r := p.NewReader(p.StartOffset(), 0)
		want := p.StartOffset()
		for {
			rec, err := r.TryNext()
			if err != nil {
				require.ErrorIs(t, err, errs.ErrCorrupt)
				return
			}
			if rec == nil {
				break
			}
			require.Equal(t, want, rec.Offset, "a record lost")
			require.Equal(t, string(value(rec.Offset)), string(rec.Value))
			want++
		}
		require.Equal(t, int64(60), want)
	})
}
