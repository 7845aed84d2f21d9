package log

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/partition"
)

// OffsetsTopic is the internal topic holding consumer groups' committed offsets and
// group records (Kafka's __consumer_offsets), keyed by group, topic and partition.
const OffsetsTopic = group.OffsetsTopic

// Types of consumer groups, from the group package.
type (
	// Assignor assigns a group's partitions to its members: group.RangeAssignor,
	// group.RoundRobinAssignor, group.StickyAssignor,
	// group.CooperativeStickyAssignor (the default), or your own.
	Assignor = group.Assignor
	// GroupListing is one group in ListGroups.
	GroupListing = group.GroupListing
	// GroupDescription is a group's state, members and, per partition, committed
	// offset, end offset and lag.
	GroupDescription = group.GroupDescription
	// CommittedOffset is a group's committed offset of a partition.
	CommittedOffset = group.CommittedOffset
	// OffsetAndMetadata is an offset to commit (the next record to read) and an
	// optional string stored with it.
	OffsetAndMetadata = group.OffsetAndMetadata
)

// Errors of consumer groups, from the group package.
var (
	// ErrIllegalGeneration is returned by a commit from a member of an older
	// generation of its group: it was fenced out by a rebalance, and its partitions
	// may belong to another member now.
	ErrIllegalGeneration = group.ErrIllegalGeneration
	// ErrUnknownMemberID is returned by a commit from a member its group no longer
	// knows (it missed its session timeout).
	ErrUnknownMemberID = group.ErrUnknownMemberID
	// ErrRebalanceInProgress is returned by a commit while the group rebalances.
	ErrRebalanceInProgress = group.ErrRebalanceInProgress
	// ErrGroupNotFound is returned for a group the store does not know.
	ErrGroupNotFound = group.ErrGroupNotFound
	// ErrNonEmptyGroup is returned by DeleteGroup, and by CommitGroupOffsets, for a
	// group that has members.
	ErrNonEmptyGroup = group.ErrNonEmptyGroup
)

// storeMetadata tells the group coordinator about the store's topics.
type storeMetadata struct{ s *Store }

// Partitions returns the partition count of topic; internal topics are not
// subscribable.
func (m storeMetadata) Partitions(topic string) (int, bool) {
	set, err := m.s.snapshot()
	if err != nil {
		return 0, false
	}
	t := set[topic]
	if t == nil || t.internal {
		return 0, false
	}
	return len(t.partitions), true
}

// EndOffset returns the end offset of a partition: what consumers can read.
func (m storeMetadata) EndOffset(tp TopicPartition) (int64, bool) {
	p, err := m.s.lookupPartition(tp)
	if err != nil {
		return 0, false
	}
	return p.EndOffset(), true
}

// openGroups starts the group coordinator if the store has an offsets topic (a
// store gets one when it first needs it: see coordinatorFor). An offline offsets
// topic does not fail Open: every group call returns its *PartitionOfflineError,
// and plain topics work.
func (s *Store) openGroups() error {
	set, err := s.snapshot()
	if err != nil {
		return err
	}
	if set[OffsetsTopic] == nil {
		return nil
	}
	_, err = s.coordinatorFor(false)
	if errors.Is(err, ErrPartitionOffline) {
		return nil // logged; every group call returns it
	}
	return err
}

// coordinatorFor returns the group coordinator, starting it if needed. Without an
// offsets topic it creates one if create is set, and otherwise returns nil: a store
// that never used groups has none.
func (s *Store) coordinatorFor(create bool) (*group.Coordinator, error) {
	s.groupsMu.Lock()
	defer s.groupsMu.Unlock()
	if s.groupsClosed {
		return nil, ErrClosed
	}
	if c := s.coordinator.Load(); c != nil {
		return c, nil
	}
	set, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if set[OffsetsTopic] == nil {
		if !create {
			return nil, nil
		}
		err := s.createTopic(context.Background(), OffsetsTopic, s.offsetsTopicConfig(), true)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", OffsetsTopic, err)
		}
	}
	offsetsTP := TopicPartition{Topic: OffsetsTopic, Partition: 0}
	p, err := s.lookupPartition(offsetsTP)
	if err != nil {
		return nil, err
	}
	offsets, err := group.NewPartitionOffsetStore(p)
	if t, lookupErr := s.lookupTopic(OffsetsTopic); err == nil && lookupErr == nil && t.replicas != nil {
		// Commits go through the leader, acknowledged by every in-sync replica.
		offsets.SetAppend(s.brokers.replicatedAppender(t.replicas[0], AcksAll))
		offsets.SetProducerAppend(s.brokers.replicatedProducerAppender(t.replicas[0], AcksAll))
		rp := t.replicas[0]
		offsets.SetMarkerAppend(func(ctx context.Context, m partition.TxnMarker) (int64, error) {
			return 0, s.brokers.replicatedMarker(ctx, rp, m)
		})
	}
	if err != nil {
		// The log does not replay (a batch fails its checks): the partition is
		// unusable, so offline, as if Open had found it so.
		return nil, s.takeOffline(offsetsTP, p, fmt.Errorf("replay: %w", err))
	}
	for _, skipped := range offsets.Skipped() {
		s.logger.Error("skipped a record of the offsets topic that does not decode: it changes no group's offsets",
			"partition", TopicPartition{Topic: OffsetsTopic}.String(), "offset", skipped.Offset, "err", skipped.Err)
	}
	s.skippedOffsetsRecords.Store(int64(len(offsets.Skipped())))
	coordinator, err := group.NewCoordinator(&group.Options{
		Offsets:          offsets,
		Metadata:         storeMetadata{s},
		OffsetsRetention: s.opts.OffsetsRetention,
		Logger:           s.logger,
	})
	if err != nil {
		return nil, err
	}
	coordinator.Start()
	s.offsetStore.Store(offsets)
	s.coordinator.Store(coordinator)
	return coordinator, nil
}

