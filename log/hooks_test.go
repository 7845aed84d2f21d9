package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestHooksRollAndFsync: partition rolls and fsyncs reach the store's hooks, tagged
// with their topic and partition.
func TestHooksRollAndFsync(t *testing.T) {
	var rolls []log.RollEvent
	var fsyncs []log.FsyncEvent
	s := openStore(t, vfs.NewMem(), &log.Options{Hooks: log.Hooks{
		OnRoll:  func(e log.RollEvent) { rolls = append(rolls, e) },
		OnFsync: func(e log.FsyncEvent) { fsyncs = append(fsyncs, e) },
	}})
	ctx := context.Background()
	require.NoError(t, s.CreateTopic(ctx, "events", log.TopicConfig{Partitions: 1, SegmentBytes: 1024}))
	for range 40 {
		require.NoError(t, s.Produce(ctx, &log.Record{Topic: "events", Value: make([]byte, 100)}))
	}
	require.NotEmpty(t, rolls)
	require.NotEmpty(t, fsyncs)
	require.Equal(t, log.TopicPartition{Topic: "events", Partition: 0}, rolls[0].TopicPartition)
	require.Equal(t, log.TopicPartition{Topic: "events", Partition: 0}, fsyncs[0].TopicPartition)
}
