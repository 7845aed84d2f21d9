package log

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPartitionDirNames(t *testing.T) {
	tests := []struct {
		dir       string
		topic     string
		partition int
		ok        bool
	}{
		{"orders-0", "orders", 0, true},
		{"orders-12", "orders", 12, true},
		{"my-topic-3", "my-topic", 3, true},
		{"a-1-0", "a-1", 0, true},
		{"orders", "", 0, false},
		{"orders-", "", 0, false},
		{"-0", "", 0, false},
		{"orders-01", "", 0, false},       // not canonical
		{"orders-+1", "", 0, false},       // not canonical
		{"orders--1", "orders-", 1, true}, // topic "orders-", partition 1
		{"..-0", "", 0, false},            // ".." is not a topic
		{"orders-100000", "", 0, false},
		{"topics.json", "", 0, false},
		{".lock", "", 0, false},
	}
	for _, tt := range tests {
		topic, partition, ok := parsePartitionDirName(tt.dir)
		require.Equal(t, tt.ok, ok, tt.dir)
		if ok {
			require.Equal(t, tt.topic, topic, tt.dir)
			require.Equal(t, tt.partition, partition, tt.dir)
			require.Equal(t, tt.dir, partitionDirName(topic, partition))
		}
	}
}