// currentCoordinator returns the coordinator if it runs, else nil. It takes no
// lock, so that topic changes (under adminMu) may call it.
func (s *Store) currentCoordinator() *group.Coordinator { return s.coordinator.Load() }

// offsetsTopicConfig is the configuration of the offsets topic: one compacted
// partition (the latest commit of each group and partition is what counts), every
// commit fsynced, and nothing deleted by age or size whatever the store's defaults
// say (offsets are deleted by OffsetsRetention, with tombstones). In a store of
// several brokers it has three replicas where there are three brokers (Kafka's
// offsets.topic.replication.factor), two of which must hold each commit; a
// one-broker store sets neither, so that its topics.json stays what it was before
// stores of several brokers existed.
func (s *Store) offsetsTopicConfig() TopicConfig {
	c := TopicConfig{
		Partitions:     1,
		CleanupPolicy:  CleanupCompact,
		Sync:           SyncPolicy{Mode: SyncEveryAppend},
		RetentionBytes: Unlimited,
		RetentionAge:   Unlimited,
		SegmentBytes:   100 << 20, // Kafka's offsets.topic.segment.bytes
		Compression:    CompressionNone,
	}
	if n := s.brokerCount(); n > 1 {
		c.ReplicationFactor = min(3, n)
		c.MinInsyncReplicas = min(2, c.ReplicationFactor)
	}
	return c
}

// topicsChanged tells the coordinator that topics or partition counts changed, so
// that groups subscribed to them rebalance.
func (s *Store) topicsChanged() {
	if c := s.currentCoordinator(); c != nil {
		c.NotifyMetadataChanged()
	}
}

// ListGroups returns the consumer groups the store knows: those with members or
// with committed offsets.
func (s *Store) ListGroups() ([]GroupListing, error) {
	c, err := s.coordinatorFor(false)
	if c == nil || err != nil {
		return nil, err
	}
	return c.ListGroups()
}

// DescribeGroup returns a group's state, generation, assignor, members with their
// assignments and, for every partition with a committed offset or an owner, the
// committed offset, the end offset and the lag (Kafka's kafka-consumer-groups
// --describe). An unknown group is ErrGroupNotFound.
func (s *Store) DescribeGroup(name string) (GroupDescription, error) {
	c, err := s.coordinatorFor(false)
	if err != nil {
		return GroupDescription{}, err
	}
	if c == nil {
		return GroupDescription{}, errorf("strata/log: describe group %q: %w", name, ErrGroupNotFound)
	}
	return c.Describe(name)
}

// CommittedOffsets returns the group's committed offsets of tps (those with a
// commit); with no tps, of every partition the group has committed.
func (s *Store) CommittedOffsets(ctx context.Context, groupName string, tps ...TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	c, err := s.coordinatorFor(false)
	if c == nil || err != nil {
		return map[TopicPartition]CommittedOffset{}, err
	}
	return c.FetchOffsets(ctx, groupName, tps)
}

// CommitGroupOffsets commits offsets for a group that has no members, as a consumer
// outside the group (Kafka's kafka-consumer-groups --reset-offsets, and a Consumer
// that assigns partitions itself but keeps its positions in a group). A group with
// members refuses it: ErrNonEmptyGroup or ErrRebalanceInProgress... as Kafka.
// Offsets must be at least 0 (ErrInvalidArgument) and name partitions that exist.
func (s *Store) CommitGroupOffsets(ctx context.Context, groupName string, offsets map[TopicPartition]OffsetAndMetadata) error {
	for tp, o := range offsets {
		if _, err := s.lookupPartition(tp); err != nil {
			return errorf("strata/log: commit offsets of group %q: %w", groupName, err)
		}
		if o.Offset < 0 {
			return errorf("strata/log: commit offset %d of %s for group %q: %w", o.Offset, tp, groupName, ErrInvalidArgument)
		}
	}
	c, err := s.coordinatorFor(true)
	if err != nil {
		return err
	}
	err = c.CommitOffsets(ctx, group.CommitRequest{Group: groupName, Generation: -1, Offsets: offsets})
	if errors.Is(err, group.ErrUnknownMemberID) {
		err = fmt.Errorf("%w: %w", ErrNonEmptyGroup, err)
	}
	if err != nil {
		return errorf("strata/log: commit offsets of group %q: %w", groupName, err)
	}
	return nil
}

// DeleteGroup deletes a group without members and its committed offsets
// (ErrNonEmptyGroup while it has members, ErrGroupNotFound if unknown).
func (s *Store) DeleteGroup(ctx context.Context, groupName string) error {
	c, err := s.coordinatorFor(false)
	if err != nil {
		return err
	}
	if c == nil {
		return errorf("strata/log: delete group %q: %w", groupName, ErrGroupNotFound)
	}
	if err := c.DeleteGroup(ctx, groupName); err != nil {
		return errorf("strata/log: delete group %q: %w", groupName, err)
	}
	return nil
}

// closeGroups closes every group consumer (which commits and leaves) and the
// coordinator, before the partitions close.
func (s *Store) closeGroups(consumers map[*GroupConsumer]struct{}) error {
	var err error
	for g := range consumers {
		err = errors.Join(err, g.Close())
	}
	s.groupsMu.Lock()
	s.groupsClosed = true // no coordinator starts after this
	s.groupsMu.Unlock()
	if c := s.currentCoordinator(); c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, c.Flush(ctx), c.Close())
	}
	return err
}
