package partition_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// FuzzReadSequence overwrites the fields that lie outside a batch's CRC (baseOffset,
// batchLength, partitionLeaderEpoch) of one batch of a closed partition, then reads
// the partition from its start: a read either fails with ErrCorrupt or returns each
// record at its own offset (values name their offsets); it never skips, repeats or
// renumbers records silently, and never hangs.
func FuzzReadSequence(f *testing.F) {
	f.Add(uint8(3), int64(-1), int32(-1), int32(0))
	f.Add(uint8(0), int64(1), int32(-1), int32(7))
	f.Add(uint8(7), int64(1<<40), int32(-1), int32(0))
	f.Add(uint8(12), int64(-1), int32(10), int32(0))
	f.Add(uint8(5), int64(0), int32(-1), int32(0))
	f.Fuzz(func(t *testing.T, batch uint8, base int64, length, epoch int32) {
		fsys := vfs.NewMem()
		p := open(t, fsys, damageOptions())
		appendN(t, p, 60, 3)
		target := int64(batch%20) * 3
		loc, err := p.Locate(target)
		require.NoError(t, err)
		require.NoError(t, p.Close())

		f, err := fsys.OpenFile(loc.Path, 2, 0)
		require.NoError(t, err)
		var head [16]byte
		_, err = f.ReadAt(head[:], loc.Position)
		require.NoError(t, err)
		if base >= 0 {
			binary.BigEndian.PutUint64(head[0:], uint64(base))
		}
		if length >= 0 {
			binary.BigEndian.PutUint32(head[8:], uint32(length))
		}
		binary.BigEndian.PutUint32(head[12:], uint32(epoch))
		_, err = f.WriteAt(head[:], loc.Position)
		require.NoError(t, err)
		require.NoError(t, f.Close())

		p, err = openAt(fsys, damageOptions())
		if err != nil {
			require.ErrorIs(t, err, errs.ErrCorrupt)
			return
		}
		defer p.Close()
		r := p.NewReader(p.StartOffset(), 0)
		want := p.StartOffset()
		for n := 0; ; n++ {
			require.Less(t, n, 1000, "the read does not end")
			rec, err := r.TryNext()
			if err != nil {
				require.ErrorIs(t, err, errs.ErrCorrupt)
				return
			}
			if rec == nil {
				require.Equal(t, p.EndOffset(), r.Offset())
				require.Equal(t, int64(60), p.EndOffset())
				return
			}
			require.Equal(t, want, rec.Offset, "a record skipped or repeated")
			require.Equal(t, string(value(rec.Offset)), string(rec.Value), "a record at the wrong offset")
			want++
		}
	})
}
