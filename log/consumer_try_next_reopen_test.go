package log_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestTryNextWaitsForAReopenedPartition: while AlterTopicConfig opens a partition
// again, TryNext does not return nil (caught up) with records of that partition
// still unread: it waits for the new partition, as Poll and Next do, and reads on
// from it. The reopen is held at the open of the new partition's segment;
// synctest.Wait lets TryNext run until it returns or blocks.
func TestTryNextWaitsForAReopenedPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var armed atomic.Bool
		opening, release := make(chan struct{}), make(chan struct{})
		fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, path string) *vfs.Fault {
			if op == vfs.OpOpen && strings.HasSuffix(path, "/t-0/00000000000000000000.log") && armed.CompareAndSwap(true, false) {
				close(opening)
				<-release
			}
			return nil
		})
		s, err := log.Open("/data", &log.Options{FS: fsys, RetentionCheckInterval: -1})
		require.NoError(t, err)
		defer s.Close()
		createTopic(t, s, "t", log.TopicConfig{})
		produce(t, s, "t", 0, 50)
		// Small fetches: the reader holds a few records, not the partition's 50.
		c, err := s.NewConsumer(log.ConsumerOptions{MaxPollBytes: 64})
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Assign(tp("t", 0)))

		armed.Store(true)
		altered := make(chan error, 1)
		go func() { altered <- s.AlterTopicConfig(t.Context(), "t", log.TopicConfig{SegmentBytes: 4096}) }()
		<-opening
		var offsets []int64 // what TryNext returned, until nil or an error
		var tryErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			for len(offsets) < 50 {
				r, err := c.TryNext()
				if r == nil || err != nil {
					tryErr = err
					return
				}
				offsets = append(offsets, r.Offset)
			}
		}()
		synctest.Wait()
		close(release)
		<-done
		require.NoError(t, <-altered)
		require.NoError(t, tryErr)
		require.Len(t, offsets, 50, "TryNext returned nil at offset %d of 50 while the partition was being reopened", len(offsets))
		for i, offset := range offsets {
			require.Equal(t, int64(i), offset)
		}
	})
}
