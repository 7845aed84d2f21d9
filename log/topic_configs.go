package log

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Topic config names: Kafka's topic config names for the TopicConfig fields Kafka
// has, and strata's for its sync policy. ParseTopicConfigs and TopicConfig.Configs
// map between them and TopicConfig; the CLI's --config takes them, and a
// *ConfigError of AlterTopicConfig names them; topics.json keeps a topic's own
// settings under them. Durations are in milliseconds, -1 is Unlimited where a
// field allows it. A duration may have a fraction of up to six digits ("0.5",
// "1.000001"), strata's and not Kafka's (whose durations are whole milliseconds):
// a TopicConfig holds a time.Duration, and Configs writes one that is no whole
// number of milliseconds so, to the nanosecond, rather than round it.
const (
	ConfigCleanupPolicy          = "cleanup.policy"                 // CleanupPolicy
	ConfigCompressionType        = "compression.type"               // Compression ("uncompressed" is read as none)
	ConfigDeleteRetentionMs      = "delete.retention.ms"            // DeleteRetention; -1 forever
	ConfigMaxMessageBytes        = "max.message.bytes"              // MaxBatchBytes
	ConfigMinCleanableDirtyRatio = "min.cleanable.dirty.ratio"      // MinCleanableDirtyRatio
	ConfigMinCompactionLagMs     = "min.compaction.lag.ms"          // MinCompactionLag
	ConfigMinInsyncReplicas      = "min.insync.replicas"            // MinInsyncReplicas
	ConfigRetentionBytes         = "retention.bytes"                // RetentionBytes; -1 unlimited
	ConfigRetentionMs            = "retention.ms"                   // RetentionAge; -1 unlimited
	ConfigSegmentBytes           = "segment.bytes"                  // SegmentBytes
	ConfigSegmentMs              = "segment.ms"                     // SegmentAge
	ConfigSync                   = "sync"                           // Sync.Mode: every-append, periodic, none (strata's)
	ConfigSyncIntervalMs         = "sync.interval.ms"               // Sync.Interval (strata's)
	ConfigSyncRecords            = "sync.records"                   // Sync.EveryRecords (strata's)
	ConfigUncleanLeaderElection  = "unclean.leader.election.enable" // UncleanLeaderElection
)

// topicConfigFields maps each config name to the TopicConfig field it sets, the
// field's name as a *ConfigError's problems start with it.
var topicConfigFields = map[string]string{
	ConfigCleanupPolicy:          "CleanupPolicy",
	ConfigCompressionType:        "Compression",
	ConfigDeleteRetentionMs:      "DeleteRetention",
	ConfigMaxMessageBytes:        "MaxBatchBytes",
	ConfigMinCleanableDirtyRatio: "MinCleanableDirtyRatio",
	ConfigMinCompactionLagMs:     "MinCompactionLag",
	ConfigMinInsyncReplicas:      "MinInsyncReplicas",
	ConfigRetentionBytes:         "RetentionBytes",
	ConfigRetentionMs:            "RetentionAge",
	ConfigSegmentBytes:           "SegmentBytes",
	ConfigSegmentMs:              "SegmentAge",
	ConfigSync:                   "Sync.Mode",
	ConfigSyncIntervalMs:         "Sync.Interval",
	ConfigSyncRecords:            "Sync.EveryRecords",
	ConfigUncleanLeaderElection:  "UncleanLeaderElection",
}

