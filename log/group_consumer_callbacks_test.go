package log_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A rebalance callback that takes longer than the session timeout (here OnRevoked
// flushing state for two minutes, against a session of 10 s) does not cost the
// member its place in the group: the member keeps heartbeating meanwhile, as the
// Java consumer's heartbeat thread does while poll runs the callbacks, and
// MaxPollInterval bounds the callback instead.
func TestGroupSlowCallbackKeepsTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second}
		var lost atomic.Int32
		slowOpts := opts
		slowOpts.OnRevoked = func([]log.TopicPartition) { time.Sleep(2 * time.Minute) }
		slowOpts.OnLost = func([]log.TopicPartition) { lost.Add(1) }
		slow := newGroupConsumer(t, s, slowOpts)
		defer slow.Close()
		synctest.Wait()
		require.Len(t, slow.Assignment(), 2)

		joiner := newGroupConsumer(t, s, opts)
		defer joiner.Close()
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		require.Zero(t, lost.Load(), "put out of the group during its OnRevoked")
		require.Len(t, slow.Assignment(), 1)
		require.Len(t, joiner.Assignment(), 1)
	})
}

// A callback that runs longer than MaxPollInterval keeps the session no longer:
// the group puts the member out, and its partitions go to the others.
func TestGroupHungCallbackLosesTheSessionAfterMaxPollInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second,
			MaxPollInterval: 5 * time.Minute}
		hungOpts := opts
		hungOpts.OnRevoked = func([]log.TopicPartition) { time.Sleep(time.Hour) }
		hung := newGroupConsumer(t, s, hungOpts)
		defer hung.Close()
		synctest.Wait()
		joiner := newGroupConsumer(t, s, opts)
		defer joiner.Close()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		require.Len(t, joiner.Assignment(), 0, "the hung member is still in the group within MaxPollInterval")
		time.Sleep(time.Minute) // its session lapsed
		synctest.Wait()
		require.Len(t, joiner.Assignment(), 2)
	})
}
