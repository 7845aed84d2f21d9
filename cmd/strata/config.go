package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stratalog/strata/log"
)

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
Settings not given inherit the store's defaults. A duration in ms may have a
fraction, to the nanosecond (1.5); Kafka takes whole milliseconds only.`

// parseConfigPairs turns --config key=value pairs into a map of config names to
// values. A pair without "=", or a key given twice, is an error.
func parseConfigPairs(pairs []string) (map[string]string, error) {
	configs := map[string]string{}
	var problems []string
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		key = strings.TrimSpace(key)
		switch {
		case !ok || key == "":
			problems = append(problems, fmt.Sprintf("--config %q: want key=value", pair))
		case hasKey(configs, key):
			problems = append(problems, fmt.Sprintf("config %s: given twice", key))
		default:
			configs[key] = value
		}
	}
	if problems != nil {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return configs, nil
}

func hasKey(m map[string]string, key string) bool {
	_, ok := m[key]
	return ok
}

// parseTopicConfig turns --config key=value pairs into a TopicConfig through
// log.ParseTopicConfigs, the one mapping between Kafka's config names and
// TopicConfig. Every problem is reported at once, each naming its key.
func parseTopicConfig(pairs []string) (log.TopicConfig, error) {
	configs, err := parseConfigPairs(pairs)
	if err != nil {
		return log.TopicConfig{}, err
	}
	config, err := log.ParseTopicConfigs(configs)
	if err != nil {
		return log.TopicConfig{}, explainConfigError(err)
	}
	return config, nil
}

// configPairs returns an effective TopicConfig as key=value pairs, sorted by key,
// in the units --config takes: every setting, but the periodic sync's details only
// with sync=periodic and compaction's only with a policy that compacts.
func configPairs(c log.TopicConfig) []string {
	configs := c.Configs()
	for _, key := range []string{log.ConfigMinCompactionLagMs} {
		if _, ok := configs[key]; !ok {
			configs[key] = "0"
		}
	}
	if _, ok := configs[log.ConfigUncleanLeaderElection]; !ok {
		configs[log.ConfigUncleanLeaderElection] = "false"
	}
	if c.Sync.Mode == log.SyncPeriodic {
		for _, key := range []string{log.ConfigSyncIntervalMs, log.ConfigSyncRecords} {
			if _, ok := configs[key]; !ok {
				configs[key] = "0"
			}
		}
	} else {
		delete(configs, log.ConfigSyncIntervalMs)
		delete(configs, log.ConfigSyncRecords)
	}
	if !strings.Contains(c.CleanupPolicy, log.CleanupCompact) {
		delete(configs, log.ConfigDeleteRetentionMs)
		delete(configs, log.ConfigMinCleanableDirtyRatio)
		delete(configs, log.ConfigMinCompactionLagMs)
	}
	pairs := make([]string, 0, len(configs))
	for key, value := range configs {
		pairs = append(pairs, key+"="+value)
	}
	sort.Strings(pairs)
	return pairs
}

// explainConfigError rewrites a *log.ConfigError so that each problem names the
// --config key instead of the Go field ("retention.ms (RetentionAge): ..."); a
// problem that names a key already is kept. Other errors are returned as they are.
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
		key, ok := log.TopicConfigName(field)
		if !ok {
			base, _, _ := strings.Cut(field, ".") // "Sync.Mode" → "Sync"
			key, ok = log.TopicConfigName(base)
		}
		if !ok {
			key, ok = flagFields[field]
		}
		if ok {
			problems[i] = key + " (" + field + "):" + rest
		}
	}
	return fmt.Errorf("invalid config: %s", strings.Join(problems, "; "))
}

// flagFields maps the TopicConfig fields that are no topic configs to the flags
// that set them.
var flagFields = map[string]string{
	"Partitions":        "--partitions",
	"ReplicationFactor": "--replication-factor",
}
