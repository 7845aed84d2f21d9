package log

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
)

// topic is one topic as the store serves it. A topic value never changes once
// published in a topicSet: AddPartitions publishes a new one sharing the partitions.
type topic struct {
	name     string
	internal bool
	// id is the topic's ID (TopicID), given at its creation and kept in
	// topics.json: copies of the topic keep it, a topic made again under the name
	// gets a new one.
	id TopicID
	// keyHash is how the default partitioner maps the topic's keys to partitions.
	keyHash keyHash
	// incarnation tells this topic from another of the same name (deleted and made
	// again): copies of a topic (a partition taken offline or reopened, partitions
	// added) keep it.
	incarnation uint64
	// own holds the topic's own settings (zero: inherit), Partitions cleared; it is
	// what topics.json keeps.
	own TopicConfig
	// config is the effective configuration; config.Partitions == len(partitions).
	config TopicConfig
	// partitions holds every partition; an offline one is nil, and offline holds
	// why (offline is nil when every partition is online, else as long as
	// partitions).
	partitions []*partition.Partition
	offline    []*PartitionOfflineError
	// replicas, in a store of several brokers, holds every partition's replicas
	// (partitions then holds only nils, and offline stays nil): readers and
	// writers reach each through its current leader.
	replicas []*replica.Partition
	// group is the store's replica layer, with replicas.
	group *brokerGroup
}

// partitionAt returns partition i (in a store of several brokers, its leader's
// log), or the error of an offline one. i must be in range.
func (t *topic) partitionAt(i int32) (*partition.Partition, error) {
	if t.replicas != nil {
		tp := TopicPartition{Topic: t.name, Partition: i}
		p, err := leaderLog(tp, t.replicas[i])
		if err != nil && t.group.deleted(t.replicas[i]) {
			return nil, topicDeletedError(tp)
		}
		return p, err
	}
	if p := t.partitions[i]; p != nil {
		return p, nil
	}
	return nil, t.offline[i]
}

// at returns partition i as readers reach it (in a store of several brokers, its
// leader's log) or, if it is offline (there: without a leader), why.
func (t *topic) at(i int) (*partition.Partition, *PartitionOfflineError) {
	p, err := t.partitionAt(int32(i))
	if err != nil {
		return nil, offlineError(TopicPartition{Topic: t.name, Partition: int32(i)}, err)
	}
	return p, nil
}

// logs returns the logs of partition i that the store keeps: its one partition (none
// if it is offline), or in a store of several brokers every open replica's, the
// followers' included: each replica applies retention, compaction and fsyncs on its
// own, as Kafka's do.
func (t *topic) logs(i int) []*partition.Partition {
	if t.replicas == nil {
		if p := t.partitions[i]; p != nil {
			return []*partition.Partition{p}
		}
		return nil
	}
	var out []*partition.Partition
	for _, r := range t.replicas[i].Replicas() {
		out = append(out, r.Log())
	}
	return out
}

// metadata returns the topic's entry in topics.json.
func (t *topic) metadata() topicMetadata {
	return newTopicMetadata(t.name, t.id, t.config.Partitions, t.internal, t.keyHash, t.own)
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
	o := &partition.Options{
		SegmentBytes:   c.SegmentBytes,
		SegmentAge:     c.SegmentAge,
		MaxBatchBytes:  c.MaxBatchBytes,
		Compression:    codec,
		Sync:           c.Sync, // resolved: not SyncDefault
		RetentionBytes: retentionBytes,
		RetentionAge:   retentionAge,
		// Unlimited (-1) is a negative DeleteRetention: keep tombstones forever.
		Compact:                c.compacts(),
		DeleteRetention:        c.DeleteRetention,
		MinCleanableDirtyRatio: c.MinCleanableDirtyRatio,
		MinCompactionLag:       c.MinCompactionLag,
		Now:                    s.opts.Now,
		Logger:                 s.logger, // the partition adds its name ("partition") and directory
		FS:                     s.fsys,
		Hooks:                  s.partitionHooks(tp),
	}
	o.RecoveryPoint, o.RecoveryPointSegment = s.recoveryPointHint(tp)
	return o
}

// partitionDir returns the directory of a partition.
func (s *Store) partitionDir(topic string, partition int) string {
	return filepath.Join(s.dir, partitionDirName(topic, partition))
}

// openPartitions opens partitions [from, to) of a topic with effective config c,
// settling their directories first (see settleDir). It never fails as a whole:
// parts[i] is nil for a partition that could not be opened, and errs[i] says why.
func (s *Store) openPartitions(name string, id TopicID, c TopicConfig, from, to int, m *marks) (parts []*partition.Partition, errs []error) {
	parts = make([]*partition.Partition, to-from)
	errs = make([]error, to-from)
	// Open (and recover) partitions on a few goroutines: a clean open reads a
	// directory and a few headers, a recovery verifies segments; both wait on the disk.
	next := atomic.Int64{}
	next.Store(int64(from))
	var wg sync.WaitGroup
	for range min(openWorkers, to-from) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				tp := TopicPartition{Topic: name, Partition: int32(i)}
				parts[i-from], errs[i-from] = s.openPartition(tp, id, c, m)
			}
		})
	}
	wg.Wait()
	for i, p := range parts {
		if p == nil {
			continue
		}
		if report := p.RecoveryReport(); !report.CleanShutdown && report.SegmentsRecovered > 0 {
			s.logger.Info("recovered partition", "partition", TopicPartition{Topic: name, Partition: int32(from + i)}.String(),
				"segments-verified", report.SegmentsRecovered, "truncations", len(report.Truncated))
		}
	}
	return parts, errs
}

// openPartition settles the directory of tp (see settleDir), checks that its
// partition.metadata names id, the topic's ID (writing it if there is none: see
// checkPartitionMetadata), and opens it. The directory must exist: a listed
// partition is never silently made again, empty.
func (s *Store) openPartition(tp TopicPartition, id TopicID, c TopicConfig, m *marks) (*partition.Partition, error) {
	if err := s.settleDir(tp.Topic, int(tp.Partition), m); err != nil {
		return nil, err
	}
	dir := s.partitionDir(tp.Topic, int(tp.Partition))
	if err := checkPartitionMetadata(s.fsys, dir, id); err != nil {
		return nil, err
	}
	return partition.Open(dir, s.partitionOptions(c, tp))
}

// openedOrNone returns what openPartitions(..., from, ...) returned if every
// partition opened; otherwise it closes the opened ones and returns the errors
// joined, each naming its partition.
func openedOrNone(from int, parts []*partition.Partition, errs []error) ([]*partition.Partition, error) {
	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Errorf("partition %d: %w", from+i, err))
		}
	}
	if failed == nil {
		return parts, nil
	}
	return nil, errors.Join(append(failed, closeAll(parts))...)
}

// openWorkers is how many partitions of a topic open at once.
const openWorkers = 8

// closeAll closes partitions, a few at a time (each fsyncs what it holds), and
// returns their errors; nil entries (offline partitions) are skipped.
func closeAll(parts []*partition.Partition) error {
	errs := make([]error, len(parts))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(openWorkers, len(parts)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(parts) {
					return
				}
				if parts[i] != nil { // nil: offline
					errs[i] = parts[i].Close()
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
