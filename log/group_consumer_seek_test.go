package log_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A group consumer seeks its own partitions by time, to their beginning and to
// their end, and tells by Lag and CaughtUp when it has read everything produced.
func TestGroupConsumerSeekByTimeAndEndsAndLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		ctx := context.Background()
		base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		for p := range int32(2) {
			for i := range 10 {
				require.NoError(t, s.Produce(ctx, &log.Record{Topic: "t", Partition: p, ExplicitPartition: true, Value: value("v", i), Timestamp: base.Add(time.Duration(i) * time.Minute)}))
			}
		}
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, DisableAutoCommit: true})
		defer g.Close()
		caughtUp, err := g.CaughtUp()
		require.NoError(t, err)
		require.False(t, caughtUp, "not caught up before it joined")
		synctest.Wait()
		tp0, tp1 := tp("t", 0), tp("t", 1)
		lag, err := g.Lag(tp0)
		require.NoError(t, err)
		require.Equal(t, int64(10), lag)
		caughtUp, err = g.CaughtUp()
		require.NoError(t, err)
		require.False(t, caughtUp)

		read := 0
		for caughtUp, err = g.CaughtUp(); !caughtUp; caughtUp, err = g.CaughtUp() {
			require.NoError(t, err)
			records, err := g.Poll(ctx)
			require.NoError(t, err)
			read += len(records)
		}
		require.Equal(t, 20, read)
		lag, err = g.Lag(tp1)
		require.NoError(t, err)
		require.Zero(t, lag)

		require.NoError(t, g.SeekToTime(tp0, base.Add(7*time.Minute)))
		position, err := g.Position(tp0)
		require.NoError(t, err)
		require.Equal(t, int64(7), position)
		require.NoError(t, g.SeekToBeginning())
		for _, p := range []log.TopicPartition{tp0, tp1} {
			lag, err = g.Lag(p)
			require.NoError(t, err)
			require.Equal(t, int64(10), lag, "%s from its beginning", p)
		}
		require.NoError(t, g.SeekToEnd(tp1))
		lag, err = g.Lag(tp1)
		require.NoError(t, err)
		require.Zero(t, lag)
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		for _, r := range records {
			require.Equal(t, int32(0), r.Partition, "tp1 was moved to its end")
		}

		other := tp("t", 5)
		require.ErrorIs(t, g.SeekToTime(other, base), log.ErrUnknownPartition)
		require.ErrorIs(t, g.SeekToEnd(tp0, other), log.ErrUnknownPartition)
		position, err = g.Position(tp0)
		require.NoError(t, err)
		require.Equal(t, records[len(records)-1].Offset+1, position, "a failed SeekToEnd moves nothing")
		_, err = g.Lag(other)
		require.ErrorIs(t, err, log.ErrUnknownPartition)
	})
}
