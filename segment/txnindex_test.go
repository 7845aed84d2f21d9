package segment_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestTxnIndexEntryFormat: an entry is Kafka's 34 bytes.
func TestTxnIndexEntryFormat(t *testing.T) {
	e := segment.AppendAbortedTxnEntry(nil, segment.AbortedTxn{ProducerID: 0x0102, FirstOffset: 3, LastOffset: 0x10, LastStableOffset: 0x11})
	require.Equal(t, "0000"+"0000000000000102"+"0000000000000003"+"0000000000000010"+"0000000000000011", hex.EncodeToString(e))
	require.Len(t, e, segment.AbortedTxnSize)
}

// TestTxnIndexDecodeRejects: invalid entries are errors, a torn last entry is left
// out.
func TestTxnIndexDecodeRejects(t *testing.T) {
	good := segment.AbortedTxn{ProducerID: 1, FirstOffset: 2, LastOffset: 5, LastStableOffset: 6}
	entry := func(ts ...segment.AbortedTxn) []byte {
		var b []byte
		for _, t := range ts {
			b = segment.AppendAbortedTxnEntry(b, t)
		}
		return b
	}
	version1 := entry(good)
	version1[1] = 1
	tests := []struct {
		name string
		b    []byte
	}{
		{"version 1", version1},
		{"negative producer", entry(segment.AbortedTxn{ProducerID: -1, LastOffset: 1})},
		{"first above last", entry(segment.AbortedTxn{ProducerID: 1, FirstOffset: 4, LastOffset: 3})},
		{"markers not ascending", entry(good, good)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := segment.DecodeAbortedTxns(tt.b)
			require.Error(t, err)
		})
	}
	txns, whole, err := segment.DecodeAbortedTxns(append(entry(good), 0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []segment.AbortedTxn{good}, txns)
	require.Equal(t, segment.AbortedTxnSize, whole)
}

// TestTxnIndexLifecycle: entries survive Open, a truncation drops those whose
// marker it removed, Recover drops those whose marker a torn tail took, Remove
// deletes the file.
func TestTxnIndexLifecycle(t *testing.T) {
	fsys := newFS(t)
	s, err := segment.Create(fsys, dir, 0, nil)
	require.NoError(t, err)
	for base := int64(0); base < 6; base += 2 {
		b, h := batchOf(t, base, 2, 1000)
		require.NoError(t, s.Append(b, &h))
	}
	a := segment.AbortedTxn{ProducerID: 1, FirstOffset: 0, LastOffset: 1, LastStableOffset: 2}
	c := segment.AbortedTxn{ProducerID: 2, FirstOffset: 2, LastOffset: 4, LastStableOffset: 5}
	require.NoError(t, s.AppendAbortedTxn(a))
	require.ErrorIs(t, s.AppendAbortedTxn(a), errs.ErrInvalidArgument, "not above the last entry")
	require.NoError(t, s.AppendAbortedTxn(c))
	require.NoError(t, s.Seal())
	require.NoError(t, s.Close())

	s, err = segment.Open(fsys, dir, 0, nil)
	require.NoError(t, err)
	require.Equal(t, []segment.AbortedTxn{a, c}, s.AbortedTxns(nil, 0))
	got, complete := s.CollectAbortedTxns(nil, 2, 4)
	require.Equal(t, []segment.AbortedTxn{c}, got)
	require.True(t, complete, "c's last stable offset 5 reaches 4")
	require.NoError(t, s.TruncateTo(4))
	require.Equal(t, []segment.AbortedTxn{a}, s.AbortedTxns(nil, 0))
	require.NoError(t, s.Close())
	f, err := fsys.OpenFile(segment.TxnIndexPath(dir, 0), 0, 0)
	require.NoError(t, err)
	size, err := f.Size()
	require.NoError(t, err)
	require.EqualValues(t, segment.AbortedTxnSize, size)
	require.NoError(t, f.Close())

	s, err = segment.Open(fsys, dir, 0, nil)
	require.NoError(t, err)
	require.NoError(t, s.Remove())
	_, err = fsys.Stat(segment.TxnIndexPath(dir, 0))
	require.Error(t, err)
}

// TestTxnIndexRecoverDropsLostMarkers: after a crash that lost the tail of the
// .log, Recover keeps only the entries whose marker survived.
func TestTxnIndexRecoverDropsLostMarkers(t *testing.T) {
	fsys := vfs.NewCrashable()
	require.NoError(t, vfs.MkdirAllSync(fsys, dir))
	s, err := segment.Create(fsys, dir, 0, nil)
	require.NoError(t, err)
	b, h := batchOf(t, 0, 2, 1000)
	require.NoError(t, s.Append(b, &h))
	require.NoError(t, s.Seal())
	require.NoError(t, fsys.SyncDir(dir))
	b, h = batchOf(t, 2, 2, 1000)
	require.NoError(t, s.Append(b, &h))
	require.NoError(t, s.AppendAbortedTxn(segment.AbortedTxn{ProducerID: 1, LastOffset: 3, LastStableOffset: 4}))
	require.NoError(t, s.CloseIndexes())
	// The .txnindex made it to disk, the .log's tail did not.
	crashed := fsys.Crash(vfs.DropUnsynced, 1)
	idx, err := vfs.ReadFile(fsys, segment.TxnIndexPath(dir, 0))
	require.NoError(t, err)
	require.NoError(t, vfs.WriteFileAtomic(crashed, segment.TxnIndexPath(dir, 0), idx))
	r, _, err := segment.Recover(crashed, dir, 0, nil, 0)
	require.NoError(t, err)
	defer r.Close()
	require.EqualValues(t, 2, r.NextOffset())
	require.Empty(t, r.AbortedTxns(nil, 0))
}

// FuzzDecodeAbortedTxns: any bytes decode or fail, never panic, and what decodes
// encodes back to the same bytes.
func FuzzDecodeAbortedTxns(f *testing.F) {
	f.Add(segment.AppendAbortedTxnEntry(nil, segment.AbortedTxn{ProducerID: 1, FirstOffset: 2, LastOffset: 3, LastStableOffset: 4}))
	f.Add([]byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		txns, whole, err := segment.DecodeAbortedTxns(b)
		if err != nil {
			return
		}
		var back []byte
		for _, x := range txns {
			back = segment.AppendAbortedTxnEntry(back, x)
		}
		if !bytes.Equal(back, b[:whole]) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b[:whole], txns, back)
		}
	})
}
