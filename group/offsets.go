package group

import (
	"context"
	"slices"
	"time"

	"github.com/stratalog/strata/partition"
)

// OffsetStore keeps what a coordinator must not forget: each group's committed
// offsets and its group record. MemoryOffsetStore keeps them in memory;
// PartitionOffsetStore in a partition used as Kafka's compacted __consumer_offsets
// log, replayed when it opens.
//
// The coordinator serializes the writes of one group (and reads of a group wait for
// its writes); writes of different groups may run concurrently. Reads return copies.
type OffsetStore interface {
	// Write applies w to group's stored state atomically and durably: when it
	// returns nil, every part of w is stored; on error, none of it is visible to
	// readers (though, as with a Kafka produce that timed out, it may surface after
	// a restart). A commit of many partitions is one write.
	Write(ctx context.Context, group string, w Write) error
	// Offsets returns a copy of group's committed offsets (nil if none).
	Offsets(group string) map[TopicPartition]CommittedOffset
	// Group returns group's record, if one is stored.
	Group(group string) (GroupRecord, bool)
	// Groups returns, sorted, the groups that have committed or pending offsets or
	// a record.
	Groups() []string

	// WriteTxn stores, atomically and durably as Write does, the offsets of a
	// transactional commit (Kafka's TxnOffsetCommit) of the producer with this id
	// and epoch. They are pending: invisible to Offsets until the producer's
	// transaction commits, dropped if it aborts (WriteTxnMarker of each store).
	// A later WriteTxn of the same producer and partition replaces the pending
	// offset; a Write deleting a partition deletes its pending offsets too.
	WriteTxn(ctx context.Context, group string, producerID int64, producerEpoch int16, commits map[TopicPartition]CommittedOffset) error
	// PendingTxnPartitions returns, sorted, the partitions for which group has
	// pending transactional offsets, of any producer (nil if none).
	PendingTxnPartitions(group string) []TopicPartition
}

// Write is one atomic change to a group's stored state.
type Write struct {
	// Commits stores these offsets, replacing those stored for the same partitions.
	Commits map[TopicPartition]CommittedOffset
	// Deletes removes the offsets of these partitions (tombstones in the log).
	Deletes []TopicPartition
	// Group, if not nil, replaces the group record.
	Group *GroupRecord
	// DeleteGroup removes the group record.
	DeleteGroup bool
}

// records is how many records of the offsets log w is.
func (w Write) records() int {
	n := len(w.Commits) + len(w.Deletes)
	if w.Group != nil || w.DeleteGroup {
		n++
	}
	return n
}

func (w Write) empty() bool {
	return len(w.Commits) == 0 && len(w.Deletes) == 0 && w.Group == nil && !w.DeleteGroup
}

// GroupRecord is a group's metadata as stored (Kafka's GroupMetadataValue): written
// whenever the group changes state, so that a restarted coordinator continues the
// group's generations and knows since when an empty group has been empty (for
// offset retention). Members are stored for inspection; a restarted coordinator
// starts every group empty, and its members join again.
type GroupRecord struct {
	ProtocolType string
	Generation   int32
	Protocol     string    // the selected protocol (assignor); "" if none
	Leader       string    // the leader's member id; "" if none
	StateTime    time.Time // when the group entered its current state; zero if unknown
	Members      []MemberRecord
}

// MemberRecord is one member in a GroupRecord.
type MemberRecord struct {
	MemberID         string
	InstanceID       string
	ClientID         string
	ClientHost       string
	RebalanceTimeout time.Duration
	SessionTimeout   time.Duration
	Subscription     []byte // the selected protocol's metadata
	Assignment       []byte
}

func cloneGroupRecord(g GroupRecord) GroupRecord {
	g.Members = slices.Clone(g.Members)
	return g
}

// MemoryOffsetStore is an OffsetStore in memory: nothing survives the process. It
// is the default of a Coordinator without Options.Offsets, and useful in tests.
type MemoryOffsetStore struct {
	table *offsetTable
}

// NewMemoryOffsetStore returns an empty in-memory store.
func NewMemoryOffsetStore() *MemoryOffsetStore {
	return &MemoryOffsetStore{table: newOffsetTable()}
}

// Write implements OffsetStore. It fails only if ctx has ended.
func (s *MemoryOffsetStore) Write(ctx context.Context, group string, w Write) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.table.apply(group, w, s.table.reserve(w.records()))
	return nil
}

// WriteTxn implements OffsetStore. It fails only if ctx has ended.
func (s *MemoryOffsetStore) WriteTxn(ctx context.Context, group string, producerID int64, producerEpoch int16, commits map[TopicPartition]CommittedOffset) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.table.applyTxn(group, producerID, commits, s.table.reserve(len(commits)))
	return nil
}

// WriteTxnMarker ends the transaction of m's producer, as
// PartitionOffsetStore.WriteTxnMarker does but without a log: a COMMIT makes its
// pending offsets visible, an ABORT drops them, and a producer with nothing
// pending changes nothing. It fails only if ctx has ended.
func (s *MemoryOffsetStore) WriteTxnMarker(ctx context.Context, m partition.TxnMarker) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.table.complete(m.ProducerID, m.Type == partition.MarkerCommit)
	return nil
}

// PendingTxnPartitions implements OffsetStore.
func (s *MemoryOffsetStore) PendingTxnPartitions(group string) []TopicPartition {
	return s.table.pendingPartitions(group)
}

// Offsets implements OffsetStore.
func (s *MemoryOffsetStore) Offsets(group string) map[TopicPartition]CommittedOffset {
	return s.table.offsets(group)
}

// Group implements OffsetStore.
func (s *MemoryOffsetStore) Group(group string) (GroupRecord, bool) { return s.table.group(group) }

// Groups implements OffsetStore.
func (s *MemoryOffsetStore) Groups() []string { return s.table.groupNames() }
