package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stratalog/strata/log"
)

// listMaxTimestamp sends ListOffsets at version with the max-timestamp query for
// partitions of topic, and returns the answers.
func listMaxTimestamp(c *rawConn, version int16, isolation int8, topic string, partitions ...int32) []kmsg.ListOffsetsResponseTopicPartition {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version, req.IsolationLevel = version, isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, maxTimestamp
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return c.roundTrip(req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions
}

// TestListOffsetsMaxTimestampRaw: the max-timestamp query (-3) answers the first
// record of the largest timestamp with its batch's leader epoch from v7 on, -1
// and -1 for an empty partition, UNSUPPORTED_VERSION below v7 (as Kafka), and
// moves on when DeleteRecords removes the record.
func TestListOffsetsMaxTimestampRaw(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx := context.Background()
	require.NoError(t, ts.store.CreateTopic(ctx, "times", log.TopicConfig{Partitions: 2}))
	for i, ms := range []int64{3000, 9000, 2000, 9000, 5000} { // offsets 0-4
		require.NoError(t, ts.store.Produce(ctx, &log.Record{Topic: "times", Partition: 0, ExplicitPartition: true,
			Value: []byte{byte(i)}, Timestamp: time.UnixMilli(ms)}))
	}
	description, err := ts.store.DescribeTopic("times")
	require.NoError(t, err)
	epoch := description.Partitions[0].LeaderEpoch
	c := ts.dial(t)
	for _, version := range []int16{7, 8, 10} {
		got := listMaxTimestamp(c, version, 0, "times", 0, 1)
		require.Len(t, got, 2)
		require.Equal(t, int16(0), got[0].ErrorCode, "v%d", version)
		require.Equal(t, []int64{1, 9000, int64(epoch)}, []int64{got[0].Offset, got[0].Timestamp, int64(got[0].LeaderEpoch)}, "v%d: the first record of 9000", version)
		require.Equal(t, int16(0), got[1].ErrorCode, "v%d", version)
		require.Equal(t, []int64{-1, -1, -1}, []int64{got[1].Offset, got[1].Timestamp, int64(got[1].LeaderEpoch)}, "v%d: an empty partition", version)
	}
	got := listMaxTimestamp(c, 6, 0, "times", 0)
	require.Equal(t, kerr.UnsupportedVersion.Code, got[0].ErrorCode, "v6 does not know the query")
	require.Equal(t, int64(-1), got[0].Offset)

	require.NoError(t, ts.store.DeleteRecords(ctx, log.TopicPartition{Topic: "times"}, 2))
	got = listMaxTimestamp(c, 10, 0, "times", 0)
	require.Equal(t, []int64{3, 9000}, []int64{got[0].Offset, got[0].Timestamp}, "after deleting offsets 0-1")
	require.NoError(t, ts.store.DeleteRecords(ctx, log.TopicPartition{Topic: "times"}, 4))
	got = listMaxTimestamp(c, 10, 0, "times", 0)
	require.Equal(t, []int64{4, 5000}, []int64{got[0].Offset, got[0].Timestamp}, "after deleting offsets 0-3")
	got = listMaxTimestamp(c, 10, 0, "times", 2)
	require.Equal(t, kerr.UnknownTopicOrPartition.Code, got[0].ErrorCode)
}

// TestListOffsetsMaxTimestampKadmAndReadCommitted: kadm's ListMaxTimestampOffsets,
// and a read_committed query while the record of the largest timestamp lies in an
// open transaction of kgo's transactional producer: -1 and -1, as Kafka, until the
// transaction commits.
func TestListOffsetsMaxTimestampKadmAndReadCommitted(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "out", log.TopicConfig{Partitions: 1}))
	future := time.UnixMilli(4_102_444_800_000)                                                                     // 2100: later than the commit marker's timestamp
	require.NoError(t, ts.store.Produce(ctx, &log.Record{Topic: "out", Value: []byte("plain"), Timestamp: future})) // 0

	adm := kadm.NewClient(ts.client(t))
	listed, err := adm.ListMaxTimestampOffsets(ctx, "out")
	require.NoError(t, err)
	o, ok := listed.Lookup("out", 0)
	require.True(t, ok)
	require.NoError(t, o.Err)
	require.Equal(t, []int64{0, future.UnixMilli()}, []int64{o.Offset, o.Timestamp})

	cl := ts.client(t, kgo.TransactionalID("max-ts"), kgo.DefaultProduceTopic("out"))
	require.NoError(t, cl.BeginTransaction())
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("txn"), Timestamp: future.Add(time.Second)}).FirstErr()) // 1
	c := ts.dial(t)
	got := listMaxTimestamp(c, 10, 0, "out", 0)
	require.Equal(t, []int64{1, future.UnixMilli() + 1000}, []int64{got[0].Offset, got[0].Timestamp}, "read_uncommitted")
	got = listMaxTimestamp(c, 10, 1, "out", 0)
	require.Equal(t, int16(0), got[0].ErrorCode)
	require.Equal(t, []int64{-1, -1}, []int64{got[0].Offset, got[0].Timestamp}, "read_committed: in an open transaction")
	require.NoError(t, cl.EndTransaction(ctx, kgo.TryCommit))
	got = listMaxTimestamp(c, 10, 1, "out", 0)
	require.Equal(t, []int64{1, future.UnixMilli() + 1000}, []int64{got[0].Offset, got[0].Timestamp}, "read_committed: committed")
}
