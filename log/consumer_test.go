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

func newConsumer(t testing.TB, s *log.Store, opts log.ConsumerOptions, tps ...log.TopicPartition) *log.Consumer {
	t.Helper()
	c, err := s.NewConsumer(opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Assign(tps...))
	return c
}

func TestPollLimitsAndOrder(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 3})
	for p := range int32(3) {
		produceInCalls(t, s, "t", p, 40, 7)
	}
	c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 25}, tp("t", 0), tp("t", 1), tp("t", 2))
	ctx := testContext(t)
	next := map[int32]int64{}
	total := 0
	firsts := map[int32]bool{}
	for total < 120 {
		records, err := c.Poll(ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, len(records), 25)
		firsts[records[0].Partition] = true
		for _, r := range records {
			require.Equal(t, "t", r.Topic)
			require.Equal(t, next[r.Partition], r.Offset, "in order within a partition")
			require.Equal(t, value("t", int(r.Offset)), r.Value)
			next[r.Partition]++
		}
		total += len(records)
	}
	require.Len(t, firsts, 3, "partitions take turns being read first")

	// MaxPollBytes: "t/0" is 3 bytes, so 10 bytes hold 3 records.
	c = newConsumer(t, s, log.ConsumerOptions{MaxPollBytes: 10}, tp("t", 0))
	records, err := c.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, records, 3)
	records, err = c.Poll(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), records[0].Offset, "the record that did not fit comes next")

	// A record larger than MaxPollBytes is returned alone.
	c = newConsumer(t, s, log.ConsumerOptions{MaxPollBytes: 1}, tp("t", 0))
	records, err = c.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, records, 1)
}

func TestSeekAndReplay(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{SegmentBytes: 512})
	ctx := testContext(t)
	for i := range 50 {
		r := &log.Record{Topic: "t", Value: value("t", i), Timestamp: base.Add(time.Duration(i) * time.Second)}
		require.NoError(t, s.Produce(ctx, r))
	}
	require.Greater(t, describe(t, s, "t").Partitions[0].Segments, 1)
	c := newConsumer(t, s, log.ConsumerOptions{MaxPollRecords: 5}, tp("t", 0))

	pos, err := c.Position(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(0), pos, "ResetEarliest")

	for _, offset := range []int64{37, 3, 37, 0, 49} {
		require.NoError(t, c.Seek(tp("t", 0), offset))
		records, err := c.Poll(ctx)
		require.NoError(t, err)
		require.Equal(t, offset, records[0].Offset)
		require.Equal(t, value("t", int(offset)), records[0].Value)
	}

	require.NoError(t, c.SeekToTime(tp("t", 0), base.Add(20*time.Second+time.Millisecond)))
	pos, err = c.Position(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(21), pos)
	records, err := c.Poll(ctx)
	require.NoError(t, err)
	require.True(t, base.Add(21*time.Second).Equal(records[0].Timestamp))

	require.NoError(t, c.SeekToTime(tp("t", 0), base.Add(time.Hour)))
	pos, _ = c.Position(tp("t", 0))
	require.Equal(t, int64(50), pos, "no record that recent: the end")

	require.NoError(t, c.SeekToBeginning())
	pos, _ = c.Position(tp("t", 0))
	require.Equal(t, int64(0), pos)
	require.NoError(t, c.SeekToEnd(tp("t", 0)))
	pos, _ = c.Position(tp("t", 0))
	require.Equal(t, int64(50), pos)

	require.ErrorIs(t, c.Seek(tp("t", 0), -1), log.ErrInvalidArgument)
	require.ErrorIs(t, c.Seek(tp("t", 1), 0), log.ErrUnknownPartition)
	require.ErrorIs(t, c.Seek(tp("other", 0), 0), log.ErrUnknownPartition)
	require.ErrorIs(t, c.SeekToEnd(tp("t", 5)), log.ErrUnknownPartition)
}

