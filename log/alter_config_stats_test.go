package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigKeepsStatsCounters: the counters of Stats count from the
// store's Open, so the partitions AlterTopicConfig opens again keep counting
// from where they were rather than starting from zero (a monitor computing rates
// from them would see a reset).
func TestAlterTopicConfigKeepsStatsCounters(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{RetentionCheckInterval: -1})
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{})
	produce(t, s, "orders", 0, 10)
	counters := func() (appended, appends uint64) {
		for _, ts := range s.Stats().Topics {
			if ts.Name == "orders" {
				return ts.Partitions[0].AppendedRecords, ts.Partitions[0].Appends
			}
		}
		t.Fatal("no stats for orders")
		return 0, 0
	}
	records, appends := counters()
	require.EqualValues(t, 10, records)

	require.NoError(t, s.AlterTopicConfig(ctx, "orders", log.TopicConfig{SegmentBytes: 4096}))
	gotRecords, gotAppends := counters()
	require.Equal(t, records, gotRecords, "AppendedRecords after the reopen")
	require.Equal(t, appends, gotAppends, "Appends after the reopen")
	produceFrom(t, s, "orders", 0, 10, 1)
	gotRecords, _ = counters()
	require.EqualValues(t, 11, gotRecords)
}
