package log

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// Format: the store's files at the top of its directory.
const (
	// metadataFileName is the topic metadata, replaced crash-atomically (written to
	// topics.json.tmp, fsynced, renamed, directory fsynced) on every change.
	metadataFileName = "topics.json"
	// lockFileName is the file Open locks for as long as the store is open.
	lockFileName = ".lock"
	// metadataVersion is the version of topics.json this code writes: JSON and a
	// last line with its CRC-32C. It also reads legacyMetadataVersion.
	metadataVersion = 2
	// legacyMetadataVersion is the version written before topics.json had a
	// checksum: JSON alone. Read, never written.
	legacyMetadataVersion = 1
	// maxMetadataBytes bounds the size of topics.json that Open believes.
	maxMetadataBytes = 64 << 20
)

// metadataFile is topics.json. Format, version 2 (see metadata_checksum.go for
// the last line; version 1 is the same JSON, with "version": 1, and no last line):
//
//	{
//	  "version": 2,
//	  "topics": [
//	    {"name": "orders", "partitions": 3, "partitioner": "murmur2", "config": {"retention.age": "168h0m0s"}},
//	    {"name": "__consumer_offsets", "partitions": 1, "internal": true, "config": {}}
//	  ]
//	}
//	crc32c 5e1f0a3b
//
// Topics are sorted by name. "config" holds only the topic's own settings (the
// non-zero fields of the TopicConfig it was created with, Partitions excepted); the
// others are inherited from the store's defaults at each Open. "partitioner" is how
// the default partitioner maps keys (see topicMetadata.Partitioner). Unknown keys are an
// error, so that a newer file is never half-understood.
type metadataFile struct {
	Version int `json:"version"`
	// Sequence counts the writes of a store of several brokers, which keeps a copy
	// in each broker directory: the valid copy with the greatest sequence is the
	// metadata. A one-broker store leaves it out.
	Sequence int64           `json:"sequence,omitempty"`
	Topics   []topicMetadata `json:"topics"`
	// Deleted, in a store of several brokers, lists the replicas of deleted
	// partitions whose brokers were offline at the deletion: their directories are
	// removed when those brokers are back, before they open a replica, so that a
	// partition made again under the name never takes one for its own. A
	// one-broker store leaves it out.
	Deleted []deletedReplicas `json:"deleted,omitempty"`
}

// deletedReplicas is an entry of metadataFile.Deleted: a deleted partition's
// directory name, and the brokers that still hold its replica.
type deletedReplicas struct {
	Name    string             `json:"name"`
	Brokers []replica.BrokerID `json:"brokers"`
}

// topicMetadata is one topic in topics.json.
type topicMetadata struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
	Internal   bool   `json:"internal,omitempty"`
	// Partitioner is how the default partitioner maps the topic's keys:
	// "murmur2" (Kafka's, KeyPartition) for a topic created since strata used it;
	// absent for one created before (XXH64, LegacyKeyPartition), and for internal
	// topics, whose records strata places itself.
	Partitioner string     `json:"partitioner,omitempty"`
	Config      diskConfig `json:"config"`
}

// diskConfig is a TopicConfig (without Partitions) in topics.json, with Kafka-like
// keys. Durations are Go duration strings ("168h0m0s"), or "unlimited".
type diskConfig struct {
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

func encodeDuration(d time.Duration) string {
	switch d {
	case 0:
		return ""
	case Unlimited:
		return "unlimited"
	}
	return d.String()
}

func decodeDuration(s string) (time.Duration, error) {
	switch s {
	case "":
		return 0, nil
	case "unlimited":
		return Unlimited, nil
	}
	return time.ParseDuration(s)
}

func toDiskConfig(c TopicConfig) diskConfig {
	return diskConfig{
		SyncMode:         syncModeNames[c.Sync.Mode],
		SyncEveryRecords: c.Sync.EveryRecords,
		SyncInterval:     encodeDuration(c.Sync.Interval),
		SegmentBytes:     c.SegmentBytes,
		SegmentAge:       encodeDuration(c.SegmentAge),
		RetentionBytes:   c.RetentionBytes,
		RetentionAge:     encodeDuration(c.RetentionAge),
		Compression:      c.Compression,
		MaxBatchBytes:    c.MaxBatchBytes,
		CleanupPolicy:    c.CleanupPolicy,

		DeleteRetention:        encodeDuration(c.DeleteRetention),
		MinCleanableDirtyRatio: c.MinCleanableDirtyRatio,
		MinCompactionLag:       encodeDuration(c.MinCompactionLag),

		ReplicationFactor:     c.ReplicationFactor,
		MinInsyncReplicas:     c.MinInsyncReplicas,
		UncleanLeaderElection: c.UncleanLeaderElection,
	}
}

func (d diskConfig) topicConfig() (TopicConfig, error) {
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
		*f.dst, err = decodeDuration(f.src)
		errList = append(errList, err)
	}
	return c, errors.Join(errList...)
}

// readMetadata reads and checks topics.json; found is false if there is none.
func readMetadata(fsys vfs.FS, dir string) (meta metadataFile, found bool, err error) {
	path := filepath.Join(dir, metadataFileName)
	data, err := keyvalue.ReadFile(fsys, path, maxMetadataBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return metadataFile{}, false, nil
	case err != nil:
		return metadataFile{}, true, err
	}
	meta, err = decodeMetadata(path, data)
	return meta, true, err
}

// check verifies what decodeMetadata decoded: valid and unique names, partition
// counts, and valid configs.
func (m *metadataFile) check() error {
	seen := map[string]bool{}
	for _, t := range m.Topics {
		if err := ValidateTopicName(t.Name); err != nil {
			return err
		}
		if seen[t.Name] {
			return fmt.Errorf("topic %q listed twice", t.Name)
		}
		seen[t.Name] = true
		if t.Partitions < 1 || t.Partitions > MaxPartitions {
			return fmt.Errorf("topic %q has %d partitions", t.Name, t.Partitions)
		}
		if _, ok := parseKeyHash(t.Partitioner); !ok {
			return fmt.Errorf("topic %q: unknown partitioner %q", t.Name, t.Partitioner)
		}
		c, err := t.Config.topicConfig()
		if err != nil {
			return fmt.Errorf("topic %q: %v", t.Name, err)
		}
		if err := checkConfig(strconv.Quote(t.Name), c.problems("")); err != nil {
			return err
		}
	}
	for _, d := range m.Deleted {
		if _, _, ok := parsePartitionDirName(d.Name); !ok || len(d.Brokers) == 0 || slices.ContainsFunc(d.Brokers, func(b replica.BrokerID) bool { return b < 0 }) {
			return fmt.Errorf("deleted replicas %q of brokers %v: not a partition, or no brokers", d.Name, d.Brokers)
		}
	}
	return nil
}

// writeMetadata replaces topics.json crash-atomically, in the current version.
func writeMetadata(fsys vfs.FS, dir string, m metadataFile) error {
	data, err := encodeMetadata(m)
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, metadataFileName), data)
}