func TestResetPolicies(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{SegmentBytes: 256})
	createTopic(t, s, "trigger", log.TopicConfig{})
	produceInCalls(t, s, "t", 0, 40, 4)
	ctx := testContext(t)
	require.NoError(t, s.DeleteRecords(ctx, tp("t", 0), 20))

	// No position yet.
	earliest := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	require.Equal(t, int64(20), pollN(t, earliest, 1)[0].Offset)
	latest := newConsumer(t, s, log.ConsumerOptions{Reset: log.ResetLatest}, tp("t", 0), tp("trigger", 0))
	pos, err := latest.Position(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(40), pos)
	require.NoError(t, latest.Seek(tp("trigger", 0), 0))
	none := newConsumer(t, s, log.ConsumerOptions{Reset: log.ResetNone}, tp("t", 0))
	_, err = none.Poll(ctx)
	require.ErrorIs(t, err, log.ErrOffsetOutOfRange)
	_, err = none.Position(tp("t", 0))
	require.ErrorIs(t, err, log.ErrOffsetOutOfRange)

	// Below the start offset, and above the end offset.
	for i, offset := range []int64{5, 1000} {
		require.NoError(t, earliest.Seek(tp("t", 0), offset))
		require.Equal(t, int64(20), pollN(t, earliest, 1)[0].Offset)

		// The reset happens when Poll reads the partition; a record of the
		// trigger topic makes that Poll return.
		require.NoError(t, latest.Seek(tp("t", 0), offset))
		produceFrom(t, s, "trigger", 0, i, 1)
		require.Equal(t, "trigger", pollN(t, latest, 1)[0].Topic)
		pos, err := latest.Position(tp("t", 0))
		require.NoError(t, err)
		require.Equal(t, describe(t, s, "t").Partitions[0].EndOffset, pos)
		produceFrom(t, s, "t", 0, 1000+i, 1)
		r := pollN(t, latest, 1)[0]
		require.Equal(t, value("t", 1000+i), r.Value, "only records produced after the reset")

		require.NoError(t, none.Seek(tp("t", 0), offset))
		_, err = none.Poll(ctx)
		require.ErrorIs(t, err, log.ErrOffsetOutOfRange)
		_, err = none.Poll(ctx)
		require.ErrorIs(t, err, log.ErrOffsetOutOfRange, "until a Seek")
	}
	require.NoError(t, none.Seek(tp("t", 0), 30))
	require.Equal(t, int64(30), pollN(t, none, 1)[0].Offset)
}

// Poll waits for records on any assigned partition; Close or the end of ctx ends
// the wait. Run under synctest, so "blocked" is observed, not guessed.
func TestPollLongPolls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
		require.NoError(t, err)
		defer s.Close()
		createTopic(t, s, "a", log.TopicConfig{})
		createTopic(t, s, "b", log.TopicConfig{Partitions: 2})
		c, err := s.NewConsumer(log.ConsumerOptions{})
		require.NoError(t, err)
		require.NoError(t, c.Assign(tp("a", 0), tp("b", 0), tp("b", 1)))

		type result struct {
			records []*log.Record
			err     error
		}
		poll := func(ctx context.Context) chan result {
			ch := make(chan result, 1)
			go func() {
				records, err := c.Poll(ctx)
				ch <- result{records, err}
			}()
			return ch
		}

		got := poll(context.Background())
		synctest.Wait()
		require.Empty(t, got, "blocked: no records")
		produce(t, s, "b", 1, 1)
		synctest.Wait()
		r := <-got
		require.NoError(t, r.err)
		require.Equal(t, tp("b", 1), log.TopicPartition{Topic: r.records[0].Topic, Partition: r.records[0].Partition})

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		got = poll(ctx)
		time.Sleep(time.Second)
		synctest.Wait()
		require.ErrorIs(t, (<-got).err, context.DeadlineExceeded)

		got = poll(context.Background())
		synctest.Wait()
		require.NoError(t, c.Close())
		require.ErrorIs(t, (<-got).err, log.ErrClosed)
		_, err = c.Poll(context.Background())
		require.ErrorIs(t, err, log.ErrClosed)
	})
}

