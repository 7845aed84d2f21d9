package log

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// ScrubReport says what Scrub found in a store's directory.
type ScrubReport struct {
	// Problems lists what is wrong with the store as a whole (topics.json).
	Problems []error
	// Partitions has one entry per partition that topics.json lists, by topic and
	// partition.
	Partitions []PartitionScrub
}

// PartitionScrub is what Scrub found in one partition.
type PartitionScrub struct {
	TopicPartition
	partition.ScrubReport
	// Err is set when the partition's directory cannot be scrubbed at all: missing,
	// a symlink (never followed), not a directory.
	Err error
	// Pending names the marked directory of a creation or deletion that a crash
	// interrupted, which the next Open finishes or undoes (the partition's directory
	// is under that name meanwhile): not damage.
	Pending string
	// Dir, in a store of several brokers, is the directory of the replica checked
	// (Verify checks every replica).
	Dir string
}

// Healthy reports whether Scrub found nothing wrong.
func (r ScrubReport) Healthy() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, p := range r.Partitions {
		if p.Err != nil || len(p.ScrubReport.Problems) > 0 {
			return false // a Pending change is not damage
		}
	}
	return true
}

// Scrub checks every file of the store in dir without changing anything, like a
// RAID scrub: topics.json and recovery-points.checkpoint and their checksums, and
// every batch of every segment of every partition it lists (bounds, CRC-32C, offsets
// that follow each other), and each partition's segments against its checkpoint and
// recorded recovery point, as Open would. Unlike Open, it recovers nothing, removes
// nothing and writes nothing (but the store's lock file, if it is missing), so it
// reports even damage that Open would answer by taking a partition offline (or, for
// a damaged recovery-points.checkpoint, by writing it anew). It takes the store's lock:
// ErrLocked while a Store has dir open (an open Store checks itself with
// Store.Verify). It returns an error only when the store cannot be scrubbed at all;
// what is wrong inside it is in the report.
func Scrub(dir string, opts *Options) (ScrubReport, error) {
	s, unlock, err := openOffline(dir, opts, "scrub")
	if err != nil {
		return ScrubReport{}, err
	}
	defer unlock()
	var report ScrubReport
	meta, found, err := readMetadata(s.fsys, s.dir)
	if err != nil {
		report.Problems = append(report.Problems, err)
		return report, nil
	}
	if !found {
		return report, nil
	}
	if err := s.loadRecoveryPoints(meta); err != nil {
		report.Problems = append(report.Problems, err) // Open ignores it and rewrites it
	}
	m, err := s.scanMarks()
	if err != nil {
		return report, err
	}
	for _, tm := range meta.Topics {
		config, err := s.diskTopicConfig(tm)
		for i := range tm.Partitions {
			tp := TopicPartition{Topic: tm.Name, Partition: int32(i)}
			ps := PartitionScrub{TopicPartition: tp, Err: err}
			if ps.Err == nil {
				ps.Err = s.checkPartitionDir(tp)
			}
			if d, claimErr := m.claim(tm.Name, i); errors.Is(ps.Err, ErrCorrupt) && claimErr == nil && d != nil {
				ps.Err, ps.Pending = nil, d.name // Open renames it into place
				report.Partitions = append(report.Partitions, ps)
				continue
			}
			if ps.Err == nil {
				ps.ScrubReport, ps.Err = partition.Scrub(s.partitionDir(tm.Name, i), s.partitionOptions(config, tp))
			}
			report.Partitions = append(report.Partitions, ps)
		}
	}
	return report, nil
}

// scrubOffline scrubs the directory of tp, offline, under adminMu, so that no
// repair or reopen changes it meanwhile.
func (s *Store) scrubOffline(tp TopicPartition, config TopicConfig) (partition.ScrubReport, error) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if set, err := s.snapshot(); err != nil {
		return partition.ScrubReport{}, err
	} else if t := set[tp.Topic]; t == nil || int(tp.Partition) >= len(t.partitions) || t.partitions[tp.Partition] != nil {
		return partition.ScrubReport{}, nil // deleted, or back online, meanwhile
	}
	if err := s.checkPartitionDir(tp); err != nil {
		return partition.ScrubReport{}, err
	}
	return partition.Scrub(s.partitionDir(tp.Topic, int(tp.Partition)), s.partitionOptions(config, tp))
}

