package group

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
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
	// Groups returns, sorted, the groups that have committed offsets or a record.
	Groups() []string
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

// offsetTable is the in-memory state of an offset store: per group, its offsets and
// record. Both stores keep one; PartitionOffsetStore rebuilds it by replaying its log.
type offsetTable struct {
	mu     sync.RWMutex
	groups map[string]*storedGroup
}

type storedGroup struct {
	offsets map[TopicPartition]CommittedOffset
	record  *GroupRecord
}

func newOffsetTable() *offsetTable {
	return &offsetTable{groups: make(map[string]*storedGroup)}
}

// apply applies w to group.
func (t *offsetTable) apply(group string, w Write) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.groups[group]
	if g == nil {
		g = &storedGroup{offsets: make(map[TopicPartition]CommittedOffset)}
		t.groups[group] = g
	}
	maps.Copy(g.offsets, w.Commits)
	for _, tp := range w.Deletes {
		delete(g.offsets, tp)
	}
	if w.Group != nil {
		record := cloneGroupRecord(*w.Group)
		g.record = &record
	}
	if w.DeleteGroup {
		g.record = nil
	}
	if len(g.offsets) == 0 && g.record == nil {
		delete(t.groups, group)
	}
}

func (t *offsetTable) offsets(group string) map[TopicPartition]CommittedOffset {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g := t.groups[group]
	if g == nil || len(g.offsets) == 0 {
		return nil
	}
	return maps.Clone(g.offsets)
}

func (t *offsetTable) group(group string) (GroupRecord, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g := t.groups[group]
	if g == nil || g.record == nil {
		return GroupRecord{}, false
	}
	return cloneGroupRecord(*g.record), true
}

func (t *offsetTable) groupNames() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Sorted(maps.Keys(t.groups))
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
	s.table.apply(group, w)
	return nil
}

// Offsets implements OffsetStore.
func (s *MemoryOffsetStore) Offsets(group string) map[TopicPartition]CommittedOffset {
	return s.table.offsets(group)
}

// Group implements OffsetStore.
func (s *MemoryOffsetStore) Group(group string) (GroupRecord, bool) { return s.table.group(group) }

// Groups implements OffsetStore.
func (s *MemoryOffsetStore) Groups() []string { return s.table.groupNames() }
