package log_test

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A consumer subscribed by TopicPattern consumes the topics whose whole name
// matches, and a matching topic created later joins its subscription at once; a
// topic that only contains a match, and the internal offsets topic, do not.
func TestGroupTopicPatternFollowsNewTopics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "orders.eu", log.TopicConfig{})
		createTopic(t, s, "returns.orders.eu", log.TopicConfig{})
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", TopicPattern: regexp.MustCompile(`orders\..*`)})
		defer g.Close()
		synctest.Wait()
		require.Equal(t, []log.TopicPartition{tp("orders.eu", 0)}, g.Assignment())

		createTopic(t, s, "orders.us", log.TopicConfig{Partitions: 2})
		synctest.Wait()
		got := g.Assignment()
		slices.SortFunc(got, compareTP)
		require.Equal(t, []log.TopicPartition{tp("orders.eu", 0), tp("orders.us", 0), tp("orders.us", 1)}, got)
		produce(t, s, "orders.us", 1, 3)
		records, err := g.Poll(context.Background())
		require.NoError(t, err)
		require.Equal(t, "orders.us", records[0].Topic)

		require.NoError(t, s.DeleteTopic(context.Background(), "orders.eu"))
		synctest.Wait()
		d, err := s.DescribeGroup("g")
		require.NoError(t, err)
		require.Len(t, d.Members, 1)
		require.Equal(t, []string{"orders.us"}, d.Members[0].Topics, "the deleted topic left the subscription")

		_, err = s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"orders.eu"}, TopicPattern: regexp.MustCompile(`x`)})
		require.ErrorIs(t, err, log.ErrInvalidConfig)
	})
}

func compareTP(a, b log.TopicPartition) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	return int(a.Partition - b.Partition)
}
