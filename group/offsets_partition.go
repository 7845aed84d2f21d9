package group

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
)

// PartitionOffsetStore is an OffsetStore kept in a partition used as Kafka's
// __consumer_offsets log: every Write appends one batch of records keyed by (group,
// topic, partition) for offsets and by group for group records, a nil value (a
// tombstone) for a deletion; the batch is acknowledged under the partition's sync
// policy (by default once fsynced). Open replays the partition to rebuild the
// in-memory table: the latest record of each key wins, a tombstone removes it. The
// log only grows; turning on the partition's compaction (partition.Options.Compact)
// bounds it without any change here, because the latest record of each key and its
// tombstones are all replay needs.
type PartitionOffsetStore struct {
	p     *partition.Partition
	owned bool // Close closes p
	// append writes a batch: p.Append, or what SetAppend set.
	append func(context.Context, []partition.Record) (int64, error)
	// producerAppend writes a transactional commit's batch: p.AppendWith, or what
	// SetProducerAppend set; markerAppend writes a transaction marker:
	// p.AppendTxnMarker, or what SetMarkerAppend set.
	producerAppend func(context.Context, []partition.Record, *partition.Producer) (int64, error)
	markerAppend   func(context.Context, partition.TxnMarker) (int64, error)
	// txnMu serializes transactional commits and markers, each from its append to
	// its change of the table, so that the table sees them in the log's order.
	txnMu sync.Mutex

	table   *offsetTable
	skipped []SkippedRecord // set by replay, then read-only

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// OpenPartitionOffsetStore opens (creating if needed) the partition in dir with
// opts, replays it, and returns a store that closes the partition on Close. nil
// opts means the partition's defaults: fsync before every acknowledgement.
func OpenPartitionOffsetStore(dir string, opts *partition.Options) (*PartitionOffsetStore, error) {
	p, err := partition.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	s, err := NewPartitionOffsetStore(p)
	if err != nil {
		p.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// NewPartitionOffsetStore replays p, an open partition that holds (or will hold)
// nothing but offsets log records, and returns a store writing to it. The caller
// keeps ownership of p: Close does not close it.
//
// A record that does not decode (written by something other than a coordinator, or
// by a newer version of strata) is skipped: it changes no group's state, and
// Skipped reports it, with a *CorruptError naming its offset, segment file and
// batch position, for the caller to log. One bad record thus never makes every
// group's offsets unreadable. A batch that fails its checks (CRC, bounds) is not a
// record to skip: replay stops and the error is returned.
func NewPartitionOffsetStore(p *partition.Partition) (*PartitionOffsetStore, error) {
	s := &PartitionOffsetStore{p: p, table: newOffsetTable(), append: p.Append, markerAppend: p.AppendTxnMarker,
		producerAppend: func(ctx context.Context, records []partition.Record, producer *partition.Producer) (int64, error) {
			return p.AppendWith(ctx, records, &partition.AppendOptions{Producer: producer})
		}}
	if err := s.replay(); err != nil {
		return nil, err
	}
	return s, nil
}

// SkippedRecord is a record of the offsets log that replay could not decode and
// skipped.
type SkippedRecord struct {
	Offset int64
	// Err is a *CorruptError (ErrCorrupt) naming the segment file, the batch
	// position and the offset, and saying what did not decode.
	Err error
}

// Skipped returns the records replay skipped because they did not decode, in
// offset order (nil if none).
func (s *PartitionOffsetStore) Skipped() []SkippedRecord { return slices.Clone(s.skipped) }

// corrupt describes an undecodable record at offset as a *CorruptError.
func (s *PartitionOffsetStore) corrupt(offset int64, cause error) error {
	path, position := s.p.Dir(), int64(-1)
	if loc, err := s.p.Locate(offset); err == nil {
		path, position = loc.Path, loc.Position
	}
	return errs.Corruptf(path, position, "offsets log record at offset %d: %v", offset, cause)
}

// Write implements OffsetStore: one Append of one batch, in the order commits
// (sorted), deletions, group record. A write larger than the partition's
// MaxBatchBytes fails with ErrRecordTooLarge and changes nothing, as an oversized
// OffsetCommit does in Kafka.
func (s *PartitionOffsetStore) Write(ctx context.Context, group string, w Write) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if w.empty() {
		return nil
	}
	records := make([]partition.Record, 0, len(w.Commits)+len(w.Deletes)+1)
	for _, tp := range slices.SortedFunc(maps.Keys(w.Commits), compareTopicPartitions) {
		records = append(records, partition.Record{Key: encodeOffsetKey(group, tp), Value: encodeOffsetValue(w.Commits[tp])})
	}
	for _, tp := range w.Deletes {
		records = append(records, partition.Record{Key: encodeOffsetKey(group, tp)})
	}
	switch {
	case w.Group != nil:
		records = append(records, partition.Record{Key: encodeGroupKey(group), Value: encodeGroupValue(*w.Group)})
	case w.DeleteGroup:
		records = append(records, partition.Record{Key: encodeGroupKey(group)})
	}
	base, err := s.append(ctx, records)
	if err != nil {
		return errorf("strata/group: writing offsets of group %q: %w", group, err)
	}
	s.table.apply(group, w, base)
	return nil
}

// Offsets implements OffsetStore.
func (s *PartitionOffsetStore) Offsets(group string) map[TopicPartition]CommittedOffset {
	return s.table.offsets(group)
}

// Group implements OffsetStore.
func (s *PartitionOffsetStore) Group(group string) (GroupRecord, bool) { return s.table.group(group) }

// Groups implements OffsetStore.
func (s *PartitionOffsetStore) Groups() []string { return s.table.groupNames() }

// SetAppend makes Write append its batches with append rather than the
// partition's Append: a replicated store writes through the partition's leader,
// acknowledged by every in-sync replica. append must return the offset of the
// batch's first record: the offsets are ordered by it (a transaction's offsets
// replace only earlier ones). Call it before the first Write.
func (s *PartitionOffsetStore) SetAppend(append func(context.Context, []partition.Record) (int64, error)) {
	s.append = append
}

// Partition returns the partition the store writes to.
func (s *PartitionOffsetStore) Partition() *partition.Partition { return s.p }

// Close closes the partition if the store opened it (OpenPartitionOffsetStore); a
// store made by NewPartitionOffsetStore leaves it to its owner. Close is
// idempotent; writes after it fail with ErrClosed, reads keep answering from
// memory.
func (s *PartitionOffsetStore) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.owned {
			s.closeErr = s.p.Close()
		}
	})
	return s.closeErr
}
