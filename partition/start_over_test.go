package partition_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

func TestTruncateFullyAndStartAt(t *testing.T) {
	fsys := vfs.NewMem()
	opts := &partition.Options{FS: fsys, SegmentBytes: 400, Replicated: true}
	p, err := partition.Open("/p", opts)
	require.NoError(t, err)
	for i := range 20 {
		_, err := p.Append(context.Background(), []partition.Record{{Value: fmt.Appendf(nil, "v%d", i)}})
		require.NoError(t, err)
	}
	require.NoError(t, p.AssignEpoch(3))
	require.ErrorIs(t, p.TruncateFullyAndStartAt(5), partition.ErrOffsetOutOfRange)
	require.NoError(t, p.TruncateFullyAndStartAt(100))
	require.Equal(t, int64(100), p.StartOffset())
	require.Equal(t, int64(100), p.WrittenOffset())
	require.Equal(t, int64(100), p.HighWatermark())
	epochs, err := p.Epochs()
	require.NoError(t, err)
	require.Empty(t, epochs)
	require.NoError(t, p.Close())
	p, err = partition.Open("/p", opts)
	require.NoError(t, err)
	defer p.Close()
	require.Equal(t, int64(100), p.StartOffset())
	require.Equal(t, int64(100), p.WrittenOffset())
}

// TestTruncateFullyAndStartAtCrash fails each step of a start over in turn, then
// crashes: the partition opens, holding either the old log or the empty new one.
func TestTruncateFullyAndStartAtCrash(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpRename, vfs.OpRemove, vfs.OpSyncDir, vfs.OpOpen, vfs.OpWrite} {
		for n := range 8 {
			t.Run(fmt.Sprintf("%v-%d", op, n), func(t *testing.T) {
				crash := vfs.NewCrashable()
				var faults vfs.Switch
				opts := &partition.Options{FS: vfs.NewFaulty(crash, faults.Inject), SegmentBytes: 400}
				p, err := partition.Open("/p", opts)
				require.NoError(t, err)
				for i := range 20 {
					_, err := p.Append(context.Background(), []partition.Record{{Value: fmt.Appendf(nil, "v%d", i)}})
					require.NoError(t, err)
				}
				faults.Set(vfs.FailAfter(op, n, errors.New("injected")))
				startErr := p.TruncateFullyAndStartAt(100)
				image := crash.Crash(vfs.DropUnsynced, 0)
				_ = p.Close()
				q, err := partition.Open("/p", &partition.Options{FS: image, SegmentBytes: 400})
				require.NoError(t, err, "start over: %v", startErr)
				defer q.Close()
				switch q.StartOffset() {
				case 0:
					require.Error(t, startErr)
					require.Equal(t, int64(20), q.EndOffset())
				case 100:
					require.Equal(t, int64(100), q.EndOffset())
				default:
					t.Fatalf("start offset %d", q.StartOffset())
				}
			})
		}
	}
}
