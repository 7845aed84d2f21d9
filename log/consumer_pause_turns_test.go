package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestNextTakesTurnsAcrossPauseAndResume: Resume of every assigned partition after
// each record (the Java idiom resume(assignment()) of an application that pauses
// for back-pressure) and Pause of the partition being read leave Next's turns as
// they are: each partition gets runs of MaxPollRecords in Assign order, instead of
// the first partition being read again and again while it has records.
func TestNextTakesTurnsAcrossPauseAndResume(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 3})
	for p := range int32(3) {
		produce(t, s, "t", p, 40)
	}
	all := []log.TopicPartition{tp("t", 0), tp("t", 1), tp("t", 2)}
	c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 5}, all...)
	ctx := testContext(t)
	var partitions []int32
	for range 15 {
		r, err := c.Next(ctx)
		require.NoError(t, err)
		partitions = append(partitions, r.Partition)
		require.NoError(t, c.Resume(all...))
	}
	require.Equal(t, []int32{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2}, partitions, "runs of 5 in turn")

	// A run of 0, then one record of 1: pausing 1, the partition being read,
	// turns to the one after it, 2, not back to the first.
	r, err := c.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, int32(0), r.Partition)
	for range 4 {
		_, err = c.Next(ctx)
		require.NoError(t, err)
	}
	r, err = c.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, int32(1), r.Partition)
	require.NoError(t, c.Pause(tp("t", 1)))
	r, err = c.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, int32(2), r.Partition, "the partition after the paused one")
}
