package log

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stratalog/strata/partition"
)

// topic is one topic as the store serves it. A topic value never changes once
// published in a topicSet: AddPartitions publishes a new one sharing the partitions.
type topic struct {
	name     string
	internal bool
	// own holds the topic's own settings (zero: inherit), Partitions cleared; it is
	// what topics.json keeps.
	own TopicConfig
	// config is the effective configuration; config.Partitions == len(partitions).
	config     TopicConfig
	partitions []*partition.Partition
}

// metadata returns the topic's entry in topics.json.
func (t *topic) metadata() topicMetadata {
	return topicMetadata{Name: t.name, Partitions: t.config.Partitions, Internal: t.internal, Config: toDiskConfig(t.own)}
}

// topicSet is an immutable snapshot of the store's topics, read without locks by
// producers, consumers and Stats; changes publish a new one.
type topicSet map[string]*topic

// with returns a copy of s with t added or replaced.
func (s topicSet) with(t *topic) topicSet {
	out := make(topicSet, len(s)+1)
	for name, old := range s {
		out[name] = old
	}
	out[t.name] = t
	return out
}

// without returns a copy of s without the named topic.
func (s topicSet) without(name string) topicSet {
	out := make(topicSet, len(s))
	for n, t := range s {
		if n != name {
			out[n] = t
		}
	}
	return out
}

// metadata returns the whole topics.json content for s.
func (s topicSet) metadata() metadataFile {
	m := metadataFile{Version: metadataVersion}
	for _, t := range s {
		m.Topics = append(m.Topics, t.metadata())
	}
	return m
}

// sortedNames returns the names of the topics, internal ones included if asked.
func (s topicSet) sortedNames(internal bool) []string {
	names := make([]string, 0, len(s))
	for name, t := range s {
		if internal || !t.internal {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, strings.Compare)
	return names
}

// partitionOptions returns the options of a partition of a topic with effective
// config c.
func (s *Store) partitionOptions(c TopicConfig, tp TopicPartition) *partition.Options {
	codec, _ := parseCompression(c.Compression) // validated
	retentionBytes, retentionAge := c.RetentionBytes, c.RetentionAge
	if retentionBytes == Unlimited || !c.deletes() {
		retentionBytes = 0
	}
	if retentionAge == Unlimited || !c.deletes() {
		retentionAge = 0
	}
	return &partition.Options{
		SegmentBytes:   c.SegmentBytes,
		SegmentAge:     c.SegmentAge,
		MaxBatchBytes:  c.MaxBatchBytes,
		Compression:    codec,
		Sync:           c.Sync.partitionPolicy(),
		RetentionBytes: retentionBytes,
		RetentionAge:   retentionAge,
		// Unlimited (-1) is a negative DeleteRetention: keep tombstones forever.
		Compact:                c.compacts(),
		DeleteRetention:        c.DeleteRetention,
		MinCleanableDirtyRatio: c.MinCleanableDirtyRatio,
		MinCompactionLag:       c.MinCompactionLag,
		Now:                    s.opts.Now,
		Logger:                 s.logger.With("topic", tp.Topic), // the partition adds its directory
		FS:                     s.fsys,
		Hooks:                  s.partitionHooks(tp),
	}
}

// partitionDir returns the directory of a partition.
func (s *Store) partitionDir(topic string, partition int) string {
	return filepath.Join(s.dir, partitionDirName(topic, partition))
}

// openPartitions opens (creating if missing) partitions [from, to) of a topic with
// effective config c. On error it closes what it opened.
func (s *Store) openPartitions(name string, c TopicConfig, from, to int) ([]*partition.Partition, error) {
	parts := make([]*partition.Partition, 0, to-from)
	for i := from; i < to; i++ {
		tp := TopicPartition{Topic: name, Partition: int32(i)}
		p, err := partition.Open(s.partitionDir(name, i), s.partitionOptions(c, tp))
		if err != nil {
			return nil, errors.Join(err, closeAll(parts))
		}
		if report := p.RecoveryReport(); !report.CleanShutdown && report.SegmentsRecovered > 0 {
			s.logger.Info("recovered partition", "topic", name, "partition", i,
				"segments-verified", report.SegmentsRecovered, "truncations", len(report.Truncated))
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// closeAll closes partitions and returns their errors.
func closeAll(parts []*partition.Partition) error {
	var err error
	for _, p := range parts {
		err = errors.Join(err, p.Close())
	}
	return err
}
