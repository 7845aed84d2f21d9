package partition_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestLoweredMaxBatchBytesKeepsStoredBatchesReadable: MaxBatchBytes, like Kafka's
// max.message.bytes, bounds the batches appended from then on. A partition opened
// again with a lower one still reads, recovers and compacts the batches it stored
// under the higher one (the checkpoint records the largest), after a clean close
// and after a crash, instead of calling them corrupt or cutting them as a torn tail.
func TestLoweredMaxBatchBytesKeepsStoredBatchesReadable(t *testing.T) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("x"), 200<<10)
	for _, clean := range []bool{true, false} {
		fsys := vfs.NewCrashable()
		p := open(t, fsys, partition.Options{MaxBatchBytes: 1 << 20})
		_, err := p.Append(ctx, []partition.Record{{Value: []byte("small")}, {Value: big}})
		require.NoError(t, err)
		_, err = p.Append(ctx, []partition.Record{{Value: big}})
		require.NoError(t, err, "fsynced before it returned")
		var reopened vfs.FS = fsys
		if clean {
			require.NoError(t, p.Close())
		} else {
			reopened = fsys.Crash(vfs.TearGarbage, 3)
		}

		lowered := partition.Options{MaxBatchBytes: 10 << 10}
		p = open(t, reopened, lowered)
		require.EqualValues(t, 3, p.EndOffset(), "clean=%v: nothing acknowledged was cut", clean)
		got := readRecords(t, p)
		require.Len(t, got, 3)
		require.Equal(t, big, got[1].Value)
		require.Equal(t, big, got[2].Value)
		_, err = p.Append(ctx, []partition.Record{{Value: big}})
		require.ErrorIs(t, err, errs.ErrRecordTooLarge, "new batches are bounded by the lower limit")
		_, err = p.Append(ctx, []partition.Record{{Value: []byte("fits")}})
		require.NoError(t, err)
		require.NoError(t, p.Close())

		// Still readable at the next open, whose checkpoint the lowered partition wrote.
		p = open(t, reopened, lowered)
		require.Len(t, readRecords(t, p), 4)
		require.NoError(t, p.Close())
	}
}
