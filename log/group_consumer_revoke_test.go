package log_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A revocation waits for the records the application was handed: the partition
// moves to the new member only once the old one called Poll again (so finished
// them), however long that takes (the old member keeps heartbeating meanwhile),
// and the new member starts after them. A graceful rebalance redelivers nothing.
func TestGroupRevocationWaitsForPolledRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		produce(t, s, "t", 0, 50)
		produce(t, s, "t", 1, 50)
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second}
		ctx := context.Background()
		old := newGroupConsumer(t, s, opts)
		defer old.Close()
		synctest.Wait()
		require.Len(t, old.Assignment(), 2)
		held := map[log.TopicPartition]int64{} // the next offset after what old was handed
		for len(held) < 2 {
			records, err := old.Poll(ctx)
			require.NoError(t, err)
			for _, r := range records {
				held[tp(r.Topic, r.Partition)] = r.Offset + 1
			}
		}

		var (
			mu       sync.Mutex
			assigned []log.TopicPartition
		)
		assignedNow := func() []log.TopicPartition { mu.Lock(); defer mu.Unlock(); return slices.Clone(assigned) }
		newOpts := opts
		newOpts.OnAssigned = func(tps []log.TopicPartition) { mu.Lock(); defer mu.Unlock(); assigned = append(assigned, tps...) }
		joiner := newGroupConsumer(t, s, newOpts)
		defer joiner.Close()
		time.Sleep(time.Minute) // fake time: six session timeouts of the old member
		synctest.Wait()
		require.Empty(t, assignedNow(), "the partition moved while its records were in the application's hands")
		require.Len(t, old.Assignment(), 1, "the partition being revoked is no longer read")

		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := old.Poll(pollCtx) // the application is done with what it was handed
		require.ErrorIs(t, err, context.DeadlineExceeded)
		synctest.Wait()
		require.Len(t, assignedNow(), 1, "the partition moves once the application polled again")
		moved := assignedNow()[0]
		pos, err := joiner.Position(moved)
		require.NoError(t, err)
		require.Equal(t, held[moved], pos, "the new owner starts after what the old one was handed")
	})
}
