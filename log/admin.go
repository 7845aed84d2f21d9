package log

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/stratalog/strata/partition"
)

// CreateTopic creates a topic of config.Partitions partitions (default 1) with
// config; zero fields inherit the store's TopicDefaults. It returns once the topic
// is durable and its partitions are open.
//
// The name must pass ValidateTopicName and must not start with "__" (reserved for
// internal topics): ErrInvalidTopicName. An invalid config is a *ConfigError naming
// every invalid field (ErrInvalidConfig); a name in use is ErrTopicExists. Nothing
// changes on error.
func (s *Store) CreateTopic(ctx context.Context, name string, config TopicConfig) error {
	if err := ValidateTopicName(name); err != nil {
		return fmt.Errorf("strata/log: create topic: %w", err)
	}
	if isInternalTopic(name) {
		return fmt.Errorf("strata/log: create topic %q: %w: the prefix %q is reserved for internal topics", name, ErrInvalidTopicName, internalTopicPrefix)
	}
	return s.createTopic(ctx, name, config, false)
}

// createTopic is CreateTopic, and the path by which the store creates its internal
// topics.
//
// Order, for crash consistency: stale directories of the name are removed, then
// topics.json lists the topic, then the partition directories are created. A crash
// before topics.json changes leaves no topic (Open removes any directory made); a
// crash after it leaves the topic, and Open creates the missing directories.
func (s *Store) createTopic(ctx context.Context, name string, config TopicConfig, internal bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkConfig(strconv.Quote(name), config.problems("")); err != nil {
		return err
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	set, err := s.snapshot()
	if err != nil {
		return err
	}
	if set[name] != nil {
		return fmt.Errorf("strata/log: create topic %q: %w", name, ErrTopicExists)
	}
	effective := config.inherit(s.opts.TopicDefaults)
	own := config
	own.Partitions = 0
	if err := s.removeStale(name, 0, effective.Partitions); err != nil {
		return fmt.Errorf("strata/log: create topic %q: %w", name, err)
	}
	t := &topic{name: name, internal: internal, own: own, config: effective}
	next := set.with(t) // t.partitions is filled below; metadata needs only the count
	if err := writeMetadata(s.fsys, s.dir, next.metadata()); err != nil {
		return fmt.Errorf("strata/log: create topic %q: write metadata: %w", name, err)
	}
	parts, err := s.openPartitions(name, effective, 0, effective.Partitions)
	if err != nil {
		return fmt.Errorf("strata/log: create topic %q: %w", name, errors.Join(err, s.rollBack(set)))
	}
	t.partitions = parts
	s.topics.Store(&next)
	s.logger.Info("created topic", "topic", name, "partitions", effective.Partitions)
	s.topicsChanged()
	return nil
}

// rollBack restores topics.json to set after a change failed past writing it. If the
// rollback fails too, the change takes effect at the next Open, which creates the
// missing partition directories: a consistent store either way.
func (s *Store) rollBack(set topicSet) error {
	if err := writeMetadata(s.fsys, s.dir, set.metadata()); err != nil {
		return fmt.Errorf("roll back metadata: %w", err)
	}
	return nil
}

// removeStale removes directories of partitions [from, to) of the named topic: a
// DeleteTopic that failed after updating topics.json may have left them, and a new
// partition must start empty. Finding one is worth a warning.
func (s *Store) removeStale(name string, from, to int) error {
	return s.removePartitionDirs(name, from, to, true)
}

// removePartitionDirs removes the directories of partitions [from, to) of the named
// topic that exist, logging each at Warn if stale, else at Debug.
func (s *Store) removePartitionDirs(name string, from, to int, stale bool) error {
	removed := false
	for i := from; i < to; i++ {
		dir := s.partitionDir(name, i)
		if _, err := s.fsys.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if stale {
			s.logger.Warn("removing stale partition directory", "path", dir)
		} else {
			s.logger.Debug("removing partition directory", "path", dir)
		}
		if err := s.fsys.RemoveAll(dir); err != nil {
			return err
		}
		removed = true
	}
	if removed {
		return s.fsys.SyncDir(s.dir)
	}
	return nil
}

// DeleteTopic deletes a topic and all its records. Producers and consumers using it
// get ErrUnknownTopic from then on. Internal topics cannot be deleted
// (ErrInvalidTopicName).
//
// Order, for crash consistency: topics.json stops listing the topic (from then on
// it is deleted), then its partitions are closed and their directories removed. A
// crash in between leaves directories that the next Open removes.
func (s *Store) DeleteTopic(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	set, err := s.snapshot()
	if err != nil {
		return err
	}
	t := set[name]
	switch {
	case t == nil:
		return fmt.Errorf("strata/log: delete topic %q: %w", name, ErrUnknownTopic)
	case t.internal:
		return fmt.Errorf("strata/log: delete topic %q: %w: internal topics cannot be deleted", name, ErrInvalidTopicName)
	}
	next := set.without(name)
	if err := writeMetadata(s.fsys, s.dir, next.metadata()); err != nil {
		return fmt.Errorf("strata/log: delete topic %q: write metadata: %w", name, err)
	}
	s.topics.Store(&next)
	s.logger.Info("deleted topic", "topic", name)
	s.topicsChanged()
	if c := s.currentCoordinator(); c != nil {
		if _, err := c.DeleteTopicOffsets(ctx, name); err != nil {
			s.logger.Warn("deleting a deleted topic's committed offsets failed", "topic", name, "err", err)
		}
	}
	if err := closeAll(t.partitions); err != nil {
		s.logger.Warn("closing a deleted topic's partition failed", "topic", name, "err", err)
	}
	if err := s.removePartitionDirs(name, 0, len(t.partitions), false); err != nil {
		return fmt.Errorf("strata/log: delete topic %q: deleted, but removing its files failed (Open retries): %w", name, err)
	}
	return nil
}

// AddPartitions grows a topic to total partitions (Kafka's CreatePartitions). The
// new partitions start empty. total must exceed the current count and be at most
// MaxPartitions (ErrInvalidConfig); an internal topic is ErrInternalTopic. Keyed records may map to other partitions
// afterwards, as in Kafka.
//
// Order, for crash consistency: as CreateTopic's, topics.json first, then the new
// directories.
func (s *Store) AddPartitions(ctx context.Context, name string, total int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	set, err := s.snapshot()
	if err != nil {
		return err
	}
	old := set[name]
	if old == nil {
		return fmt.Errorf("strata/log: add partitions to %q: %w", name, ErrUnknownTopic)
	}
	if old.internal {
		return fmt.Errorf("strata/log: add partitions to %q: %w", name, ErrInternalTopic)
	}
	current := len(old.partitions)
	if total <= current || total > MaxPartitions {
		return &ConfigError{What: strconv.Quote(name), Problems: []string{
			fmt.Sprintf("Partitions: %d: want more than the current %d and at most %d", total, current, MaxPartitions)}}
	}
	if err := s.removeStale(name, current, total); err != nil {
		return fmt.Errorf("strata/log: add partitions to %q: %w", name, err)
	}
	grown := *old
	grown.config.Partitions = total
	grown.partitions = append(make([]*partition.Partition, 0, total), old.partitions...)
	next := set.with(&grown)
	if err := writeMetadata(s.fsys, s.dir, next.metadata()); err != nil {
		return fmt.Errorf("strata/log: add partitions to %q: write metadata: %w", name, err)
	}
	added, err := s.openPartitions(name, grown.config, current, total)
	if err != nil {
		return fmt.Errorf("strata/log: add partitions to %q: %w", name, errors.Join(err, s.rollBack(set)))
	}
	grown.partitions = append(grown.partitions, added...)
	s.topics.Store(&next)
	s.logger.Info("added partitions", "topic", name, "partitions", total)
	s.topicsChanged()
	return nil
}

// ListTopics returns the names of the topics, sorted, internal topics excepted.
func (s *Store) ListTopics() ([]string, error) {
	set, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	return set.sortedNames(false), nil
}

// TopicDescription describes a topic: its effective configuration and its
// partitions.
type TopicDescription struct {
	Name string
	// Internal is true for the store's own topics (names starting with "__").
	Internal bool
	// Config is the effective configuration: the topic's own settings over the
	// store's defaults over the built-in defaults; Partitions is the current count.
	Config TopicConfig
	// Partitions describes each partition, in partition order.
	Partitions []PartitionInfo
}

// PartitionInfo describes one partition of a topic.
type PartitionInfo struct {
	Partition   int32
	StartOffset int64 // lowest readable offset
	EndOffset   int64 // offset the next record will get
	Bytes       int64 // bytes in its segment files
	Segments    int   // number of segments
}

// DescribeTopic describes the named topic (ErrUnknownTopic if there is none).
func (s *Store) DescribeTopic(name string) (TopicDescription, error) {
	t, err := s.lookupTopic(name)
	if err != nil {
		return TopicDescription{}, err
	}
	d := TopicDescription{Name: name, Internal: t.internal, Config: t.config, Partitions: make([]PartitionInfo, len(t.partitions))}
	for i, p := range t.partitions {
		st := p.Stats()
		d.Partitions[i] = PartitionInfo{Partition: int32(i), StartOffset: st.StartOffset, EndOffset: st.EndOffset, Bytes: st.Bytes, Segments: st.Segments}
	}
	return d, nil
}

// DeleteRecords makes offset the start offset of the partition (Kafka's
// DeleteRecords): records below it can no longer be read, whole segments below it
// are deleted, and the new start offset survives restart. An offset at or below the
// start offset changes nothing; one above the end offset is ErrOffsetOutOfRange. An
// internal topic is ErrInternalTopic.
func (s *Store) DeleteRecords(ctx context.Context, tp TopicPartition, offset int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := s.lookupTopic(tp.Topic)
	if err != nil {
		return err
	}
	if t.internal {
		return fmt.Errorf("strata/log: delete records of %s: %w", tp, ErrInternalTopic)
	}
	p, err := s.lookupPartition(tp)
	if err != nil {
		return err
	}
	if err := p.DeleteRecordsBefore(offset); err != nil {
		return s.partitionError("delete records of", tp, p, err)
	}
	return nil
}
