package log

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"

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
	// metadataVersion is the version of topics.json this code writes: JSON, a
	// topic's ID and own settings under Kafka's config names, and a last line with
	// its CRC-32C. It also reads version 3 (the same without topic IDs, which Open
	// then assigns) and the two versions before (metadata_legacy.go).
	metadataVersion = 4
	// unidentifiedMetadataVersion is version 4 without topic IDs: read, never
	// written.
	unidentifiedMetadataVersion = 3
	// maxMetadataBytes bounds the size of topics.json that Open believes.
	maxMetadataBytes = 64 << 20
)

// metadataFile is topics.json. Format, version 4 (see metadata_checksum.go for
// the last line, metadata_legacy.go for versions 1 and 2):
//
//	{
//	  "version": 4,
//	  "topics": [
//	    {"name": "orders", "topicId": "kPFzwh1hS6O9GiWlFPgaTw", "partitions": 3, "partitioner": "murmur2", "config": {"retention.ms": "604800000"}},
//	    {"name": "__consumer_offsets", "topicId": "3sQy8uYrQzK2tXz1uVwW5g", "partitions": 1, "internal": true, "config": {"cleanup.policy": "compact"}}
//	  ]
//	}
//	crc32c 5e1f0a3b
//
// Topics are sorted by name. "topicId" is the topic's TopicID in Kafka's text form,
// present for every topic and unique; version 3 is the same file without it (Open
// assigns the IDs and writes version 4 before it opens anything). "config" holds only the topic's own settings: the
// non-zero fields of its TopicConfig, as TopicConfig.Configs writes them (Kafka's
// config names, string values) and ParseTopicConfigs reads them, so that the API,
// the CLI's --config and the file share one mapping; the others are inherited from
// the store's defaults at each Open. "replicationFactor" is the topic's own
// ReplicationFactor (no topic config in Kafka either), absent if zero.
// "partitioner" is how the default partitioner maps keys (see
// topicMetadata.Partitioner). Unknown keys, and unknown config names, are an error,
// so that a newer file is never half-understood.
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
	Name string `json:"name"`
	// TopicID is the topic's TopicID in Kafka's text form (version 4; absent
	// before).
	TopicID           string `json:"topicId,omitempty"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replicationFactor,omitempty"`
	Internal          bool   `json:"internal,omitempty"`
	// Partitioner is how the default partitioner maps the topic's keys:
	// "murmur2" (Kafka's, KeyPartition) for a topic created since strata used it;
	// absent for one created before (XXH64, LegacyKeyPartition), and for internal
	// topics, whose records strata places itself.
	Partitioner string `json:"partitioner,omitempty"`
	// Config is the topic's own settings by config name (TopicConfig.Configs).
	Config map[string]string `json:"config"`
}

// newTopicMetadata returns the entry in topics.json of a topic whose own settings
// are own.
func newTopicMetadata(name string, id TopicID, partitions int, internal bool, keys keyHash, own TopicConfig) topicMetadata {
	return topicMetadata{
		Name: name, TopicID: id.String(), Partitions: partitions, ReplicationFactor: own.ReplicationFactor, Internal: internal,
		Partitioner: keyHashNames[keys], Config: own.Configs(),
	}
}

// ownConfig returns the topic's own settings: Config through ParseTopicConfigs,
// and ReplicationFactor; Partitions stays zero. A config that does not parse is a
// *ConfigError for the topic, naming the config.
func (tm topicMetadata) ownConfig() (TopicConfig, error) {
	c, err := ParseTopicConfigs(tm.Config)
	if ce := (*ConfigError)(nil); errors.As(err, &ce) {
		return TopicConfig{}, &ConfigError{What: strconv.Quote(tm.Name), Problems: ce.Problems}
	} else if err != nil {
		return TopicConfig{}, err
	}
	c.ReplicationFactor = tm.ReplicationFactor
	return c, nil
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
	ids := map[TopicID]string{}
	for _, t := range m.Topics {
		if err := ValidateTopicName(t.Name); err != nil {
			return err
		}
		if seen[t.Name] {
			return fmt.Errorf("topic %q listed twice", t.Name)
		}
		seen[t.Name] = true
		switch id, ok := parseTopicID(t.TopicID); {
		case m.Version < metadataVersion && t.TopicID != "":
			return fmt.Errorf("topic %q: a topic ID in version %d, which has none", t.Name, m.Version)
		case m.Version < metadataVersion:
		case !ok:
			return fmt.Errorf("topic %q: topic ID %q is not a topic ID (22 characters of unpadded URL-safe base64, not a reserved ID)", t.Name, t.TopicID)
		case ids[id] != "":
			return fmt.Errorf("topics %q and %q have the same topic ID %s", ids[id], t.Name, t.TopicID)
		default:
			ids[id] = t.Name
		}
		if t.Partitions < 1 || t.Partitions > MaxPartitions {
			return fmt.Errorf("topic %q has %d partitions", t.Name, t.Partitions)
		}
		if _, ok := parseKeyHash(t.Partitioner); !ok {
			return fmt.Errorf("topic %q: unknown partitioner %q", t.Name, t.Partitioner)
		}
		c, err := t.ownConfig()
		if err != nil {
			return err
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
