package log

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalog/strata/partition"
)

// Repair repairs one partition of the store in dir, which no Store may have open:
// see partition.Repair, which it runs with the partition's topic configuration and
// its recorded recovery point (recovery-points.checkpoint). It is
// the explicit repair of a partition that Open took offline; an open Store repairs
// its partitions with Store.RepairPartition.
func Repair(dir string, tp TopicPartition, opts *Options, repair *partition.RepairOptions) (partition.RepairReport, error) {
	s, unlock, err := openOffline(dir, opts, "repair")
	if err != nil {
		return partition.RepairReport{}, err
	}
	defer unlock()
	meta, _, err := readMetadata(s.fsys, s.dir)
	if err != nil {
		return partition.RepairReport{}, errorf("strata/log: repair %s: %w", tp, err)
	}
	if err := s.loadRecoveryPoints(meta); err != nil {
		s.logger.Error("recovery points unreadable: the repair covers offsets up to the partition's own recovery point only", "err", err)
	}
	for _, tm := range meta.Topics {
		if tm.Name != tp.Topic {
			continue
		}
		if tp.Partition < 0 || int(tp.Partition) >= tm.Partitions {
			return partition.RepairReport{}, errorf("strata/log: repair %s: topic has %d partitions: %w", tp, tm.Partitions, ErrUnknownPartition)
		}
		config, err := s.diskTopicConfig(tm)
		if err != nil {
			return partition.RepairReport{}, errorf("strata/log: repair %s: %w", tp, err)
		}
		return s.repairPartition(tp, config, repair)
	}
	return partition.RepairReport{}, errorf("strata/log: repair %s: %w", tp, ErrUnknownTopic)
}

// repairPartition runs partition.Repair on tp's directory, which must be a real
// directory (never a symlink's target). A directory under the mark of an
// interrupted creation or deletion is not damage: the next Open settles it.
func (s *Store) repairPartition(tp TopicPartition, config TopicConfig, repair *partition.RepairOptions) (partition.RepairReport, error) {
	if err := s.checkPartitionDir(tp); err != nil {
		if m, scanErr := s.scanMarks(); scanErr == nil && errors.Is(err, ErrCorrupt) {
			if d, claimErr := m.claim(tp.Topic, int(tp.Partition)); claimErr == nil && d != nil {
				s.logger.Info("nothing to repair: opening the store finishes an interrupted topic change", "partition", tp.String(), "dir", d.name)
				return partition.RepairReport{}, nil
			}
		}
		return partition.RepairReport{}, errorf("strata/log: repair %s: %w", tp, err)
	}
	report, err := partition.Repair(s.partitionDir(tp.Topic, int(tp.Partition)), s.partitionOptions(config, tp), repair)
	if err != nil {
		return report, errorf("strata/log: repair %s: %w", tp, err)
	}
	s.logger.Warn("repaired partition", "partition", tp.String(),
		"problems", len(report.Problems), "lost", fmt.Sprint(report.Lost), "kept-in", report.KeepDir)
	return report, nil
}

// RepairPartition repairs a partition of the open store, explicitly (Open never
// repairs): the partition is closed (an online one goes offline while it is
// repaired, and its readers and writers get ErrPartitionOffline meanwhile), repaired
// as partition.Repair says (copies of everything removed are kept, the offsets given
// up are reported), and opened again. A partition that still does not open stays
// offline, with the error returned. An online partition that reads whole is left
// alone, unless it failed closed (a failed fsync or write, after which it refuses
// appends): it is then recovered from its files as after a crash, which keeps or
// cuts the records whose outcome was unknown, and takes appends again.
func (s *Store) RepairPartition(ctx context.Context, tp TopicPartition, repair *partition.RepairOptions) (partition.RepairReport, error) {
	if err := ctx.Err(); err != nil {
		return partition.RepairReport{}, err
	}
	if s.brokers != nil {
		return partition.RepairReport{}, severalBrokersError("repair", tp)
	}
	report, reopened, err := s.repairOpenPartition(ctx, tp, repair)
	if reopened {
		s.partitionBackOnline(tp)
	} else if offline, ok := errors.AsType[*PartitionOfflineError](s.offlineCause(tp)); ok {
		s.partitionWentOffline(tp, offline) // the repair failed: it stays offline
	}
	return report, err
}

// offlineCause returns tp's *PartitionOfflineError if it is offline, else nil.
func (s *Store) offlineCause(tp TopicPartition) error {
	_, err := s.lookupPartition(tp)
	if _, ok := errors.AsType[*PartitionOfflineError](err); ok {
		return err
	}
	return nil
}

// repairOpenPartition is RepairPartition under adminMu, so that no topic change or
// reopen runs while the files change.
func (s *Store) repairOpenPartition(ctx context.Context, tp TopicPartition, repair *partition.RepairOptions) (partition.RepairReport, bool, error) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	set, err := s.snapshot()
	if err != nil {
		return partition.RepairReport{}, false, err
	}
	t := set[tp.Topic]
	if t == nil {
		return partition.RepairReport{}, false, errorf("strata/log: repair %s: %w", tp, ErrUnknownTopic)
	}
	if tp.Partition < 0 || int(tp.Partition) >= len(t.partitions) {
		return partition.RepairReport{}, false, errorf("strata/log: repair %s: topic has %d partitions: %w", tp, len(t.partitions), ErrUnknownPartition)
	}
	if p := t.partitions[tp.Partition]; p != nil {
		// An online partition that reads whole and has not failed is left alone
		// (its readers and writers undisturbed): Open checked its segments,
		// Verify its every batch. One that failed closed (an fsync or a write
		// failed: what it holds past its last fsync is unknown) is closed,
		// recovered from its files as after a crash, and opened again.
		verifyErr := p.Verify(ctx)
		if ctx.Err() != nil {
			return partition.RepairReport{}, false, ctx.Err()
		}
		if failed := p.Err(); verifyErr == nil && failed != nil {
			verifyErr = failed
		}
		if verifyErr == nil {
			return partition.RepairReport{StartOffset: p.StartOffset(), EndOffset: p.EndOffset()}, false, nil
		}
		if t.internal {
			// The group coordinator holds it and an in-memory state replayed from
			// it: it is repaired with the store closed.
			return partition.RepairReport{}, false, errorf("strata/log: repair %s: an internal topic's partition is repaired with the store closed (log.Repair, strata repair): %w", tp, verifyErr)
		}
		s.takeOfflineLocked(tp, p, verifyErr)
	}
	report, err := s.repairPartition(tp, t.config, repair)
	if err != nil {
		return report, false, err
	}
	reopened, err := s.reopenPartitionLocked(tp)
	return report, reopened, err
}
