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

// A member whose application hangs (no Poll within MaxPollInterval) leaves the
// group: its partitions are lost to it (OnLost) and go to the other member, which
// reads what the hung one was handed again (it was never committed). When the
// application comes back and polls, the member joins again.
func TestGroupMaxPollIntervalPutsAHungMemberOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		produce(t, s, "t", 0, 20)
		produce(t, s, "t", 1, 20)
		ctx := context.Background()
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second, MaxPollInterval: time.Minute}
		var (
			mu   sync.Mutex
			lost []log.TopicPartition
		)
		lostNow := func() []log.TopicPartition { mu.Lock(); defer mu.Unlock(); return slices.Clone(lost) }
		hungOpts := opts
		hungOpts.OnLost = func(tps []log.TopicPartition) { mu.Lock(); defer mu.Unlock(); lost = append(lost, tps...) }
		hung := newGroupConsumer(t, s, hungOpts)
		defer hung.Close()
		healthy := newGroupConsumer(t, s, opts)
		defer healthy.Close()
		synctest.Wait()
		require.Len(t, hung.Assignment(), 1)
		require.Len(t, healthy.Assignment(), 1)
		records, err := hung.Poll(ctx) // handed records, then the application hangs
		require.NoError(t, err)
		handed := tp(records[0].Topic, records[0].Partition)

		time.Sleep(59 * time.Second)
		synctest.Wait()
		require.Empty(t, lostNow(), "put out before MaxPollInterval")
		require.Len(t, healthy.Assignment(), 1)

		time.Sleep(2 * time.Second)
		synctest.Wait()
		require.Equal(t, []log.TopicPartition{handed}, lostNow())
		require.Empty(t, hung.Assignment())
		require.Len(t, healthy.Assignment(), 2, "the hung member's partition went to the other")
		pos, err := healthy.Position(handed)
		require.NoError(t, err)
		require.Equal(t, records[0].Offset, pos, "what the hung member was handed is read again")
		d, err := s.DescribeGroup("g")
		require.NoError(t, err)
		require.Len(t, d.Members, 1)

		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		records, err = hung.Poll(pollCtx) // the application is back: the member joins again
		if err == nil {
			require.NotEmpty(t, records) // its partition back already
		} else {
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		synctest.Wait()
		d, err = s.DescribeGroup("g")
		require.NoError(t, err)
		require.Len(t, d.Members, 2)
	})
}
