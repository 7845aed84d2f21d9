package log

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/stratalog/strata/partition"
)

// PartitionOfflineError is the error of a call on an offline partition, and what
// Store.OfflinePartitions lists: the partition and why it is offline. It matches
// ErrPartitionOffline and its cause (ErrCorrupt for a corrupt partition, or a
// missing directory, vfs.ErrSymlink for a directory that is a symlink, ...).
type PartitionOfflineError struct {
	TopicPartition
	// Err is why Open could not open the partition.
	Err error
}

// Error names the partition and the cause.
func (e *PartitionOfflineError) Error() string {
	return fmt.Sprintf("strata/log: partition %s is offline: %v", e.TopicPartition, e.Err)
}

// Unwrap makes errors.Is match ErrPartitionOffline and the cause.
func (e *PartitionOfflineError) Unwrap() []error { return []error{ErrPartitionOffline, e.Err} }

// OfflinePartitions returns the partitions that are offline, sorted by topic and
// partition, each with why (nil after Close, or if every partition is online).
//
// A partition is offline when Open could not open it: its files are corrupt, its
// directory is missing or is a symlink, or an I/O error stopped it. Open still
// succeeds, logging each offline partition at Error: the rest of the store serves
// normally, as Kafka takes only a damaged log directory offline. Every call that
// needs an offline partition (producing to it, assigning, polling or seeking it,
// committing an offset for it, DeleteRecords, compaction) fails with a
// *PartitionOfflineError; describing and listing show it. If OffsetsTopic is
// offline, the consumer-group calls fail with it and plain topics keep working.
// Once the partition is repaired, ReopenPartition brings it online without a
// restart; DeleteTopic deletes a topic with offline partitions.
func (s *Store) OfflinePartitions() []*PartitionOfflineError {
	set, err := s.snapshot()
	if err != nil {
		return nil
	}
	var out []*PartitionOfflineError
	for _, t := range set {
		for _, err := range t.offline {
			if err != nil {
				out = append(out, err)
			}
		}
		for i := range t.replicas {
			if _, offline := t.at(i); offline != nil {
				out = append(out, offline)
			}
		}
	}
	slices.SortFunc(out, func(a, b *PartitionOfflineError) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}

// ReopenPartition opens an offline partition again, after its files were repaired
// or restored: on success it is online and served from then on. Files restored
// from a backup older than what the partition had fsynced (its recovery point, also
// kept in the store's recovery-points.checkpoint) stay offline: the records since
// are missing, and only RepairPartition, which reports them as lost, brings it
// back. A partition that
// is online is left alone (nil); one that still fails stays offline, with the new
// cause, which ReopenPartition returns. Unknown topics and partitions are
// ErrUnknownTopic and ErrUnknownPartition.
//
// A GroupConsumer that owns the partition starts reading it, from its group's
// committed offset.
func (s *Store) ReopenPartition(ctx context.Context, tp TopicPartition) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.brokers != nil {
		return severalBrokersError("reopen", tp)
	}
	reopened, err := s.reopenPartition(tp)
	if err != nil || !reopened {
		return err
	}
	s.partitionBackOnline(tp)
	return nil
}

// partitionBackOnline tells the group consumers that tp is online again, and starts
// the group coordinator if tp is the offsets topic's partition it could not start on.
// The caller holds no lock (coordinatorFor takes groupsMu, before adminMu).
func (s *Store) partitionBackOnline(tp TopicPartition) {
	s.logger.Info("partition back online", "partition", tp.String())
	if tp.Topic == OffsetsTopic {
		if _, err := s.coordinatorFor(false); err != nil {
			s.logger.Error("starting the group coordinator", "err", err)
		}
	}
	for _, g := range s.groupConsumers() {
		g.partitionOnline(tp)
	}
}

// reopenPartition is ReopenPartition under adminMu; reopened is false if tp was
// online already.
func (s *Store) reopenPartition(tp TopicPartition) (reopened bool, err error) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	return s.reopenPartitionLocked(tp)
}

