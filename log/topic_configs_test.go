package log_test

import (
	"math"
	"strconv"
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

// TestTopicConfigsMilliseconds: a duration config takes whole milliseconds, as
// Kafka's do, or a fraction of up to six decimals (to the nanosecond), and refuses
// anything else with the reason.
func TestTopicConfigsMilliseconds(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        time.Duration
		err         string
	}{
		{log.ConfigRetentionMs, "60000", time.Minute, ""},
		{log.ConfigRetentionMs, "1.5", 1500 * time.Microsecond, ""},
		{log.ConfigRetentionMs, "2.500", 2500 * time.Microsecond, ""},
		{log.ConfigRetentionMs, "0.000001", time.Nanosecond, ""},
		{log.ConfigRetentionMs, "-1", log.Unlimited, ""},
		{log.ConfigRetentionMs, "9223372036854.775807", math.MaxInt64, ""},
		{log.ConfigRetentionMs, "9223372036854.775808", 0, "at most 9223372036854.775807"},
		{log.ConfigRetentionMs, "99999999999999999999", 0, "at most 9223372036854.775807"},
		{log.ConfigRetentionMs, "0.0", 0, "want a number above 0, or -1 for no limit"},
		{log.ConfigRetentionMs, "-1.5", 0, "want a number above 0, or -1 for no limit"},
		{log.ConfigRetentionMs, "1.0000001", 0, "not an integer"},
		{log.ConfigRetentionMs, "1.", 0, "not an integer"},
		{log.ConfigRetentionMs, ".5", 0, "not an integer"},
		{log.ConfigRetentionMs, "1e3", 0, "not an integer"},
		{log.ConfigRetentionMs, "+5", 0, "not an integer"},
		{log.ConfigSegmentMs, "-1", 0, "want a number above 0"},
		{log.ConfigSegmentMs, "0.25", 250 * time.Microsecond, ""},
		{log.ConfigMinCompactionLagMs, "0", 0, ""},
		{log.ConfigMinCompactionLagMs, "0.1", 100 * time.Microsecond, ""},
		{log.ConfigMinCompactionLagMs, "-0.5", 0, "must not be negative"},
		{log.ConfigDeleteRetentionMs, "-1", log.Unlimited, ""},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			c, err := log.ParseTopicConfigs(map[string]string{tc.name: tc.value})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.name+": "+`"`+tc.value+`": `+tc.err)
				return
			}
			require.NoError(t, err)
			got := map[string]time.Duration{
				log.ConfigRetentionMs: c.RetentionAge, log.ConfigSegmentMs: c.SegmentAge,
				log.ConfigMinCompactionLagMs: c.MinCompactionLag, log.ConfigDeleteRetentionMs: c.DeleteRetention,
			}[tc.name]
			require.Equal(t, tc.want, got)
		})
	}
	// Any int is a valid sync.records, past an int32 where int is 64 bits.
	c, err := log.ParseTopicConfigs(map[string]string{log.ConfigSync: "periodic", log.ConfigSyncRecords: strconv.Itoa(math.MaxInt), log.ConfigSyncIntervalMs: "0.5"})
	require.NoError(t, err)
	require.Equal(t, log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: math.MaxInt, Interval: 500 * time.Microsecond}, c.Sync)
}
