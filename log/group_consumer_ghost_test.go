package log_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// Members closed while their join is in flight leave no ghost behind: the group is
// empty once every Close returned, offsets can be committed to it by the admin API,
// and a new member gets every partition without waiting for a session timeout.
func TestGroupMembersClosedDuringJoinLeaveNoGhosts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "jobs", log.TopicConfig{Partitions: 3})
		opts := log.GroupConsumerOptions{Group: "workers", Topics: []string{"jobs"}}
		first := newGroupConsumer(t, s, opts)
		for len(first.Assignment()) != 3 {
			time.Sleep(10 * time.Millisecond) // fake time: the first member settles alone
		}
		// Two more members join: their joins wait for the first member to rejoin,
		// which it does at its next heartbeat. Every member closes meanwhile.
		var late []*log.GroupConsumer
		for range 2 {
			late = append(late, newGroupConsumer(t, s, opts))
		}
		time.Sleep(100 * time.Millisecond)
		for _, g := range late {
			require.NoError(t, g.Close())
		}
		require.NoError(t, first.Close())
		time.Sleep(10 * time.Second) // well below the 45 s session timeout

		d, err := s.DescribeGroup("workers")
		require.NoError(t, err)
		require.Empty(t, d.Members, "members left behind by Close")
		ctx := context.Background()
		require.NoError(t, s.CommitGroupOffsets(ctx, "workers", map[log.TopicPartition]log.OffsetAndMetadata{tp("jobs", 0): {Offset: 0}}))

		next := newGroupConsumer(t, s, opts)
		defer next.Close()
		time.Sleep(5 * time.Second) // a heartbeat or two, far below the session timeout
		require.Len(t, next.Assignment(), 3, "the new member waits for ghosts: %s", fmt.Sprint(next.Assignment()))
	})
}

// The same for a static member (InstanceID), which skips the member-id handshake
// as in Kafka: closed while its join waits, it leaves by its instance id.
func TestGroupStaticMemberClosedDuringJoinLeavesNoGhost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "jobs", log.TopicConfig{Partitions: 2})
		// The eager protocol: the first member revokes everything before it rejoins.
		opts := log.GroupConsumerOptions{Group: "workers", Topics: []string{"jobs"}, Assignors: []log.Assignor{group.RangeAssignor{}}}
		first := newGroupConsumer(t, s, opts)
		defer first.Close()
		synctest.Wait()
		static := opts
		static.InstanceID = "worker-2"
		// Its join waits for the first member, whose revocation waits for its
		// application: it has records in hand and does not poll.
		produce(t, s, "jobs", 0, 1)
		_, err := first.Poll(context.Background())
		require.NoError(t, err)
		late := newGroupConsumer(t, s, static)
		synctest.Wait()
		began := time.Now()
		require.NoError(t, late.Close())
		require.Zero(t, time.Since(began), "Close waited for the group")
		d, err := s.DescribeGroup("workers")
		require.NoError(t, err)
		require.Len(t, d.Members, 1, "the static member closed during its join stayed")
	})
}
