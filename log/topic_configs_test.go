package log_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
)

// TestTopicConfigsRoundTrip: ParseTopicConfigs(c.Configs()) is c for every valid
// own config c (ReplicationFactor and Partitions aside: no topic configs), down to
// the nanosecond and up to each field's limit, since topics.json keeps a topic's
// settings this way. A field at zero stays unset: it inherits.
func TestTopicConfigsRoundTrip(t *testing.T) {
	const maxDuration = time.Duration(math.MaxInt64)
	for name, c := range map[string]log.TopicConfig{
		"nothing set": {},
		"every field": {
			Sync:         log.SyncPolicy{Mode: log.SyncPeriodic, Interval: 250 * time.Millisecond, EveryRecords: 100},
			SegmentBytes: 1 << 20, SegmentAge: time.Hour, RetentionBytes: 1 << 30, RetentionAge: 7 * 24 * time.Hour,
			Compression: log.CompressionSnappy, MaxBatchBytes: 4096, CleanupPolicy: log.CleanupCompactDelete,
			DeleteRetention: time.Minute, MinCleanableDirtyRatio: 0.1, MinCompactionLag: time.Second,
			MinInsyncReplicas: 2, UncleanLeaderElection: true,
		},
		"unlimited": {RetentionBytes: log.Unlimited, RetentionAge: log.Unlimited, DeleteRetention: log.Unlimited},
		"fractions of a millisecond": {
			Sync:       log.SyncPolicy{Mode: log.SyncPeriodic, Interval: 1500 * time.Microsecond},
			SegmentAge: time.Nanosecond, RetentionAge: 999_999 * time.Nanosecond, DeleteRetention: 1001 * time.Microsecond,
			MinCompactionLag: time.Millisecond + time.Nanosecond,
		},
		"limits": {
			Sync:         log.SyncPolicy{Mode: log.SyncPeriodic, Interval: maxDuration, EveryRecords: math.MaxInt},
			SegmentBytes: math.MaxInt32, SegmentAge: maxDuration, RetentionBytes: math.MaxInt64, RetentionAge: maxDuration,
			MaxBatchBytes: math.MaxInt32, DeleteRetention: maxDuration, MinCleanableDirtyRatio: 1, MinCompactionLag: maxDuration,
			MinInsyncReplicas: 255,
		},
		"smallest": {
			SegmentBytes: 1, RetentionBytes: 1, MaxBatchBytes: 61, MinCleanableDirtyRatio: math.SmallestNonzeroFloat64,
			MinInsyncReplicas: 1, Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 1},
		},
		"other spellings": {CleanupPolicy: "delete,compact", Compression: log.CompressionNone, Sync: log.SyncPolicy{Mode: log.SyncNone}},
	} {
		t.Run(name, func(t *testing.T) {
			configs := c.Configs()
			got, err := log.ParseTopicConfigs(configs)
			require.NoError(t, err, "%v", configs)
			require.Equal(t, c, got, "%v", configs)
		})
	}
}
