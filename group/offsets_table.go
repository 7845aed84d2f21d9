package group

import (
	"maps"
	"slices"
	"sync"
)

// offsetTable is the in-memory state of an offset store: per group, its committed
// offsets, its record and the pending offsets of transactional commits (Kafka's
// pendingTransactionalOffsetCommits), by producer id. Both stores keep one;
// PartitionOffsetStore rebuilds it by replaying its log.
//
// Every offset carries its position: the log offset of the record that stored it
// (MemoryOffsetStore numbers its writes instead). A committed offset is replaced
// only by one stored later in the log (Kafka's CommitRecordMetadataAndOffset.olderThan),
// so that a transaction's offset, materialized when its COMMIT marker arrives,
// never overwrites an offset committed after it, and the table does not depend on
// the order in which concurrent writes of different groups are applied.
type offsetTable struct {
	mu     sync.RWMutex
	groups map[string]*storedGroup
	// producers indexes the groups holding each producer's pending offsets.
	producers map[int64]map[string]struct{}
	// next is the position of MemoryOffsetStore's next record.
	next int64
}

type storedGroup struct {
	offsets map[TopicPartition]storedOffset
	record  *GroupRecord
	// pending holds the offsets of open transactions, by producer id: invisible
	// until the producer's COMMIT marker, dropped by its ABORT marker.
	pending map[int64]map[TopicPartition]storedOffset
}

// storedOffset is an offset and the position of the record that stored it.
type storedOffset struct {
	CommittedOffset
	position int64
}

func newOffsetTable() *offsetTable {
	return &offsetTable{groups: make(map[string]*storedGroup), producers: make(map[int64]map[string]struct{})}
}

// reserve returns the positions of n records of MemoryOffsetStore: the first.
func (t *offsetTable) reserve(n int) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := t.next
	t.next += int64(n)
	return base
}

// groupLocked returns group's state, adding it if absent. The caller holds mu.
func (t *offsetTable) groupLocked(group string) *storedGroup {
	g := t.groups[group]
	if g == nil {
		g = &storedGroup{offsets: make(map[TopicPartition]storedOffset), pending: make(map[int64]map[TopicPartition]storedOffset)}
		t.groups[group] = g
	}
	return g
}

// dropIfEmptyLocked forgets group if nothing of it is left. The caller holds mu.
func (t *offsetTable) dropIfEmptyLocked(group string, g *storedGroup) {
	if len(g.offsets) == 0 && g.record == nil && len(g.pending) == 0 {
		delete(t.groups, group)
	}
}

// commitLocked stores o for tp unless the offset stored is from later in the log.
func (g *storedGroup) commitLocked(tp TopicPartition, o storedOffset) {
	if current, ok := g.offsets[tp]; !ok || current.position <= o.position {
		g.offsets[tp] = o
	}
}

// apply applies w to group; its records are at positions from base, in the order
// Write appends them: the commits sorted, then the deletions, then the record. A
// deletion removes the partition's pending offsets too, as Kafka's does.
func (t *offsetTable) apply(group string, w Write, base int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.groupLocked(group)
	for i, tp := range slices.SortedFunc(maps.Keys(w.Commits), compareTopicPartitions) {
		g.commitLocked(tp, storedOffset{CommittedOffset: w.Commits[tp], position: base + int64(i)})
	}
	for _, tp := range w.Deletes {
		delete(g.offsets, tp)
		for id := range g.pending {
			t.removePendingLocked(group, g, id, tp)
		}
	}
	if w.Group != nil {
		record := cloneGroupRecord(*w.Group)
		g.record = &record
	}
	if w.DeleteGroup {
		g.record = nil
	}
	t.dropIfEmptyLocked(group, g)
}

// applyTxn adds the pending offsets of producerID's transactional commit to group;
// its records are at positions from base, sorted by partition.
func (t *offsetTable) applyTxn(group string, producerID int64, commits map[TopicPartition]CommittedOffset, base int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.groupLocked(group)
	for i, tp := range slices.SortedFunc(maps.Keys(commits), compareTopicPartitions) {
		t.addPendingLocked(group, g, producerID, tp, storedOffset{CommittedOffset: commits[tp], position: base + int64(i)})
	}
}

func (t *offsetTable) addPendingLocked(group string, g *storedGroup, producerID int64, tp TopicPartition, o storedOffset) {
	pending := g.pending[producerID]
	if pending == nil {
		pending = make(map[TopicPartition]storedOffset)
		g.pending[producerID] = pending
	}
	pending[tp] = o
	groups := t.producers[producerID]
	if groups == nil {
		groups = make(map[string]struct{})
		t.producers[producerID] = groups
	}
	groups[group] = struct{}{}
}

// removePendingLocked removes producerID's pending offset of tp in group.
func (t *offsetTable) removePendingLocked(group string, g *storedGroup, producerID int64, tp TopicPartition) {
	pending := g.pending[producerID]
	delete(pending, tp)
	if len(pending) > 0 {
		return
	}
	delete(g.pending, producerID)
	if groups := t.producers[producerID]; groups != nil {
		delete(groups, group)
		if len(groups) == 0 {
			delete(t.producers, producerID)
		}
	}
}

// complete ends producerID's transaction in every group: with commit, its pending
// offsets replace the committed ones they are later than (Kafka's
// completePendingTxnOffsetCommit); without, they are dropped. A producer with
// nothing pending (a repeated marker) changes nothing.
func (t *offsetTable) complete(producerID int64, commit bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for group := range t.producers[producerID] {
		g := t.groups[group]
		if commit {
			for tp, o := range g.pending[producerID] {
				g.commitLocked(tp, o)
			}
		}
		delete(g.pending, producerID)
		t.dropIfEmptyLocked(group, g)
	}
	delete(t.producers, producerID)
}

// pendingPartitions returns, sorted, the partitions for which group has pending
// transactional offsets (nil if none).
func (t *offsetTable) pendingPartitions(group string) []TopicPartition {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g := t.groups[group]
	if g == nil || len(g.pending) == 0 {
		return nil
	}
	seen := make(map[TopicPartition]struct{})
	for _, pending := range g.pending {
		for tp := range pending {
			seen[tp] = struct{}{}
		}
	}
	return slices.SortedFunc(maps.Keys(seen), compareTopicPartitions)
}

// hasPending reports whether group has a pending transactional offset for tp.
func (t *offsetTable) hasPending(group string, tp TopicPartition) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g := t.groups[group]
	if g == nil {
		return false
	}
	for _, pending := range g.pending {
		if _, ok := pending[tp]; ok {
			return true
		}
	}
	return false
}

func (t *offsetTable) offsets(group string) map[TopicPartition]CommittedOffset {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g := t.groups[group]
	if g == nil || len(g.offsets) == 0 {
		return nil
	}
	out := make(map[TopicPartition]CommittedOffset, len(g.offsets))
	for tp, o := range g.offsets {
		out[tp] = o.CommittedOffset
	}
	return out
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

// groupNames returns, sorted, the groups with committed or pending offsets or a
// record.
func (t *offsetTable) groupNames() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Sorted(maps.Keys(t.groups))
}
