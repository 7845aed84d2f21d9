package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestNextFollowsTheLeader: in a store of several brokers, Next and TryNext read on
// from a partition's new leader once its broker stopped, the other partition's
// records neither skipped nor read twice, and CaughtUp agrees with TryNext's nil.
func TestNextFollowsTheLeader(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 5)
	produce(t, s, "orders", 1, 5)
	c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 3}, tp("orders", 0), tp("orders", 1))
	got := nextN(t, c, 7) // 0-2 of partition 0, 0-2 of 1, 3 of 0
	require.NoError(t, s.StopBroker(describe(t, s, "orders").Partitions[0].Leader))
	produceFrom(t, s, "orders", 0, 5, 3)
	produceFrom(t, s, "orders", 1, 5, 3)
	for {
		r, err := c.TryNext()
		require.NoError(t, err)
		if r == nil {
			break
		}
		got = append(got, *r)
	}
	offsets := map[int32][]int64{}
	for _, r := range got {
		offsets[r.Partition] = append(offsets[r.Partition], r.Offset)
	}
	every := []int64{0, 1, 2, 3, 4, 5, 6, 7}
	require.Equal(t, map[int32][]int64{0: every, 1: every}, offsets)
	caughtUp, err := c.CaughtUp()
	require.NoError(t, err)
	require.True(t, caughtUp)
}
