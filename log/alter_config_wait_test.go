package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigWakesWaitingConsumers: a Consumer and a GroupConsumer
// waiting at the end of a partition that AlterTopicConfig opens again get the
// record produced after it, at the next offset, from the reopened partition.
func TestAlterTopicConfigWakesWaitingConsumers(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{RetentionCheckInterval: -1})
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{})
	produce(t, s, "orders", 0, 5)

	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp("orders", 0)))
	require.Len(t, pollN(t, c, 5), 5)
	g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"orders"}, Reset: log.ResetEarliest})
	var seen int
	for seen < 5 {
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		seen += len(records)
	}

	type polled struct {
		records []*log.Record
		err     error
	}
	poll := func(f func(context.Context) ([]*log.Record, error)) <-chan polled {
		out := make(chan polled, 1)
		go func() {
			records, err := f(ctx)
			out <- polled{records, err}
		}()
		return out
	}
	fromConsumer, fromGroup := poll(c.Poll), poll(g.Poll)
	require.NoError(t, s.AlterTopicConfig(ctx, "orders", log.TopicConfig{SegmentBytes: 4096}))
	produceFrom(t, s, "orders", 0, 5, 1)
	for name, ch := range map[string]<-chan polled{"consumer": fromConsumer, "group consumer": fromGroup} {
		got := <-ch
		require.NoError(t, got.err, name)
		require.Len(t, got.records, 1, name)
		require.EqualValues(t, 5, got.records[0].Offset, name)
	}
}
