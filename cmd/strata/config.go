package main

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stratalog/strata/log"
)

// Topic config keys: Kafka's topic config names, mapped onto log.TopicConfig, plus
// strata's sync policy.
const (
	keyCleanupPolicy   = "cleanup.policy"    // CleanupPolicy: delete, compact, compact,delete
	keyRetentionMs     = "retention.ms"      // RetentionAge; -1 unlimited
	keyRetentionBytes  = "retention.bytes"   // RetentionBytes; -1 unlimited
	keySegmentBytes    = "segment.bytes"     // SegmentBytes
	keySegmentMs       = "segment.ms"        // SegmentAge
	keyCompressionType = "compression.type"  // Compression
	keyMaxMessageBytes = "max.message.bytes" // MaxBatchBytes
	keySync            = "sync"              // Sync.Mode: every-append, periodic, none
	keySyncIntervalMs  = "sync.interval.ms"  // Sync.Interval, with sync=periodic
	keySyncRecords     = "sync.records"      // Sync.EveryRecords, with sync=periodic

	keyDeleteRetentionMs = "delete.retention.ms"       // DeleteRetention; -1 forever
	keyMinDirtyRatio     = "min.cleanable.dirty.ratio" // MinCleanableDirtyRatio
	keyMinCompactionLag  = "min.compaction.lag.ms"     // MinCompactionLag

	keyMinInsyncReplicas     = "min.insync.replicas"            // MinInsyncReplicas
	keyUncleanLeaderElection = "unclean.leader.election.enable" // UncleanLeaderElection
)

// configKeys lists the accepted keys, for messages and help.
var configKeys = []string{
	keyCleanupPolicy, keyCompressionType, keyDeleteRetentionMs, keyMaxMessageBytes,
	keyMinDirtyRatio, keyMinCompactionLag, keyRetentionBytes, keyRetentionMs,
	keySegmentBytes, keySegmentMs, keySync, keySyncIntervalMs, keySyncRecords,
	keyMinInsyncReplicas, keyUncleanLeaderElection,
}

const configHelp = `Topic configs (--config key=value, repeatable), Kafka's names:
  cleanup.policy=P                delete (default), compact, or compact,delete
  delete.retention.ms=N           compaction keeps tombstones N ms; -1: forever
  min.cleanable.dirty.ratio=R     compact once R (0 < R <= 1) of the log is dirty
  min.compaction.lag.ms=N         leave records younger than N ms uncompacted
  retention.ms=N                  delete sealed segments older than N ms; -1: forever
  retention.bytes=N               keep at most about N bytes per partition; -1: no limit
  segment.bytes=N                 roll a segment before it exceeds N bytes
  segment.ms=N                    roll a segment once its first record is N ms old
  compression.type=C              none, gzip, snappy or zstd (lz4 is not supported)
  max.message.bytes=N             the largest batch, and so record, a partition accepts
  sync=every-append|periodic|none when appends are fsynced (default every-append)
  sync.interval.ms=N              with sync=periodic: fsync at least every N ms
  sync.records=N                  with sync=periodic: fsync every N records
  min.insync.replicas=N           acks=all needs N in-sync replicas (default 1)
  unclean.leader.election.enable=B
                                  true: elect a replica that is not in sync when no
                                  in-sync one is online, losing what it lacks
Settings not given inherit the store's defaults.`

// parseTopicConfig turns --config key=value pairs into a TopicConfig. Every problem
// names its key; a key given twice is an error.
func parseTopicConfig(pairs []string) (log.TopicConfig, error) {
	var config log.TopicConfig
	seen := map[string]bool{}
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return config, fmt.Errorf("--config %q: want key=value", pair)
		}
		if seen[key] {
			return config, fmt.Errorf("config %s: given twice", key)
		}
		seen[key] = true
		if err := setConfig(&config, key, strings.TrimSpace(value)); err != nil {
			return config, fmt.Errorf("config %s=%s: %w", key, value, err)
		}
	}
	hasSyncDetail := seen[keySyncIntervalMs] || seen[keySyncRecords]
	switch {
	case hasSyncDetail && config.Sync.Mode != log.SyncPeriodic:
		return config, fmt.Errorf("config %s and %s apply only with %s=periodic", keySyncIntervalMs, keySyncRecords, keySync)
	case config.Sync.Mode == log.SyncPeriodic && config.Sync.Interval == 0 && config.Sync.EveryRecords == 0:
		return config, fmt.Errorf("config %s=periodic needs %s or %s above 0", keySync, keySyncIntervalMs, keySyncRecords)
	}
	return config, nil
}

