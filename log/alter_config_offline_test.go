package log_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigReopenFailureTellsGroupConsumers: a partition that does not
// open again after AlterTopicConfig goes offline, and a GroupConsumer reading it is
// told as when a partition goes offline otherwise: one Poll returns the error, and
// the next ones serve the other partitions, rather than failing on every Poll.
func TestAlterTopicConfigReopenFailureTellsGroupConsumers(t *testing.T) {
	var faults vfs.Switch
	s := openStore(t, vfs.NewFaulty(vfs.NewMem(), faults.Inject), &log.Options{RetentionCheckInterval: -1})
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	produce(t, s, "orders", 0, 2)
	produce(t, s, "orders", 1, 2)
	g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"orders"}, Reset: log.ResetEarliest})
	defer g.Close()
	for seen := 0; seen < 4; {
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		seen += len(records)
	}

	faults.Set(vfs.Match("orders-0", vfs.FailOp(vfs.OpOpen, syscall.EIO)))
	err := s.AlterTopicConfig(ctx, "orders", log.TopicConfig{SegmentBytes: 4096})
	faults.Set(nil)
	require.ErrorIs(t, err, log.ErrPartitionOffline)
	require.Len(t, s.OfflinePartitions(), 1)

	produceFrom(t, s, "orders", 1, 2, 3)
	var got []*log.Record
	errs := 0
	for len(got) < 3 {
		records, err := g.Poll(ctx)
		if err != nil {
			require.ErrorIs(t, err, log.ErrPartitionOffline)
			errs++
			require.LessOrEqual(t, errs, 1, "the offline partition's error comes once: %v", err)
			continue
		}
		got = append(got, records...)
	}
	for _, r := range got {
		require.EqualValues(t, 1, r.Partition)
	}
}
