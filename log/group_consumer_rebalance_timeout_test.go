package log_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A revocation waits for the application up to MaxPollInterval, so a rebalance
// must wait as long for the member to rejoin: left at zero, RebalanceTimeout is
// MaxPollInterval, as the Java consumer sends max.poll.interval.ms as its
// rebalance timeout. Here an eager member's application takes 20 minutes of its
// 30 over the records it holds; the group waits for it instead of putting it out
// after 5 minutes.
func TestGroupRebalanceTimeoutFollowsMaxPollInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		produce(t, s, "t", 0, 10)
		produce(t, s, "t", 1, 10)
		ctx := context.Background()
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, Assignors: []log.Assignor{group.RangeAssignor{}},
			SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second, MaxPollInterval: 30 * time.Minute}
		slow := newGroupConsumer(t, s, opts)
		defer slow.Close()
		synctest.Wait()
		_, err := slow.Poll(ctx) // the application works on these for 20 minutes
		require.NoError(t, err)
		joiner := newGroupConsumer(t, s, opts)
		defer joiner.Close()
		time.Sleep(20 * time.Minute)
		synctest.Wait()
		d, err := s.DescribeGroup("g")
		require.NoError(t, err)
		require.Len(t, d.Members, 2, "the slow member was put out of the group while MaxPollInterval gave it time")

		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err = slow.Poll(pollCtx) // done with them
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		synctest.Wait()
		require.Len(t, slow.Assignment(), 1)
		require.Len(t, joiner.Assignment(), 1)
	})
}