// setConfig sets the field of key from value.
func setConfig(c *log.TopicConfig, key, value string) error {
	switch key {
	case keyCleanupPolicy:
		if value == "" {
			return errors.New("want delete, compact or compact,delete")
		}
		c.CleanupPolicy = value // the store checks it, and names this key if it refuses
	case keyRetentionMs:
		d, err := parseMillis(value, true)
		if err != nil {
			return err
		}
		c.RetentionAge = d
	case keyRetentionBytes:
		n, err := parsePositive(value, true, math.MaxInt64)
		if err != nil {
			return err
		}
		c.RetentionBytes = n
	case keySegmentBytes:
		n, err := parsePositive(value, false, math.MaxInt64)
		if err != nil {
			return err
		}
		c.SegmentBytes = n
	case keySegmentMs:
		d, err := parseMillis(value, false)
		if err != nil {
			return err
		}
		c.SegmentAge = d
	case keyCompressionType:
		switch value {
		case "uncompressed", log.CompressionNone:
			c.Compression = log.CompressionNone
		case log.CompressionGzip, log.CompressionSnappy, log.CompressionZstd:
			c.Compression = value
		case "lz4":
			return errors.New("lz4 is not supported; want none, gzip, snappy or zstd")
		default:
			return errors.New("want none, gzip, snappy or zstd")
		}
	case keyMaxMessageBytes:
		n, err := parsePositive(value, false, math.MaxInt32)
		if err != nil {
			return err
		}
		c.MaxBatchBytes = int(n)
	case keySync:
		switch value {
		case log.SyncEveryAppend.String():
			c.Sync.Mode = log.SyncEveryAppend
		case log.SyncPeriodic.String():
			c.Sync.Mode = log.SyncPeriodic
		case log.SyncNone.String():
			c.Sync.Mode = log.SyncNone
		default:
			return errors.New("want every-append, periodic or none")
		}
	case keySyncIntervalMs:
		n, err := parseNonNegative(value, math.MaxInt64/int64(time.Millisecond))
		if err != nil {
			return err
		}
		c.Sync.Interval = time.Duration(n) * time.Millisecond
	case keySyncRecords:
		n, err := parseNonNegative(value, math.MaxInt32)
		if err != nil {
			return err
		}
		c.Sync.EveryRecords = int(n)
	case keyDeleteRetentionMs:
		d, err := parseMillis(value, true)
		if err != nil {
			return err
		}
		c.DeleteRetention = d
	case keyMinDirtyRatio:
		r, err := strconv.ParseFloat(value, 64)
		if err != nil || !(r > 0 && r <= 1) {
			return errors.New("want a number above 0 and at most 1")
		}
		c.MinCleanableDirtyRatio = r
	case keyMinCompactionLag:
		n, err := parseNonNegative(value, math.MaxInt64/int64(time.Millisecond))
		if err != nil {
			return err
		}
		c.MinCompactionLag = time.Duration(n) * time.Millisecond
	case keyMinInsyncReplicas:
		n, err := parsePositive(value, false, 255)
		if err != nil {
			return err
		}
		c.MinInsyncReplicas = int(n)
	case keyUncleanLeaderElection:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return errors.New("want true or false")
		}
		c.UncleanLeaderElection = b
	default:
		return fmt.Errorf("unknown key (known: %s)", strings.Join(configKeys, ", "))
	}
	return nil
}

// parsePositive parses a count above 0 and at most limit, or -1 if unlimited is allowed.
// 0 is refused: in a TopicConfig it would silently mean "inherit".
func parsePositive(value string, unlimited bool, limit int64) (int64, error) {
	n, err := strconv.ParseInt(value, 10, 64)
	switch {
	case err != nil:
		return 0, errors.New("not an integer")
	case n == -1 && unlimited:
		return log.Unlimited, nil
	case n <= 0 && unlimited:
		return 0, errors.New("want a number above 0, or -1 for no limit")
	case n <= 0:
		return 0, errors.New("want a number above 0")
	case n > limit:
		return 0, fmt.Errorf("at most %d", limit)
	}
	return n, nil
}

