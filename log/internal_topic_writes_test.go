package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// storeWithOffsets returns a store that has used groups: __consumer_offsets exists
// and group "billing" committed orders-0 at 3.
func storeWithOffsets(t *testing.T, fsys vfs.FS) *log.Store {
	t.Helper()
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, "orders", log.TopicConfig{})
	produce(t, s, "orders", 0, 5)
	require.NoError(t, s.CommitGroupOffsets(context.Background(), "billing", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 3}}))
	return s
}

// No write path a user has accepts an internal topic: Store.Produce, a Producer
// (every acks level), DeleteRecords, AddPartitions. Nothing is written.
func TestInternalTopicsRefuseOutsideWrites(t *testing.T) {
	ctx := testContext(t)
	s := storeWithOffsets(t, vfs.NewMem())
	defer s.Close()
	before := describe(t, s, log.OffsetsTopic).Partitions[0].EndOffset

	for _, r := range []*log.Record{
		{Topic: log.OffsetsTopic, Key: []byte("k"), Value: []byte("junk")},
		{Topic: log.OffsetsTopic, Key: []byte("k"), Partition: 0, ExplicitPartition: true},
	} {
		err := s.Produce(ctx, r)
		require.ErrorIs(t, err, log.ErrInternalTopic)
		require.ErrorIs(t, err, log.ErrInvalidArgument)
		require.ErrorContains(t, err, log.OffsetsTopic)
	}
	// One internal record in a call fails the call before anything is written.
	err := s.Produce(ctx, &log.Record{Topic: "orders", Value: []byte("v")}, &log.Record{Topic: log.OffsetsTopic, Key: []byte("k")})
	require.ErrorIs(t, err, log.ErrInternalTopic)
	require.Equal(t, int64(5), describe(t, s, "orders").Partitions[0].EndOffset)

	for _, acks := range []log.Acks{log.AcksDurable, log.AcksLeader, log.AcksNone} {
		p, err := s.NewProducer(log.ProducerOptions{Acks: acks})
		require.NoError(t, err)
		got := make(chan error, 1)
		p.Produce(ctx, &log.Record{Topic: log.OffsetsTopic, Key: []byte("k"), Value: []byte("junk")}, func(_ *log.Record, err error) { got <- err })
		require.ErrorIs(t, <-got, log.ErrInternalTopic, "acks %v", acks)
		require.NoError(t, p.Close())
	}
	require.ErrorIs(t, s.DeleteRecords(ctx, tp(log.OffsetsTopic, 0), 1), log.ErrInternalTopic)
	require.ErrorIs(t, s.AddPartitions(ctx, log.OffsetsTopic, 2), log.ErrInternalTopic)

	d := describe(t, s, log.OffsetsTopic)
	require.Len(t, d.Partitions, 1)
	require.Equal(t, before, d.Partitions[0].EndOffset, "nothing written")
	require.Equal(t, int64(0), d.Partitions[0].StartOffset)
}

// A junk record in __consumer_offsets (written behind the store's back, here with
// the partition package) does not make the store unopenable: Open skips it, logs
// it, counts it in Stats, and every group's offsets around it are intact.
func TestJunkOffsetsRecordDoesNotStopOpen(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := testContext(t)
	s := storeWithOffsets(t, fsys)
	require.NoError(t, s.Close())

	p, err := partition.Open("/data/__consumer_offsets-0", &partition.Options{FS: fsys})
	require.NoError(t, err)
	junkOffset, err := p.Append(ctx, []partition.Record{{Key: []byte("junk"), Value: []byte("junk")}})
	require.NoError(t, err)
	require.NoError(t, p.Close())

	var logs logBuffer
	s, err = log.Open("/data", &log.Options{FS: fsys, Logger: logs.logger()})
	require.NoError(t, err)
	defer s.Close()
	committed, err := s.CommittedOffsets(ctx, "billing")
	require.NoError(t, err)
	require.Equal(t, int64(3), committed[tp("orders", 0)].Offset)
	require.Equal(t, 1, s.Stats().SkippedOffsetsRecords)
	require.Contains(t, logs.String(), "level=ERROR")
	require.Contains(t, logs.String(), "offset="+itoa(junkOffset))

	// Groups keep working: a new commit lands and survives another reopen.
	require.NoError(t, s.CommitGroupOffsets(ctx, "audit", map[log.TopicPartition]log.OffsetAndMetadata{tp("orders", 0): {Offset: 5}}))
	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	committed, err = s.CommittedOffsets(ctx, "audit")
	require.NoError(t, err)
	require.Equal(t, int64(5), committed[tp("orders", 0)].Offset)
}
