package log

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDirectoryNames parses arbitrary names as a store's directory entries: never a
// panic; a partition directory name accepted is the canonical one of its topic and
// partition (so that two names never mean one partition), and a marked name (a
// directory being created or deleted) accepted is one markedDirName makes, for the
// partition it names.
func FuzzDirectoryNames(f *testing.F) {
	for _, name := range []string{"orders-0", "my-topic-12", "orders--1", "orders-01", "..-0", "backup-1",
		"orders-0.0123456789abcdef-delete", "orders-3.0123456789abcdef-create", "orders-0.0123456789ABCDEF-delete",
		"-0.0123456789abcdef-delete", ".0123456789abcdef-create", "topics.json", strings.Repeat("t", 250) + "-1.0123456789abcdef-create"} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if topic, partition, ok := parsePartitionDirName(name); ok {
			require.NoError(t, ValidateTopicName(topic))
			require.GreaterOrEqual(t, partition, 0)
			require.Equal(t, name, partitionDirName(topic, partition))
		}
		if d, ok := parseMarkedDirName(name); ok {
			require.Contains(t, []string{createMark, deleteMark}, d.mark)
			require.GreaterOrEqual(t, d.partition, 0)
			id := strings.TrimSuffix(name, "-"+d.mark)
			id = id[len(id)-markIDDigits:]
			require.Equal(t, name, markedDirName(d.topicPrefix, d.partition, id, d.mark))
		}
	})
}