// reopenPartitionLocked is reopenPartition; the caller holds adminMu.
func (s *Store) reopenPartitionLocked(tp TopicPartition) (reopened bool, err error) {
	set, err := s.snapshot()
	if err != nil {
		return false, err
	}
	t := set[tp.Topic]
	if t == nil {
		return false, errorf("strata/log: reopen %s: %w", tp, ErrUnknownTopic)
	}
	if tp.Partition < 0 || int(tp.Partition) >= len(t.partitions) {
		return false, errorf("strata/log: reopen %s: topic has %d partitions: %w", tp, len(t.partitions), ErrUnknownPartition)
	}
	if t.partitions[tp.Partition] != nil {
		return false, nil
	}
	m, err := s.scanMarks()
	if err != nil {
		return false, errorf("strata/log: reopen %s: %w", tp, err)
	}
	p, openErr := s.openPartition(tp, t.id, t.config, m)
	next := set.with(t.withPartition(int(tp.Partition), p, openErr))
	s.topics.Store(&next)
	if openErr != nil {
		return false, next[tp.Topic].offline[tp.Partition]
	}
	return true, nil
}

// withPartition returns a copy of t whose partition i is p, or offline with err.
func (t *topic) withPartition(i int, p *partition.Partition, err error) *topic {
	out := *t
	out.partitions = slices.Clone(t.partitions)
	out.partitions[i] = p
	out.offline = slices.Clone(t.offline)
	if out.offline == nil {
		out.offline = make([]*PartitionOfflineError, len(t.partitions))
	}
	out.offline[i] = nil
	if err != nil {
		out.partitions[i] = nil
		out.offline[i] = offlineError(TopicPartition{Topic: t.name, Partition: int32(i)}, err)
	}
	if !slices.ContainsFunc(out.offline, func(e *PartitionOfflineError) bool { return e != nil }) {
		out.offline = nil
	}
	return &out
}

// offlineError returns err as the *PartitionOfflineError of tp (err itself if it
// already is one).
func offlineError(tp TopicPartition, err error) *PartitionOfflineError {
	if offline, ok := errors.AsType[*PartitionOfflineError](err); ok {
		return offline
	}
	return &PartitionOfflineError{TopicPartition: tp, Err: err}
}

// takeOffline makes tp offline with err and closes p, the partition it was: what
// the store does when a partition that opened turns out to be unusable (the offsets
// topic whose log does not replay).
func (s *Store) takeOffline(tp TopicPartition, p *partition.Partition, err error) *PartitionOfflineError {
	s.adminMu.Lock()
	offline := s.takeOfflineLocked(tp, p, err)
	s.adminMu.Unlock()
	s.partitionWentOffline(tp, offline)
	return offline
}

// groupConsumers returns the store's open group consumers, to notify without
// holding mu.
func (s *Store) groupConsumers() []*GroupConsumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := make([]*GroupConsumer, 0, len(s.mu.groups))
	for g := range s.mu.groups {
		groups = append(groups, g)
	}
	return groups
}

// partitionWentOffline tells the group consumers that tp went offline with err.
// The caller holds no lock.
func (s *Store) partitionWentOffline(tp TopicPartition, err error) {
	for _, g := range s.groupConsumers() {
		g.partitionOffline(tp, err)
	}
}

// takeOfflineLocked is takeOffline; the caller holds adminMu.
func (s *Store) takeOfflineLocked(tp TopicPartition, p *partition.Partition, err error) *PartitionOfflineError {
	s.logger.Error("partition offline", "partition", tp.String(), "err", err)
	set, snapErr := s.snapshot()
	t := set[tp.Topic]
	if snapErr != nil || t == nil || int(tp.Partition) >= len(t.partitions) || t.partitions[tp.Partition] != p {
		return offlineError(tp, err)
	}
	next := set.with(t.withPartition(int(tp.Partition), nil, err))
	s.topics.Store(&next)
	s.retired.Store(p, struct{}{})
	if closeErr := p.Close(); closeErr != nil {
		s.logger.Warn("closing an offline partition failed", "partition", tp.String(), "err", closeErr)
	}
	var point recordedPoint
	point.offset, point.mark, point.marked = p.DurablePoint()
	s.rememberRecoveryPoint(tp, point)
	return next[tp.Topic].offline[tp.Partition]
}
