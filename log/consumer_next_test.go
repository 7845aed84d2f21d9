package log_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// nextN calls Next n times and returns copies of what it returned.
func nextN(t testing.TB, c *log.Consumer, n int) []log.Record {
	t.Helper()
	ctx := testContext(t)
	out := make([]log.Record, 0, n)
	for range n {
		r, err := c.Next(ctx)
		require.NoError(t, err)
		kept := *r
		kept.Value = append([]byte(nil), r.Value...)
		out = append(out, kept)
	}
	return out
}

func TestNextReturnsEveryRecordInOrderAndTakesTurns(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 3})
	for p := range int32(3) {
		produceInCalls(t, s, "t", p, 40, 7)
	}
	c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 25}, tp("t", 0), tp("t", 1), tp("t", 2))
	next := map[int32]int64{}
	var order []int32 // the partition of each run of records
	for _, r := range nextN(t, c, 120) {
		require.Equal(t, "t", r.Topic)
		require.Equal(t, next[r.Partition], r.Offset, "in order within a partition")
		require.Equal(t, value("t", int(r.Offset)), r.Value)
		next[r.Partition]++
		if len(order) == 0 || order[len(order)-1] != r.Partition {
			order = append(order, r.Partition)
		}
	}
	require.Equal(t, []int32{0, 1, 2, 0, 1, 2}, order, "runs of at most MaxPollRecords, partitions in turn")

	// At the end, Next waits; a record produced meanwhile wakes it.
	ctx, cancel := context.WithTimeout(testContext(t), time.Millisecond)
	defer cancel()
	_, err := c.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	produceFrom(t, s, "t", 1, 40, 1)
	r, err := c.Next(testContext(t))
	require.NoError(t, err)
	require.Equal(t, int32(1), r.Partition)
	require.Equal(t, int64(40), r.Offset)
}

func TestNextAndPollShareThePosition(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
	produce(t, s, "t", 0, 10)
	c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 4}, tp("t", 0))
	require.Equal(t, int64(0), nextN(t, c, 1)[0].Offset)
	records, err := c.Poll(testContext(t))
	require.NoError(t, err)
	require.Len(t, records, 4)
	require.Equal(t, int64(1), records[0].Offset)
	require.Equal(t, int64(5), nextN(t, c, 1)[0].Offset)
	require.NoError(t, c.Seek(tp("t", 0), 2))
	require.Equal(t, int64(2), nextN(t, c, 1)[0].Offset)
	position, err := c.Position(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(3), position, "past the record Next returned")
}

func TestNextErrors(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
	produce(t, s, "t", 0, 3)
	c, err := s.NewConsumer(log.ConsumerOptions{Reset: log.ResetNone})
	require.NoError(t, err)
	_, err = c.Next(testContext(t))
	require.ErrorIs(t, err, log.ErrInvalidArgument, "nothing assigned")
	require.NoError(t, c.Assign(tp("t", 0)))
	_, err = c.Next(testContext(t))
	require.ErrorIs(t, err, log.ErrOffsetOutOfRange, "no position with ResetNone")
	require.NoError(t, c.Seek(tp("t", 0), 1))
	require.Equal(t, int64(1), nextN(t, c, 1)[0].Offset)

	// Close wakes a Next waiting at the end.
	require.NoError(t, c.Seek(tp("t", 0), 3))
	done := make(chan error, 1)
	go func() {
		_, err := c.Next(context.Background())
		done <- err
	}()
	require.NoError(t, c.Close())
	require.ErrorIs(t, <-done, log.ErrClosed)
	_, err = c.Next(testContext(t))
	require.ErrorIs(t, err, log.ErrClosed)
}

// TestNextAllocatesNothing guards the zero-copy path: Next allocates nothing per
// record, headers, compressed batches and the turn from one partition to the next
// included. testing.AllocsPerRun rounds down, so each run reads 500 records: a
// single allocation in 500 records fails the test, where runs of one record would
// let through up to one allocation per record less one.
func TestNextAllocatesNothing(t *testing.T) {
	for _, compression := range []string{log.CompressionNone, log.CompressionZstd} {
		t.Run("compression="+compression, func(t *testing.T) {
			if raceEnabled && compression != log.CompressionNone {
				t.Skip("the race detector makes sync.Pool drop the decompressors' buffers")
			}
			s := openStore(t, vfs.NewMem(), nil)
			createTopic(t, s, "t", log.TopicConfig{Partitions: 2, Compression: compression})
			records := make([]*log.Record, 6000)
			for i := range records {
				records[i] = &log.Record{Topic: "t", Partition: int32(i % 2), ExplicitPartition: true, Key: []byte("k"),
					Value: value("t", i), Headers: []log.Header{{Key: "h", Value: []byte("v")}}}
			}
			for first := 0; first < len(records); first += 100 { // batches of 50 records a partition
				require.NoError(t, s.Produce(context.Background(), records[first:first+100]...))
			}
			c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 120}, tp("t", 0), tp("t", 1))
			ctx := testContext(t)
			nextN(t, c, 10) // the readers' first fetches
			allocs := testing.AllocsPerRun(10, func() {
				for range 500 {
					r, err := c.Next(ctx)
					if err != nil || len(r.Headers) != 1 {
						t.Fatalf("Next: %v, %v", r, err)
					}
				}
			})
			require.Zero(t, allocs, "allocations per 500 records")
		})
	}
}

