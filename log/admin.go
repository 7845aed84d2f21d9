package log

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/stratalog/strata/partition"
)

// CreateTopic creates a topic of config.Partitions partitions (default 1) with
// config; zero fields inherit the store's TopicDefaults. It returns once the topic
// is durable and its partitions are open.
//
// The name must pass ValidateTopicName and must not start with "__" (reserved for
// internal topics): ErrInvalidTopicName. An invalid config is a *ConfigError naming
// every invalid field (ErrInvalidConfig); a name in use is ErrTopicExists; a name
// that differs from a topic's only in case or in '.' and '_' is a
// *TopicCollisionError (ErrTopicCollision, also ErrInvalidTopicName). Nothing
// changes on error. As Kafka's kafka-topics does, a name holding '.' or '_' logs a
// warning that it could collide.
func (s *Store) CreateTopic(ctx context.Context, name string, config TopicConfig) error {
	if err := ValidateTopicName(name); err != nil {
		return errorf("strata/log: create topic: %w", err)
	}
	if isInternalTopic(name) {
		return errorf("strata/log: create topic %q: %w: the prefix %q is reserved for internal topics", name, ErrInvalidTopicName, internalTopicPrefix)
	}
	return s.createTopic(ctx, name, config, false)
}

// createTopic is CreateTopic, and the path by which the store creates its internal
// topics. See createPartitions for the order of its steps.
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
		return errorf("strata/log: create topic %q: %w", name, ErrTopicExists)
	}
	// An internal topic's name is strata's: a user topic that collides with it
	// (only in '.' and '_': no directory is shared) must not keep groups from working.
	if !internal {
		if err := set.collision(name); err != nil {
			return err
		}
	}
	effective := config.inherit(s.opts.TopicDefaults)
	if err := s.checkReplication(name, effective); err != nil {
		return err
	}
	own := config
	own.Partitions = 0
	t := &topic{name: name, id: newTopicID(), internal: internal, keyHash: newTopicKeyHash(internal), own: own, config: effective, incarnation: s.newIncarnation()}
	next := set.with(t) // t.partitions is filled below; metadata needs only the count
	if s.brokers != nil {
		replicas, err := s.createReplicatedPartitions(name, effective, 0, effective.Partitions, next)
		if err != nil {
			return errorf("strata/log: create topic %q: %w", name, err)
		}
		t.replicas, t.partitions, t.group = replicas, make([]*partition.Partition, len(replicas)), s.brokers
	} else {
		parts, err := s.createPartitions(name, effective, 0, effective.Partitions, set, next)
		if err != nil {
			return errorf("strata/log: create topic %q: %w", name, err)
		}
		t.partitions = parts
	}
	s.topics.Store(&next)
	s.logger.Info("created topic", "topic", name, "partitions", effective.Partitions)
	if !internal {
		warnIfMayCollide(s.logger, name)
	}
	s.topicsChanged()
	return nil
}