// parseNonNegative parses a number in [0, limit].
func parseNonNegative(value string, limit int64) (int64, error) {
	n, err := strconv.ParseInt(value, 10, 64)
	switch {
	case err != nil:
		return 0, errors.New("not an integer")
	case n < 0:
		return 0, errors.New("must not be negative")
	case n > limit:
		return 0, fmt.Errorf("at most %d", limit)
	}
	return n, nil
}

// parseMillis parses a duration in milliseconds, above 0, or -1 (unlimited) if allowed.
func parseMillis(value string, unlimited bool) (time.Duration, error) {
	n, err := parsePositive(value, unlimited, math.MaxInt64/int64(time.Millisecond))
	if err != nil {
		return 0, err
	}
	if n == log.Unlimited {
		return log.Unlimited, nil
	}
	return time.Duration(n) * time.Millisecond, nil
}

// configPairs returns an effective TopicConfig as key=value pairs, sorted by key,
// in the units --config takes.
func configPairs(c log.TopicConfig) []string {
	pairs := []string{
		keyCleanupPolicy + "=" + c.CleanupPolicy,
		keyCompressionType + "=" + c.Compression,
		keyMaxMessageBytes + "=" + strconv.Itoa(c.MaxBatchBytes),
		keyRetentionBytes + "=" + strconv.FormatInt(c.RetentionBytes, 10),
		keyRetentionMs + "=" + formatMillis(c.RetentionAge),
		keySegmentBytes + "=" + strconv.FormatInt(c.SegmentBytes, 10),
		keySegmentMs + "=" + formatMillis(c.SegmentAge),
		keySync + "=" + c.Sync.Mode.String(),
		keyMinInsyncReplicas + "=" + strconv.Itoa(c.MinInsyncReplicas),
		keyUncleanLeaderElection + "=" + strconv.FormatBool(c.UncleanLeaderElection),
	}
	if c.Sync.Mode == log.SyncPeriodic {
		pairs = append(pairs,
			keySyncIntervalMs+"="+formatMillis(c.Sync.Interval),
			keySyncRecords+"="+strconv.Itoa(c.Sync.EveryRecords))
	}
	if strings.Contains(c.CleanupPolicy, log.CleanupCompact) {
		pairs = append(pairs,
			keyDeleteRetentionMs+"="+formatMillis(c.DeleteRetention),
			keyMinDirtyRatio+"="+strconv.FormatFloat(c.MinCleanableDirtyRatio, 'g', -1, 64),
			keyMinCompactionLag+"="+formatMillis(c.MinCompactionLag))
	}
	sort.Strings(pairs)
	return pairs
}

// formatMillis formats a duration in ms; Unlimited is -1.
func formatMillis(d time.Duration) string {
	if d == log.Unlimited {
		return "-1"
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// configFieldKeys maps the TopicConfig field names that a *log.ConfigError's
// problems start with to the keys of --config.
var configFieldKeys = map[string]string{
	"CleanupPolicy":          keyCleanupPolicy,
	"MinInsyncReplicas":      keyMinInsyncReplicas,
	"ReplicationFactor":      "--replication-factor",
	"RetentionAge":           keyRetentionMs,
	"RetentionBytes":         keyRetentionBytes,
	"SegmentBytes":           keySegmentBytes,
	"SegmentAge":             keySegmentMs,
	"Compression":            keyCompressionType,
	"MaxBatchBytes":          keyMaxMessageBytes,
	"Sync":                   keySync,
	"DeleteRetention":        keyDeleteRetentionMs,
	"MinCleanableDirtyRatio": keyMinDirtyRatio,
	"MinCompactionLag":       keyMinCompactionLag,
	"Partitions":             "--partitions",
}

// explainConfigError rewrites a *log.ConfigError so that each problem names the
// --config key instead of the Go field; other errors are returned as they are.
func explainConfigError(err error) error {
	var ce *log.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	problems := make([]string, len(ce.Problems))
	for i, p := range ce.Problems {
		problems[i] = p
		field, rest, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		base, _, _ := strings.Cut(field, ".") // "Sync.Mode" → "Sync"
		if key, ok := configFieldKeys[base]; ok {
			problems[i] = key + " (" + field + "):" + rest
		}
	}
	return fmt.Errorf("invalid config: %s", strings.Join(problems, "; "))
}
