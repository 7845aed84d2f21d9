package log

import (
	"errors"
	"fmt"
	"time"
)

// Format: the versions of topics.json before version 3, read and never written.
// They are metadataFile with a topic's own settings under strata's former keys
// (legacyConfig); version 1 has no checksum line, version 2 has one. Open gives
// their topics IDs and writes the current version at once (see
// assignMissingTopicIDs).
const (
	// legacyMetadataVersion is the version written before topics.json had a
	// checksum: JSON alone.
	legacyMetadataVersion = 1
	// checkedLegacyMetadataVersion is version 1 with the checksum line.
	checkedLegacyMetadataVersion = 2
)

// legacyMetadataFile is topics.json in versions 1 and 2.
type legacyMetadataFile struct {
	Version  int                   `json:"version"`
	Sequence int64                 `json:"sequence,omitempty"`
	Topics   []legacyTopicMetadata `json:"topics"`
	Deleted  []deletedReplicas     `json:"deleted,omitempty"`
}

// legacyTopicMetadata is one topic in versions 1 and 2: its replication factor
// was in its config.
type legacyTopicMetadata struct {
	Name        string       `json:"name"`
	Partitions  int          `json:"partitions"`
	Internal    bool         `json:"internal,omitempty"`
	Partitioner string       `json:"partitioner,omitempty"`
	Config      legacyConfig `json:"config"`
}

// legacyConfig is a topic's own settings in versions 1 and 2: a TopicConfig
// (without Partitions) under strata's former keys. Durations are Go duration
// strings ("168h0m0s"), or "unlimited"; a key that is absent (zero) inherits.
type legacyConfig struct {
	SyncMode         string `json:"sync.mode,omitempty"`
	SyncEveryRecords int    `json:"sync.every.records,omitempty"`
	SyncInterval     string `json:"sync.interval,omitempty"`
	SegmentBytes     int64  `json:"segment.bytes,omitempty"`
	SegmentAge       string `json:"segment.age,omitempty"`
	RetentionBytes   int64  `json:"retention.bytes,omitempty"`
	RetentionAge     string `json:"retention.age,omitempty"`
	Compression      string `json:"compression,omitempty"`
	MaxBatchBytes    int    `json:"max.batch.bytes,omitempty"`
	CleanupPolicy    string `json:"cleanup.policy,omitempty"`
	// Compaction settings; absent in files written before compaction existed.
	DeleteRetention        string  `json:"delete.retention,omitempty"`
	MinCleanableDirtyRatio float64 `json:"min.cleanable.dirty.ratio,omitempty"`
	MinCompactionLag       string  `json:"min.compaction.lag,omitempty"`
	// Replication settings; absent in files written before replicas existed.
	ReplicationFactor     int  `json:"replication.factor,omitempty"`
	MinInsyncReplicas     int  `json:"min.insync.replicas,omitempty"`
	UncleanLeaderElection bool `json:"unclean.leader.election.enable,omitempty"`
}

// current returns m in the shape of version 3 (the current version without
// topic IDs), each topic's settings under Kafka's config names: an error if a
// sync mode or duration does not parse (the other values are checked as version
// 3's are, by metadataFile.check).
func (m legacyMetadataFile) current() (metadataFile, error) {
	out := metadataFile{Version: m.Version, Sequence: m.Sequence, Deleted: m.Deleted}
	for _, t := range m.Topics {
		own, err := t.Config.topicConfig()
		if err != nil {
			return metadataFile{}, fmt.Errorf("topic %q: %w", t.Name, err)
		}
		out.Topics = append(out.Topics, topicMetadata{
			Name: t.Name, Partitions: t.Partitions, ReplicationFactor: own.ReplicationFactor, Internal: t.Internal,
			Partitioner: t.Partitioner, Config: own.Configs(),
		})
	}
	return out, nil
}

// topicConfig returns the TopicConfig that d sets.
func (d legacyConfig) topicConfig() (TopicConfig, error) {
	mode, ok := parseSyncMode(d.SyncMode)
	if !ok {
		return TopicConfig{}, fmt.Errorf("unknown sync.mode %q", d.SyncMode)
	}
	c := TopicConfig{
		Sync:           SyncPolicy{Mode: mode, EveryRecords: d.SyncEveryRecords},
		SegmentBytes:   d.SegmentBytes,
		RetentionBytes: d.RetentionBytes,
		Compression:    d.Compression,
		MaxBatchBytes:  d.MaxBatchBytes,
		CleanupPolicy:  d.CleanupPolicy,

		MinCleanableDirtyRatio: d.MinCleanableDirtyRatio,

		ReplicationFactor:     d.ReplicationFactor,
		MinInsyncReplicas:     d.MinInsyncReplicas,
		UncleanLeaderElection: d.UncleanLeaderElection,
	}
	var errList []error
	for _, f := range []struct {
		dst *time.Duration
		src string
	}{{&c.Sync.Interval, d.SyncInterval}, {&c.SegmentAge, d.SegmentAge}, {&c.RetentionAge, d.RetentionAge},
		{&c.DeleteRetention, d.DeleteRetention}, {&c.MinCompactionLag, d.MinCompactionLag}} {
		var err error
		*f.dst, err = decodeLegacyDuration(f.src)
		errList = append(errList, err)
	}
	return c, errors.Join(errList...)
}

// decodeLegacyDuration reads a duration of legacyConfig: "" is 0, "unlimited"
// Unlimited, anything else a Go duration string.
func decodeLegacyDuration(s string) (time.Duration, error) {
	switch s {
	case "":
		return 0, nil
	case "unlimited":
		return Unlimited, nil
	}
	return time.ParseDuration(s)
}