// checkPartitionDir returns why tp's directory cannot be used: missing, a symlink,
// or not a directory.
func (s *Store) checkPartitionDir(tp TopicPartition) error {
	dir := s.partitionDir(tp.Topic, int(tp.Partition))
	info, err := s.fsys.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("partition directory %s missing: %w", dir, ErrCorrupt)
	case err != nil:
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: "open", Path: dir, Err: vfs.ErrSymlink}
	case !info.IsDir():
		return fmt.Errorf("partition directory %s is not a directory: %w", dir, ErrCorrupt)
	}
	return nil
}

// diskTopicConfig returns the effective configuration of a topic of topics.json.
func (s *Store) diskTopicConfig(tm topicMetadata) (TopicConfig, error) {
	own, err := tm.ownConfig()
	if err != nil {
		return TopicConfig{}, err
	}
	config := own.inherit(s.opts.TopicDefaults)
	config.Partitions = tm.Partitions
	return config, nil
}

// openOffline returns a Store that is not open, for reading and repairing dir's
// files under the store's lock, and the function that releases the lock.
func openOffline(dir string, opts *Options, op string) (*Store, func(), error) {
	if dir == "" {
		return nil, nil, errorf("strata/log: %s: empty directory name (use \".\" for the working directory): %w", op, ErrInvalidArgument)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	s := &Store{dir: filepath.Clean(dir), opts: o, fsys: o.FS, logger: o.Logger}
	if _, err := s.fsys.Stat(s.dir); err != nil {
		return nil, nil, errorf("strata/log: %s %s: %w", op, dir, err)
	}
	if brokers, err := loadBrokers(s.fsys, s.dir); err == nil && !brokers.legacy {
		return nil, nil, errorf("strata/log: %s %s: %w: a store of several brokers is checked open (Store.Verify checks every replica), and a damaged replica is rebuilt from its leader", op, dir, ErrSeveralBrokers)
	}
	lock, err := s.fsys.Lock(filepath.Join(s.dir, lockFileName))
	if errors.Is(err, vfs.ErrLocked) {
		return nil, nil, errorf("strata/log: %s %s: %w (%w)", op, dir, ErrLocked, err)
	}
	if err != nil {
		return nil, nil, errorf("strata/log: %s %s: lock: %w", op, dir, err)
	}
	return s, func() { lock.Close() }, nil
}

// Verify is Scrub for the open store: every batch of every online partition is read
// and checked (partition.Verify, concurrently with appends and reads), and every
// offline partition's directory is scrubbed (it is not open, and the store's lock
// keeps others out). It changes nothing. ctx bounds the work.
func (s *Store) Verify(ctx context.Context) (ScrubReport, error) {
	set, err := s.snapshot()
	if err != nil {
		return ScrubReport{}, err
	}
	var report ScrubReport
	for _, name := range slices.Sorted(maps.Keys(set)) {
		t := set[name]
		if t.replicas != nil {
			for i := range t.replicas {
				tp := TopicPartition{Topic: name, Partition: int32(i)}
				for _, p := range t.logs(i) {
					ps := PartitionScrub{TopicPartition: tp, Dir: p.Dir()}
					if err := p.Verify(ctx); err != nil {
						if ctx.Err() != nil {
							return report, ctx.Err()
						}
						ps.ScrubReport.Problems = []error{err}
					}
					report.Partitions = append(report.Partitions, ps)
				}
			}
			continue
		}
		for i, p := range t.partitions {
			tp := TopicPartition{Topic: name, Partition: int32(i)}
			ps := PartitionScrub{TopicPartition: tp}
			if p != nil {
				if err := p.Verify(ctx); err != nil {
					if ctx.Err() != nil {
						return report, ctx.Err()
					}
					ps.ScrubReport.Problems = []error{err}
				}
			} else {
				ps.ScrubReport, ps.Err = s.scrubOffline(tp, t.config)
			}
			report.Partitions = append(report.Partitions, ps)
		}
	}
	return report, nil
}