func TestAssignTopics(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "a", log.TopicConfig{Partitions: 2})
	createTopic(t, s, "b", log.TopicConfig{Partitions: 3})
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("a", 0))
	require.NoError(t, c.Seek(tp("a", 0), 0))
	require.NoError(t, c.AssignTopics("a", "b"))
	require.Equal(t, []log.TopicPartition{tp("a", 0), tp("a", 1), tp("b", 0), tp("b", 1), tp("b", 2)}, c.Assignment())

	require.ErrorIs(t, c.AssignTopics("a", "missing"), log.ErrUnknownTopic)
	require.ErrorIs(t, c.AssignTopics(), log.ErrInvalidArgument)
	require.Len(t, c.Assignment(), 5, "a failed call changes nothing")

	for p := range int32(3) {
		produce(t, s, "b", p, 2)
	}
	records := pollN(t, c, 6)
	require.Len(t, records, 6)
}

func TestPauseAndResume(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	produce(t, s, "t", 0, 3)
	produce(t, s, "t", 1, 3)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0), tp("t", 1))
	require.NoError(t, c.Pause(tp("t", 0)))
	require.Equal(t, []log.TopicPartition{tp("t", 0)}, c.Paused())
	for _, r := range pollN(t, c, 3) {
		require.Equal(t, int32(1), r.Partition, "a paused partition is not read")
	}

	// Both paused: Poll and Next wait, even with records in partition 0.
	require.NoError(t, c.Pause(tp("t", 1)))
	ctx, cancel := context.WithTimeout(testContext(t), time.Millisecond)
	defer cancel()
	_, err := c.Poll(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = c.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	require.ErrorIs(t, c.Pause(tp("t", 0), tp("other", 0)), log.ErrUnknownPartition)
	require.ErrorIs(t, c.Resume(tp("t", 0), tp("t", 5)), log.ErrUnknownPartition)
	require.Len(t, c.Paused(), 2, "a failed call changes nothing")

	require.NoError(t, c.Resume(tp("t", 0)))
	got := nextN(t, c, 3)
	for i, r := range got {
		require.Equal(t, int32(0), r.Partition)
		require.Equal(t, int64(i), r.Offset, "from the kept position")
	}
	require.NoError(t, c.Assign(tp("t", 1)))
	require.Equal(t, []log.TopicPartition{tp("t", 1)}, c.Paused(), "Assign keeps the pause of a partition that stays")
}

func TestLagAndCaughtUp(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	produce(t, s, "t", 0, 5)
	produce(t, s, "t", 1, 2)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0), tp("t", 1))
	lag, err := c.Lag(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(5), lag, "from the Reset policy's position")
	caughtUp, err := c.CaughtUp()
	require.NoError(t, err)
	require.False(t, caughtUp)

	nextN(t, c, 7)
	caughtUp, err = c.CaughtUp()
	require.NoError(t, err)
	require.True(t, caughtUp)
	produce(t, s, "t", 1, 1)
	lag, err = c.Lag(tp("t", 1))
	require.NoError(t, err)
	require.Equal(t, int64(1), lag)
	caughtUp, err = c.CaughtUp()
	require.NoError(t, err)
	require.False(t, caughtUp)

	_, err = c.Lag(tp("t", 7))
	require.ErrorIs(t, err, log.ErrUnknownPartition)
	require.NoError(t, c.Close())
	_, err = c.CaughtUp()
	require.True(t, errors.Is(err, log.ErrClosed))
}

// Next's records carry each record's own timestamp, whether it repeats the one
// before or not.
func TestNextTimestamps(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	t0 := time.UnixMilli(1_800_000_000_000)
	offsets := []time.Duration{0, 0, 5, 5, 5, 2, 0}
	var records []*log.Record
	for _, d := range offsets {
		records = append(records, &log.Record{Topic: "t", Value: []byte("v"), Timestamp: t0.Add(d * time.Millisecond)})
	}
	require.NoError(t, s.Produce(context.Background(), records...))
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	for i, r := range nextN(t, c, len(offsets)) {
		require.True(t, t0.Add(offsets[i]*time.Millisecond).Equal(r.Timestamp), "record %d: %v", i, r.Timestamp)
	}
}

// TryNext returns what Next would, and nil once every partition (paused ones
// aside) is read to its end, without waiting.
func TestTryNext(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	produce(t, s, "t", 0, 3)
	produce(t, s, "t", 1, 2)
	c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 2}, tp("t", 0), tp("t", 1))
	var got []string
	for {
		r, err := c.TryNext()
		require.NoError(t, err)
		if r == nil {
			break
		}
		got = append(got, r.Topic+"-"+itoa(int64(r.Partition))+"@"+itoa(r.Offset))
	}
	require.Equal(t, []string{"t-0@0", "t-0@1", "t-1@0", "t-1@1", "t-0@2"}, got)
	caughtUp, err := c.CaughtUp()
	require.NoError(t, err)
	require.True(t, caughtUp)

	produce(t, s, "t", 1, 1)
	require.NoError(t, c.Pause(tp("t", 1)))
	r, err := c.TryNext()
	require.NoError(t, err)
	require.Nil(t, r, "the new record is in a paused partition")
	require.NoError(t, c.Resume(tp("t", 1)))
	r, err = c.TryNext()
	require.NoError(t, err)
	require.Equal(t, int64(2), r.Offset)

	require.NoError(t, c.Close())
	_, err = c.TryNext()
	require.ErrorIs(t, err, log.ErrClosed)
}
