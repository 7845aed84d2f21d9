package log_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// In one process the coordinator tells members of a rebalance at once: a group of
// three members settles, and settles again after a member leaves, without waiting
// for a single heartbeat interval.
func TestGroupSettlesWithoutWaitingForHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 6})
		began := time.Now()
		var members []*log.GroupConsumer
		for range 3 {
			members = append(members, newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, HeartbeatInterval: time.Minute, SessionTimeout: 10 * time.Minute}))
		}
		synctest.Wait()
		for _, g := range members {
			require.Len(t, g.Assignment(), 2, "settled at once")
		}
		require.NoError(t, members[0].Close())
		synctest.Wait()
		for _, g := range members[1:] {
			require.Len(t, g.Assignment(), 3, "settled again at once")
			require.NoError(t, g.Close())
		}
		require.Zero(t, time.Since(began), "no fake time passed: no heartbeat was waited for")
	})
}