// TopicConfigNames returns the config names ParseTopicConfigs accepts, sorted.
func TopicConfigNames() []string {
	names := make([]string, 0, len(topicConfigFields))
	for name := range topicConfigFields {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TopicConfigName returns the config name of a TopicConfig field ("RetentionAge",
// or "Sync" and "Sync.Interval" for the sync policy), as the problems of a
// *ConfigError start with it, and false for a field without one (Partitions,
// ReplicationFactor).
func TopicConfigName(field string) (string, bool) {
	if field == "Sync" {
		return ConfigSync, true
	}
	for name, f := range topicConfigFields {
		if f == field {
			return name, true
		}
	}
	return "", false
}

// ParseTopicConfigs returns the TopicConfig that configs (config name to value, as
// Kafka's --config and strata's CLI take them) set; fields not named stay zero,
// inheriting. Each value is parsed and range-checked on its own: the limits that
// involve several fields or the store (Sync's, MinInsyncReplicas against the
// ReplicationFactor) are CreateTopic's and AlterTopicConfig's. Every problem, an
// unknown name included, is reported at once in a *ConfigError whose problems
// start with the config name.
func ParseTopicConfigs(configs map[string]string) (TopicConfig, error) {
	var c TopicConfig
	var problems []string
	for _, name := range sortedKeys(configs) {
		if err := c.setConfig(name, strings.TrimSpace(configs[name])); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q: %v", name, configs[name], err))
		}
	}
	if len(problems) > 0 {
		return TopicConfig{}, &ConfigError{What: "topic configs", Problems: problems}
	}
	return c, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// reasonf is fmt.Errorf for the short reasons of setConfig, which a *ConfigError
// problem carries after the config name.
func reasonf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// setConfig sets the field of the named config from value.
func (c *TopicConfig) setConfig(name, value string) error {
	var err error
	switch name {
	case ConfigCleanupPolicy:
		switch value {
		case CleanupDelete, CleanupCompact, CleanupCompactDelete, "delete,compact":
			c.CleanupPolicy = value
		default:
			return reasonf("want delete, compact or compact,delete")
		}
	case ConfigRetentionMs:
		c.RetentionAge, err = parseMillis(value, millisOrUnlimited)
	case ConfigRetentionBytes:
		c.RetentionBytes, err = parsePositive(value, true, math.MaxInt64)
	case ConfigSegmentBytes:
		c.SegmentBytes, err = parsePositive(value, false, maxSegmentBytes)
	case ConfigSegmentMs:
		c.SegmentAge, err = parseMillis(value, millisPositive)
	case ConfigCompressionType:
		switch value {
		case "uncompressed", CompressionNone:
			c.Compression = CompressionNone
		case CompressionGzip, CompressionSnappy, CompressionZstd:
			c.Compression = value
		case "lz4":
			return reasonf("lz4 is not supported; want none, gzip, snappy or zstd")
		default:
			return reasonf("want none, gzip, snappy or zstd")
		}
	case ConfigMaxMessageBytes:
		var n int64
		n, err = parsePositive(value, false, int64(maxMaxBatchBytes))
		c.MaxBatchBytes = int(n)
	case ConfigSync:
		mode, ok := parseSyncMode(value)
		if !ok || mode == SyncDefault {
			return reasonf("want every-append, periodic or none")
		}
		c.Sync.Mode = mode
	case ConfigSyncIntervalMs:
		c.Sync.Interval, err = parseMillis(value, millisOrZero)
	case ConfigSyncRecords:
		var n int64
		n, err = parseNonNegative(value, math.MaxInt)
		c.Sync.EveryRecords = int(n)
	case ConfigDeleteRetentionMs:
		c.DeleteRetention, err = parseMillis(value, millisOrUnlimited)
	case ConfigMinCleanableDirtyRatio:
		r, parseErr := strconv.ParseFloat(value, 64)
		if parseErr != nil || !(r > 0 && r <= 1) {
			return reasonf("want a number above 0 and at most 1")
		}
		c.MinCleanableDirtyRatio = r
	case ConfigMinCompactionLagMs:
		c.MinCompactionLag, err = parseMillis(value, millisOrZero)
	case ConfigMinInsyncReplicas:
		var n int64
		n, err = parsePositive(value, false, maxReplicationFactor)
		c.MinInsyncReplicas = int(n)
	case ConfigUncleanLeaderElection:
		b, parseErr := strconv.ParseBool(value)
		if parseErr != nil {
			return reasonf("want true or false")
		}
		c.UncleanLeaderElection = b
	default:
		return reasonf("unknown config (known: %s)", strings.Join(TopicConfigNames(), ", "))
	}
	return err
}

// parsePositive parses a count above 0 and at most limit, or -1 (Unlimited) if
// unlimited is allowed. 0 is refused: in a TopicConfig it would mean "inherit".
func parsePositive(value string, unlimited bool, limit int64) (int64, error) {
	n, err := strconv.ParseInt(value, 10, 64)
	switch {
	case err != nil:
		return 0, reasonf("not an integer")
	case n == Unlimited && unlimited:
		return Unlimited, nil
	case n <= 0 && unlimited:
		return 0, reasonf("want a number above 0, or -1 for no limit")
	case n <= 0:
		return 0, reasonf("want a number above 0")
	case n > limit:
		return 0, reasonf("at most %d", limit)
	}
	return n, nil
}

// parseNonNegative parses a number in [0, limit].
func parseNonNegative(value string, limit int64) (int64, error) {
	n, err := strconv.ParseInt(value, 10, 64)
	switch {
	case err != nil:
		return 0, reasonf("not an integer")
	case n < 0:
		return 0, reasonf("must not be negative")
	case n > limit:
		return 0, reasonf("at most %d", limit)
	}
	return n, nil
}

// Configs returns the fields of c that are set (not zero) by config name, in the
// units ParseTopicConfigs takes, which reads them back into the same fields:
// ParseTopicConfigs(c.Configs()) is c without Partitions and ReplicationFactor,
// which are no topic configs in Kafka either. Of an effective config
// (TopicDescription.Config) it returns every setting.
func (c TopicConfig) Configs() map[string]string {
	out := map[string]string{}
	set := func(name, value string, isSet bool) {
		if isSet {
			out[name] = value
		}
	}
	set(ConfigCleanupPolicy, c.CleanupPolicy, c.CleanupPolicy != "")
	set(ConfigCompressionType, c.Compression, c.Compression != "")
	set(ConfigDeleteRetentionMs, formatMillis(c.DeleteRetention), c.DeleteRetention != 0)
	set(ConfigMaxMessageBytes, strconv.Itoa(c.MaxBatchBytes), c.MaxBatchBytes != 0)
	set(ConfigMinCleanableDirtyRatio, strconv.FormatFloat(c.MinCleanableDirtyRatio, 'g', -1, 64), c.MinCleanableDirtyRatio != 0)
	set(ConfigMinCompactionLagMs, formatMillis(c.MinCompactionLag), c.MinCompactionLag != 0)
	set(ConfigMinInsyncReplicas, strconv.Itoa(c.MinInsyncReplicas), c.MinInsyncReplicas != 0)
	set(ConfigRetentionBytes, strconv.FormatInt(c.RetentionBytes, 10), c.RetentionBytes != 0)
	set(ConfigRetentionMs, formatMillis(c.RetentionAge), c.RetentionAge != 0)
	set(ConfigSegmentBytes, strconv.FormatInt(c.SegmentBytes, 10), c.SegmentBytes != 0)
	set(ConfigSegmentMs, formatMillis(c.SegmentAge), c.SegmentAge != 0)
	set(ConfigSync, c.Sync.Mode.String(), c.Sync.Mode != SyncDefault)
	set(ConfigSyncIntervalMs, formatMillis(c.Sync.Interval), c.Sync.Interval != 0)
	set(ConfigSyncRecords, strconv.Itoa(c.Sync.EveryRecords), c.Sync.EveryRecords != 0)
	set(ConfigUncleanLeaderElection, "true", c.UncleanLeaderElection)
	return out
}
