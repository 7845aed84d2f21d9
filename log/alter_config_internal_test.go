package log

import (
	"testing"
	"time"

	"github.com/stratalog/strata/vfs"
)

// TestSamePartitionOptions: AlterTopicConfig reopens the partitions only for a
// change of what a partition applies itself.
func TestSamePartitionOptions(t *testing.T) {
	s, err := Open("/data", &Options{FS: vfs.NewMem(), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := builtinDefaults
	for _, tc := range []struct {
		change func(*TopicConfig)
		same   bool
	}{
		{func(c *TopicConfig) {}, true},
		{func(c *TopicConfig) { c.MinInsyncReplicas = 2 }, true},
		{func(c *TopicConfig) { c.UncleanLeaderElection = true }, true},
		{func(c *TopicConfig) { c.RetentionAge = time.Hour }, false},
		{func(c *TopicConfig) { c.SegmentBytes = 1 << 20 }, false},
		{func(c *TopicConfig) { c.Sync = SyncPolicy{Mode: SyncNone} }, false},
		{func(c *TopicConfig) { c.CleanupPolicy = CleanupCompact }, false},
		{func(c *TopicConfig) { c.Compression = CompressionZstd }, false},
	} {
		changed := base
		tc.change(&changed)
		if got := samePartitionOptions(s, base, changed); got != tc.same {
			t.Errorf("%+v: same %v, want %v", changed, got, tc.same)
		}
	}
}
