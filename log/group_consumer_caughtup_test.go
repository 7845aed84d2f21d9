package log_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// CaughtUp stays false while a member that joined has not yet started reading the
// partitions it was assigned: here its fetch of their committed offsets waits for
// the group's lock, held by a commit whose write to the offsets topic the test
// holds up in the filesystem.
func TestGroupCaughtUpFalseUntilTheAssignmentIsRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold, fsys := holdOffsetsWrite(vfs.NewMem())
		s := openStore(t, fsys, nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
		produce(t, s, "t", 0, 10)
		ctx := context.Background()
		// The coordinator exists, its offsets topic created, before the write blocks.
		require.NoError(t, s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("t", 0): {Offset: 0}}))
		hold.arm()
		committed := make(chan error, 1)
		go func() {
			committed <- s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{tp("t", 0): {Offset: 5}})
		}()
		<-hold.entered // the commit holds the group's lock, its write held up

		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, DisableAutoCommit: true})
		defer g.Close()
		defer hold.release() // before Close, if the test fails while the write is held up
		// The join answers at once; reading the partition then waits for the
		// committed offsets, behind the group's lock (a channel: durably blocked).
		synctest.Wait()
		require.NotEmpty(t, g.MemberID(), "joined")
		caughtUp, err := g.CaughtUp()
		require.NoError(t, err)
		require.False(t, caughtUp, "10 records not read, and not even its partition yet")

		hold.release()
		require.NoError(t, <-committed)
		synctest.Wait()
		require.Equal(t, []log.TopicPartition{tp("t", 0)}, g.Assignment())
		caughtUp, err = g.CaughtUp()
		require.NoError(t, err)
		require.False(t, caughtUp)
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(5), records[0].Offset, "read from the commit that held the lock")
	})
}

// CaughtUp stays false while a partition the consumer owns, back online after
// ReopenPartition, is not read yet: its committed offset is being fetched, behind
// a commit that holds the group's lock.
func TestGroupCaughtUpFalseUntilAPartitionBackOnlineIsRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem, good := damagedStore(t) // orders-1 offline
		hold, fsys := holdOffsetsWrite(mem)
		s := openStore(t, fsys, nil)
		ctx := context.Background()
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"orders"}, DisableAutoCommit: true})
		defer g.Close()
		defer hold.release()
		read := 0
		for read < 8 { // orders-0 and orders-2; orders-1's error once
			records, err := g.Poll(ctx)
			if err != nil {
				requireOffline(t, err, "orders-1")
			}
			read += len(records)
		}
		caughtUp, err := g.CaughtUp()
		require.NoError(t, err)
		require.True(t, caughtUp, "the offline partition does not count")

		require.NoError(t, vfs.WriteFileAtomic(mem, "/data/orders-1/partition.checkpoint", good))
		hold.arm()
		committed := make(chan error, 1)
		go func() {
			committed <- g.CommitOffsets(ctx, map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 1}})
		}()
		<-hold.entered // a write of the group's holds its lock, held up
		reopened := make(chan error, 1)
		go func() { reopened <- s.ReopenPartition(ctx, tp("orders", 1)) }()
		synctest.Wait() // the consumer fetches orders-1's committed offset
		caughtUp, err = g.CaughtUp()
		require.NoError(t, err)
		require.False(t, caughtUp, "orders-1 is online again, its 4 records not read")

		hold.release()
		require.NoError(t, <-committed)
		require.NoError(t, <-reopened)
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		require.Equal(t, int32(1), records[0].Partition)
	})
}

// offsetsWriteHold holds up the first write to the offsets topic after arm, until
// release: its writer (a commit, a group's flush) keeps its group's lock meanwhile.
type offsetsWriteHold struct {
	armed       atomic.Bool
	entered     chan struct{} // receives once the write is held up
	released    chan struct{}
	releaseOnce sync.Once
}

// holdOffsetsWrite returns a hold and fsys wrapped to apply it.
func holdOffsetsWrite(fsys vfs.FS) (*offsetsWriteHold, vfs.FS) {
	h := &offsetsWriteHold{entered: make(chan struct{}, 1), released: make(chan struct{})}
	return h, vfs.NewFaulty(fsys, func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpWrite && strings.Contains(path, log.OffsetsTopic) && h.armed.CompareAndSwap(true, false) {
			h.entered <- struct{}{}
			<-h.released
		}
		return nil
	})
}

func (h *offsetsWriteHold) arm() { h.armed.Store(true) }

// release lets the held write go on; it may be called more than once.
func (h *offsetsWriteHold) release() { h.releaseOnce.Do(func() { close(h.released) }) }
