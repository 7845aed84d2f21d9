package partition_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestHooks: rolls, fsyncs and retention are reported, once each.
func TestHooks(t *testing.T) {
	var rolls []int64
	var syncs int
	var retained [][2]int64
	opts := partition.Options{
		SegmentBytes:   1024,
		RetentionBytes: 4096,
		Hooks: partition.Hooks{
			OnRoll:  func(e partition.RollEvent) { rolls = append(rolls, e.BaseOffset) },
			OnFsync: func(e partition.FsyncEvent) { require.GreaterOrEqual(t, e.Duration, time.Duration(0)); syncs++ },
			OnRetention: func(e partition.RetentionEvent) {
				retained = append(retained, [2]int64{int64(e.SegmentsDeleted), e.StartOffset})
			},
		},
	}
	p := open(t, vfs.NewMem(), opts)
	defer p.Close()
	appendN(t, p, 300, 3)
	st := p.Stats()
	require.Equal(t, int(st.Syncs), syncs, "one OnFsync per fsync")
	require.NotEmpty(t, rolls)
	for i := 1; i < len(rolls); i++ {
		require.Greater(t, rolls[i], rolls[i-1])
	}
	require.Len(t, rolls, st.Segments-1+deletedSegments(retained), "one OnRoll per new segment")
	require.NotEmpty(t, retained)
	require.Equal(t, st.StartOffset, retained[len(retained)-1][1])
}

func deletedSegments(events [][2]int64) int {
	n := 0
	for _, e := range events {
		n += int(e[0])
	}
	return n
}
