package topicpartition_test

import (
	"testing"

	"github.com/stratalog/strata/internal/topicpartition"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		tp   topicpartition.TopicPartition
		want string
	}{
		{topicpartition.TopicPartition{Topic: "orders", Partition: 0}, "orders-0"},
		{topicpartition.TopicPartition{Topic: "a-b", Partition: 12}, "a-b-12"},
	} {
		if got := c.tp.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.tp, got, c.want)
		}
	}
}

// Given to a logger, a TopicPartition is its name.