// createPartitions makes, lists and opens partitions [from, to) of the named topic
// with effective config c: set is the topics before, next after (listing them).
// Order, for crash consistency (the crash-point table is in partition_dirs.go):
//
//  1. refuse if a directory of a new partition's name exists (ErrPartitionDirExists),
//     remove what earlier changes of the name left marked, and rewrite
//     recovery-points.checkpoint if it still holds a line of a new partition's name;
//  2. make each directory under a "-create" mark, fsync the store's directory;
//  3. write topics.json from next (the commit point);
//  4. rename each directory to its name and open the partition.
//
// On error it undoes what it did, so that nothing changed (if an undo fails as
// well, the store settles at the next Open), and returns the error.
func (s *Store) createPartitions(name string, c TopicConfig, from, to int, set, next topicSet) ([]*partition.Partition, error) {
	for i := from; i < to; i++ {
		path := s.partitionDir(name, i)
		if _, err := s.fsys.Lstat(path); err == nil {
			return nil, fmt.Errorf("%s: %w: strata did not mark it as its own, so it stays; move it away first", path, ErrPartitionDirExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if err := s.removeMarksOf(name, from, to); err != nil {
		return nil, fmt.Errorf("remove leftovers of an earlier change: %w", err)
	}
	if err := s.forgetRecoveryPoints(name, from, to); err != nil {
		return nil, fmt.Errorf("forget the recovery points of an earlier partition of the name: %w", err)
	}
	id := newMarkID(name)
	var made []string
	undoMade := func(err error) error {
		for _, dir := range made {
			err = errors.Join(err, s.fsys.RemoveAll(filepath.Join(s.dir, dir)))
		}
		return errors.Join(err, s.fsys.SyncDir(s.dir))
	}
	for i := from; i < to; i++ {
		dir := markedDirName(name, i, id, createMark)
		if err := s.fsys.MkdirAll(filepath.Join(s.dir, dir), 0o755); err != nil {
			return nil, undoMade(err)
		}
		made = append(made, dir)
	}
	if err := s.fsys.SyncDir(s.dir); err != nil {
		return nil, undoMade(err)
	}
	if err := writeMetadata(s.fsys, s.dir, next.metadata()); err != nil {
		err = fmt.Errorf("write metadata: %w", err)
		if rollBackErr := s.rollBack(set); rollBackErr != nil {
			return nil, errors.Join(err, rollBackErr) // Open settles it, either way
		}
		return nil, undoMade(err)
	}
	m, err := s.scanMarks()
	if err != nil {
		return nil, errors.Join(err, s.undoCreate(name, from, to, id, set))
	}
	parts, openErrs := s.openPartitions(name, next[name].id, c, from, to, m)
	parts, err = openedOrNone(from, parts, openErrs)
	if err != nil {
		return nil, errors.Join(err, s.undoCreate(name, from, to, id, set))
	}
	return parts, nil
}

// undoCreate undoes a creation of partitions [from, to) after topics.json listed
// them: each directory moves back under a mark (a "-delete" one if it was renamed
// to its name already), topics.json lists set again, and the marked directories
// are removed. If a step fails, it stops there: what is on disk is then a state
// that Open settles.
func (s *Store) undoCreate(name string, from, to int, id string, set topicSet) error {
	for i := from; i < to; i++ {
		path := s.partitionDir(name, i)
		if info, err := s.fsys.Lstat(path); err != nil || !info.IsDir() {
			continue // never renamed: still under its "-create" mark
		}
		if err := s.fsys.Rename(path, filepath.Join(s.dir, markedDirName(name, i, id, deleteMark))); err != nil {
			return fmt.Errorf("undo: %w", err)
		}
	}
	if err := s.fsys.SyncDir(s.dir); err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	if err := s.rollBack(set); err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	if err := s.removeMarksOf(name, from, to); err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	return nil
}

// rollBack restores topics.json to set after a change failed past writing it.
func (s *Store) rollBack(set topicSet) error {
	if err := writeMetadata(s.fsys, s.dir, set.metadata()); err != nil {
		return fmt.Errorf("roll back metadata: %w", err)
	}
	return nil
}

// DeleteTopic deletes a topic and all its records. Producers and consumers using it
// get ErrUnknownTopic from then on. Internal topics cannot be deleted
// (ErrInvalidTopicName). A topic with offline partitions can be deleted.
//
// Order, for crash consistency: each partition is closed and its directory renamed
// under a "-delete" mark (the store's directory fsynced), then topics.json stops
// listing the topic (the commit point), then recovery-points.checkpoint is rewritten
// without its partitions, then the marked directories are removed. A crash before
// the commit point leaves the topic, whose directories the next Open renames back;
// after it, marked directories that Open removes (and recovery points of partitions
// topics.json does not list, which Open ignores). If a step before the commit point
// fails, the topic is restored and reopened.
func (s *Store) DeleteTopic(ctx context.Context, name string) error {
	return s.deleteTopic(ctx, func(topicSet) (string, error) { return name, nil })
}

// DeleteTopicByID is DeleteTopic of the topic whose ID is id (Kafka's
// DeleteTopics v6 by topic ID). The ID is looked up under the lock that
// deletes: a topic deleted and created again under the same name meanwhile has
// another ID, and is not deleted (ErrUnknownTopicID).
func (s *Store) DeleteTopicByID(ctx context.Context, id TopicID) error {
	return s.deleteTopic(ctx, func(set topicSet) (string, error) {
		for name, t := range set {
			if t.id == id && !id.IsZero() {
				return name, nil
			}
		}
		return "", errorf("strata/log: delete topic ID %s: %w", id, ErrUnknownTopicID)
	})
}

// deleteTopic deletes the topic that which names in the current topics, under
// adminMu.
func (s *Store) deleteTopic(ctx context.Context, which func(topicSet) (string, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	set, err := s.snapshot()
	if err != nil {
		return err
	}
	name, err := which(set)
	if err != nil {
		return err
	}
	return s.deleteTopicLocked(ctx, set, name)
}

// deleteTopicLocked is DeleteTopic of name in set, the current topics, for a
// caller holding adminMu.
func (s *Store) deleteTopicLocked(ctx context.Context, set topicSet, name string) error {
	t := set[name]
	switch {
	case t == nil:
		return errorf("strata/log: delete topic %q: %w", name, ErrUnknownTopic)
	case t.internal:
		return errorf("strata/log: delete topic %q: %w (%w): internal topics cannot be deleted", name, ErrInternalTopic, ErrInvalidTopicName)
	}
	if offsets := set[OffsetsTopic]; offsets != nil && offsets.offline != nil {
		// The deleted topic's committed offsets could not be deleted with it: a topic
		// made again under the name would resume from them.
		return errorf("strata/log: delete topic %q: its committed offsets cannot be deleted: %w", name, offsets.offline[0])
	}
	next := set.without(name)
	if s.brokers != nil {
		if err := s.deleteReplicatedTopic(t, next); err != nil {
			return errorf("strata/log: delete topic %q: not deleted: %w", name, err)
		}
		s.topics.Store(&next)
		s.logger.Info("deleted topic", "topic", name)
		s.topicsChanged()
		if c := s.currentCoordinator(); c != nil {
			if _, err := c.DeleteTopicOffsets(ctx, name); err != nil {
				s.logger.Warn("deleting a deleted topic's committed offsets failed", "topic", name, "err", err)
			}
		}
		return nil
	}
	s.topics.Store(&next) // producers and consumers stop finding it
	if err := closeAll(t.partitions); err != nil {
		s.logger.Warn("closing a deleted topic's partition failed", "topic", name, "err", err)
	}
	if err := s.markDeleted(name, len(t.partitions), set, next); err != nil {
		restored := s.reopenTopic(t)
		restoredSet := set.with(restored)
		s.topics.Store(&restoredSet)
		return errorf("strata/log: delete topic %q: not deleted: %w", name, err)
	}
	forgetErr := s.forgetRecoveryPoints(name, 0, len(t.partitions))
	s.logger.Info("deleted topic", "topic", name)
	s.topicsChanged()
	if c := s.currentCoordinator(); c != nil {
		if _, err := c.DeleteTopicOffsets(ctx, name); err != nil {
			s.logger.Warn("deleting a deleted topic's committed offsets failed", "topic", name, "err", err)
		}
	}
	if err := s.removeMarksOf(name, 0, len(t.partitions)); err != nil {
		return errorf("strata/log: delete topic %q: deleted, but removing its files failed (Open retries): %w", name, errors.Join(err, forgetErr))
	}
	if forgetErr != nil {
		return errorf("strata/log: delete topic %q: deleted, but its partitions' recovery points are still recorded (Open ignores them; CreateTopic of the name removes them first): %w", name, forgetErr)
	}
	return nil
}

// markDeleted renames the directories of partitions [0, n) of the named topic under
// a "-delete" mark, fsyncs the store's directory and writes topics.json from next:
// on success the deletion is committed. On error it restores topics.json from set and
// renames back what it renamed (what it cannot, the next Open renames back).
func (s *Store) markDeleted(name string, n int, set, next topicSet) error {
	id := newMarkID(name)
	var renamed []int
	undo := func(err error) error {
		for _, i := range renamed {
			err = errors.Join(err, s.fsys.Rename(filepath.Join(s.dir, markedDirName(name, i, id, deleteMark)), s.partitionDir(name, i)))
		}
		return errors.Join(err, s.fsys.SyncDir(s.dir))
	}
	for i := range n {
		path := s.partitionDir(name, i)
		info, err := s.fsys.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && !info.IsDir()) {
			continue // an offline partition: nothing of strata's to remove
		}
		if err == nil {
			err = s.fsys.Rename(path, filepath.Join(s.dir, markedDirName(name, i, id, deleteMark)))
		}
		if err != nil {
			return undo(err)
		}
		renamed = append(renamed, i)
	}
	if err := s.fsys.SyncDir(s.dir); err != nil {
		return undo(err)
	}
	if err := writeMetadata(s.fsys, s.dir, next.metadata()); err != nil {
		// topics.json may already be the new one (its rename done, the directory
		// fsync failed): put the old one back before the directories. If that fails
		// too, the marks stay, and the next Open settles by whichever file is there.
		if rollbackErr := s.rollBack(set); rollbackErr != nil {
			return fmt.Errorf("write metadata: %w", errors.Join(err, rollbackErr))
		}
		return undo(fmt.Errorf("write metadata: %w", err))
	}
	return nil
}

// reopenTopic reopens the partitions of t after a failed deletion closed them,
// settling their directories; those that fail are offline.
func (s *Store) reopenTopic(t *topic) *topic {
	out := *t
	out.offline = nil
	m, err := s.scanMarks()
	if err != nil {
		m = &marks{}
	}
	parts, errs := s.openPartitions(t.name, t.id, t.config, 0, len(t.partitions), m)
	out.partitions = parts
	reopened := &out
	for i, err := range errs {
		if err != nil {
			reopened = reopened.withPartition(i, nil, err)
			s.logger.Error("partition offline after a failed deletion", "partition", TopicPartition{Topic: t.name, Partition: int32(i)}.String(), "err", err)
		}
	}
	return reopened
}

// AddPartitions grows a topic to total partitions (Kafka's CreatePartitions). The
// new partitions start empty. total must exceed the current count and be at most
// MaxPartitions (ErrInvalidConfig); an internal topic is ErrInternalTopic. Keyed records may map to other partitions
// afterwards, as in Kafka.
//
// Order, for crash consistency: as CreateTopic's (see createPartitions). A
// directory of a new partition's name that strata did not mark is
// ErrPartitionDirExists.
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
		return errorf("strata/log: add partitions to %q: %w", name, ErrUnknownTopic)
	}
	if old.internal {
		return errorf("strata/log: add partitions to %q: %w", name, ErrInternalTopic)
	}
	current := len(old.partitions)
	if total <= current || total > MaxPartitions {
		return &ConfigError{What: strconv.Quote(name), Problems: []string{
			fmt.Sprintf("Partitions: %d: want more than the current %d and at most %d", total, current, MaxPartitions)}}
	}
	grown := *old
	grown.config.Partitions = total
	if s.brokers != nil {
		next := set.with(&grown)
		added, err := s.createReplicatedPartitions(name, grown.config, current, total, next)
		if err != nil {
			return errorf("strata/log: add partitions to %q: %w", name, err)
		}
		grown.replicas = append(slices.Clone(old.replicas), added...)
		grown.partitions = make([]*partition.Partition, total)
		s.topics.Store(&next)
		s.logger.Info("added partitions", "topic", name, "partitions", total)
		s.topicsChanged()
		return nil
	}
	grown.partitions = append(make([]*partition.Partition, 0, total), old.partitions...)
	if old.offline != nil {
		grown.offline = append(slices.Clone(old.offline), make([]*PartitionOfflineError, total-current)...)
	}
	next := set.with(&grown)
	added, err := s.createPartitions(name, grown.config, current, total, set, next)
	if err != nil {
		return errorf("strata/log: add partitions to %q: %w", name, err)
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
		return errorf("strata/log: delete records of %s: %w", tp, ErrInternalTopic)
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