// Store.Close wakes a blocked Poll.
func TestStoreCloseWakesPoll(t *testing.T) {
	s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
	require.NoError(t, err)
	createTopic(t, s, "t", log.TopicConfig{})
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Assign(tp("t", 0)))
	done := make(chan error, 1)
	go func() {
		_, err := c.Poll(testContext(t))
		done <- err
	}()
	require.NoError(t, s.Close())
	require.ErrorIs(t, <-done, log.ErrClosed)
}

func TestPollDeletedTopic(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	produce(t, s, "t", 0, 1)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	pollN(t, c, 1)
	ctx := testContext(t)
	require.NoError(t, s.DeleteTopic(ctx, "t"))
	_, err := c.Poll(ctx)
	require.ErrorIs(t, err, log.ErrUnknownTopic)
	_, err = c.Poll(ctx)
	require.ErrorIs(t, err, log.ErrUnknownTopic)

	// Assigning again picks up a new topic of the same name.
	createTopic(t, s, "t", log.TopicConfig{})
	produceFrom(t, s, "t", 0, 100, 1)
	require.NoError(t, c.Assign(tp("t", 0)))
	require.Equal(t, value("t", 100), pollN(t, c, 1)[0].Value)
}

func TestConsumerMisuse(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	c, err := s.NewConsumer(log.ConsumerOptions{})
	require.NoError(t, err)
	_, err = c.Poll(testContext(t))
	require.ErrorIs(t, err, log.ErrInvalidArgument, "nothing assigned")
	require.ErrorIs(t, c.Assign(tp("t", 0), tp("nope", 0)), log.ErrUnknownTopic)
	require.ErrorIs(t, c.Assign(tp("t", 0), tp("t", 2)), log.ErrUnknownPartition)
	require.Empty(t, c.Assignment(), "a failed Assign changes nothing")
	require.NoError(t, c.Assign(tp("t", 1), tp("t", 0), tp("t", 1)))
	require.Equal(t, []log.TopicPartition{tp("t", 1), tp("t", 0)}, c.Assignment())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	require.ErrorIs(t, c.Assign(tp("t", 0)), log.ErrClosed)
	require.ErrorIs(t, c.Seek(tp("t", 0), 0), log.ErrClosed)
}

// Assign keeps the position of partitions that stay assigned.
func TestReassignKeepsPositions(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	produce(t, s, "t", 0, 10)
	produce(t, s, "t", 1, 10)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	require.NoError(t, c.Seek(tp("t", 0), 7))
	require.NoError(t, c.Assign(tp("t", 1), tp("t", 0)))
	pos, err := c.Position(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(7), pos)
}

// Records returned by Poll are the caller's: changing them changes nothing else.
func TestPolledRecordsAreCopies(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	require.NoError(t, s.Produce(context.Background(),
		&log.Record{Topic: "t", Key: []byte{}, Value: []byte("abc"), Headers: []log.Header{{Key: "h", Value: []byte("hv")}}},
		&log.Record{Topic: "t", Value: []byte("def")}))
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	first := pollN(t, c, 2)
	require.NotNil(t, first[0].Key, "an empty key stays non-nil")
	require.Nil(t, first[1].Key, "a null key stays nil")
	first[0].Value[0] = 'X'
	first[0].Headers[0].Value[0] = 'X'
	first[0].Value = append(first[0].Value, "appended"...)
	require.Equal(t, []byte("def"), first[1].Value)
	require.NoError(t, c.Seek(tp("t", 0), 0))
	again := pollN(t, c, 2)
	require.Equal(t, []byte("abc"), again[0].Value)
	require.Equal(t, []byte("hv"), again[0].Headers[0].Value)
}
