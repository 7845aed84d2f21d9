package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stratalog/strata/log"
)

// TestDescribeTopicPartitions: kafka-topics.sh --describe's request (KIP-966) as
// Kafka's handler answers it: every topic sorted by name when none is asked,
// the partition limit cut with a cursor to resume from (inside a topic and at a
// topic's end), the topics asked for with an unknown one, and a cursor whose
// topic was not asked for.
func TestDescribeTopicPartitions(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx := context.Background()
	for name, partitions := range map[string]int{"c": 1, "a": 3, "b": 2} {
		require.NoError(t, ts.store.CreateTopic(ctx, name, log.TopicConfig{Partitions: partitions}))
	}
	c := ts.dial(t)
	describe := func(limit int32, cursor *kmsg.DescribeTopicPartitionsRequestCursor, topics ...string) *kmsg.DescribeTopicPartitionsResponse {
		req := kmsg.NewPtrDescribeTopicPartitionsRequest()
		req.ResponsePartitionLimit, req.Cursor = limit, cursor
		for _, name := range topics {
			req.Topics = append(req.Topics, kmsg.DescribeTopicPartitionsRequestTopic{Topic: name})
		}
		return c.roundTrip(req).(*kmsg.DescribeTopicPartitionsResponse)
	}
	type got struct {
		topic      string
		code       int16
		partitions []int32
	}
	summary := func(resp *kmsg.DescribeTopicPartitionsResponse) []got {
		var out []got
		for _, topic := range resp.Topics {
			g := got{topic: *topic.Topic, code: topic.ErrorCode}
			for _, p := range topic.Partitions {
				g.partitions = append(g.partitions, p.Partition)
				require.Equal(t, int32(0), p.LeaderID)
				require.Equal(t, []int32{0}, p.Replicas)
				require.Equal(t, []int32{0}, p.ISR)
			}
			if topic.ErrorCode == 0 {
				id, err := ts.store.TopicID(*topic.Topic)
				require.NoError(t, err)
				require.Equal(t, [16]byte(id), topic.TopicID)
				require.Equal(t, int32(topicOperations), topic.AuthorizedOperations)
			}
			out = append(out, g)
		}
		return out
	}

	resp := describe(2000, nil)
	require.Equal(t, []got{{"a", 0, []int32{0, 1, 2}}, {"b", 0, []int32{0, 1}}, {"c", 0, []int32{0}}}, summary(resp))
	require.Nil(t, resp.NextCursor)

	// Cut inside b, then resumed from the cursor.
	resp = describe(4, nil)
	require.Equal(t, []got{{"a", 0, []int32{0, 1, 2}}, {"b", 0, []int32{0}}}, summary(resp))
	require.Equal(t, &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: "b", Partition: 1}, resp.NextCursor)
	resp = describe(4, &kmsg.DescribeTopicPartitionsRequestCursor{Topic: "b", Partition: 1})
	require.Equal(t, []got{{"b", 0, []int32{1}}, {"c", 0, []int32{0}}}, summary(resp))
	require.Nil(t, resp.NextCursor)

	// Cut at the end of a: the cursor names b's first partition.
	resp = describe(3, nil)
	require.Equal(t, []got{{"a", 0, []int32{0, 1, 2}}}, summary(resp))
	require.Equal(t, &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: "b", Partition: 0}, resp.NextCursor)

	// Topics asked for: sorted, an unknown one refused, others left out.
	resp = describe(2000, nil, "c", "zz", "a")
	require.Equal(t, []got{{"a", 0, []int32{0, 1, 2}}, {"c", 0, []int32{0}}, {"zz", kerr.UnknownTopicOrPartition.Code, nil}}, summary(resp))

	// A cursor whose topic was not asked for: INVALID_REQUEST for every topic.
	resp = describe(2000, &kmsg.DescribeTopicPartitionsRequestCursor{Topic: "b"}, "a", "c")
	require.Equal(t, []got{{"a", kerr.InvalidRequest.Code, nil}, {"c", kerr.InvalidRequest.Code, nil}}, summary(resp))
}
