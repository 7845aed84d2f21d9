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

// A revocation waiting for a hung application gives up when MaxPollInterval
// passes: the partition being revoked is lost to the member (OnLost), as the rest
// of its partitions are, not revoked. OnRevoked, where the application commits
// what Poll returned, would commit records it never finished, and the next owner
// would skip them.
func TestGroupMaxPollIntervalLosesThePartitionsBeingRevoked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		produce(t, s, "t", 0, 20)
		produce(t, s, "t", 1, 20)
		ctx := context.Background()
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, DisableAutoCommit: true,
			SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second, MaxPollInterval: time.Minute}
		var (
			mu      sync.Mutex
			revoked []log.TopicPartition
			lost    []log.TopicPartition
			hung    *log.GroupConsumer
		)
		hungOpts := opts
		hungOpts.OnRevoked = func(tps []log.TopicPartition) {
			mu.Lock()
			revoked = append(revoked, tps...)
			mu.Unlock()
			if err := hung.Commit(ctx); err != nil { // the usual commit before a partition moves
				t.Errorf("commit in OnRevoked: %v", err)
			}
		}
		hungOpts.OnLost = func(tps []log.TopicPartition) { mu.Lock(); defer mu.Unlock(); lost = append(lost, tps...) }
		hung = newGroupConsumer(t, s, hungOpts)
		defer hung.Close()
		synctest.Wait()
		require.Len(t, hung.Assignment(), 2)
		handed := map[log.TopicPartition]int64{} // the first offset hung was handed
		for len(handed) < 2 {
			records, err := hung.Poll(ctx)
			require.NoError(t, err)
			for _, r := range records {
				if _, ok := handed[tp(r.Topic, r.Partition)]; !ok {
					handed[tp(r.Topic, r.Partition)] = r.Offset
				}
			}
		}
		// The application hangs with the records; a member joins, and the
		// revocation of the partition that moves to it waits for the application.
		joiner := newGroupConsumer(t, s, opts)
		defer joiner.Close()
		time.Sleep(61 * time.Second)
		synctest.Wait()

		mu.Lock()
		require.Empty(t, revoked, "OnRevoked while the application still held the partition's records")
		got := slices.Clone(lost)
		mu.Unlock()
		slices.SortFunc(got, compareTP)
		require.Equal(t, []log.TopicPartition{tp("t", 0), tp("t", 1)}, got, "every partition lost")
		committed, err := hung.Committed(ctx, tp("t", 0), tp("t", 1))
		require.NoError(t, err)
		require.Empty(t, committed, "nothing the hung application was handed is committed")
		require.Len(t, joiner.Assignment(), 2)
		for moved, first := range handed {
			pos, err := joiner.Position(moved)
			require.NoError(t, err)
			require.Equal(t, first, pos, "the next owner reads what the hung member was handed")
		}
	})
}
