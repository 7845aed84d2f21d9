package group

import (
	"context"
	"fmt"
	"time"
)

// TxnCommitRequest is a TxnOffsetCommit (KIP-98): offsets committed as part of a
// producer's transaction, which the transaction coordinator has added the group's
// offsets partition to (AddOffsetsToTxn).
type TxnCommitRequest struct {
	Group string
	// ProducerID and ProducerEpoch identify the transactional producer; its
	// offsets are pending until its transaction ends.
	ProducerID    int64
	ProducerEpoch int16
	// MemberID, InstanceID and Generation identify the consumer whose progress the
	// transaction commits (KIP-447: the producer sends the consumer's group
	// metadata), checked as CommitOffsets checks them, so that a zombie fenced out
	// by a rebalance cannot commit. Generation -1 with an empty MemberID and
	// InstanceID means none is given (a client before KIP-447), and the commit is
	// accepted whatever the group's state.
	MemberID   string
	InstanceID string
	Generation int32
	// Offsets to commit, by partition; all are stored in one write.
	Offsets map[TopicPartition]OffsetAndMetadata
}

// TxnCommitOffsets validates a transactional offset commit and stores its offsets
// durably, pending: FetchOffsets does not return them (HasPendingTxnOffsets says
// they are there) until the producer's transaction commits, when the transaction
// coordinator writes its COMMIT marker to the offsets partition
// (PartitionOffsetStore.WriteTxnMarker); an ABORT marker drops them. On commit, a
// pending offset replaces the committed one only if it is later in the offsets
// log, as in Kafka: a plain commit written after it wins.
//
// It rejects, storing nothing: a member the group does not know
// (ErrUnknownMemberID, ErrFencedInstanceID) and a generation other than the
// group's (ErrIllegalGeneration), when the request names a member or a
// generation (KIP-447); a group unknown to the coordinator with a generation
// (ErrUnknownMemberID); bad input as CommitOffsets does, and a negative producer
// id or epoch (ErrInvalidArgument); a stale producer epoch, refused by the offsets
// partition (partition.ErrInvalidProducerEpoch, with PartitionOffsetStore). Unlike
// CommitOffsets it is accepted while the group waits for its leader's assignment,
// as Kafka accepts it, and it does not keep the member's session alive.
//
// If ctx ends while the offsets are written, the commit may or may not survive a
// restart, pending in its transaction, as with CommitOffsets.
func (c *Coordinator) TxnCommitOffsets(ctx context.Context, req TxnCommitRequest) error {
	plain := CommitRequest{Group: req.Group, MemberID: req.MemberID, InstanceID: req.InstanceID, Generation: req.Generation, Offsets: req.Offsets}
	if err := c.validateCommit(plain); err != nil {
		return err
	}
	if req.ProducerID < 0 || req.ProducerEpoch < 0 {
		return fmt.Errorf("%w: transactional commit of producer id %d epoch %d", ErrInvalidArgument, req.ProducerID, req.ProducerEpoch)
	}
	if len(req.Offsets) == 0 {
		return nil
	}
	unlock, err := c.lockGroup(ctx, req.Group)
	if err != nil {
		return err
	}
	defer unlock()
	now, err := c.admitTxnCommit(plain)
	if err != nil {
		return err
	}
	commits := committedAt(req.Offsets, now)
	return c.store.WriteTxn(ctx, req.Group, req.ProducerID, req.ProducerEpoch, commits)
}

// admitTxnCommit decides whether the group accepts a transactional commit (Kafka's
// validateOffsetCommit for a transactional one), and returns the time of the
// commit.
func (c *Coordinator) admitTxnCommit(req CommitRequest) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return time.Time{}, ErrCoordinatorClosed
	}
	now := c.now()
	g := c.mu.groups[req.Group]
	given := req.Generation >= 0 || req.MemberID != "" || req.InstanceID != ""
	if g == nil {
		if given {
			return time.Time{}, ErrUnknownMemberID
		}
		// Offsets stored for a group nobody manages, as a plain commit without
		// a generation does.
		c.mu.groups[req.Group] = newGroupMetadata(req.Group, now)
		return now, nil
	}
	if !given {
		return now, nil
	}
	if err := g.checkMember(req.MemberID, req.InstanceID); err != nil {
		return time.Time{}, err
	}
	if req.Generation != g.generation {
		return time.Time{}, ErrIllegalGeneration
	}
	return now, nil
}

// HasPendingTxnOffsets reports whether group has offsets of tp committed in a
// transaction that has not ended yet (KIP-447): a fetch that requires stable
// offsets (Kafka's OffsetFetch with RequireStable) answers
// ErrUnstableOffsetCommit for tp while it does, and the consumer retries.
func (c *Coordinator) HasPendingTxnOffsets(group string, tp TopicPartition) bool {
	for _, p := range c.store.PendingTxnPartitions(group) {
		if p == tp {
			return true
		}
	}
	return false
}

// FetchStableOffsets is FetchOffsets for a consumer that requires stable offsets
// (KIP-447, OffsetFetch with RequireStable, as a read_committed consumer sends
// it): if any of partitions (any of the group's, with nil) has offsets pending in
// a transaction, it returns ErrUnstableOffsetCommit, naming them, and no offsets;
// the consumer retries once the transaction has ended. Pending offsets are looked
// for before and after the fetch, so that offsets a transaction's marker
// replaced during the fetch are never returned as stable.
func (c *Coordinator) FetchStableOffsets(ctx context.Context, group string, partitions []TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	if err := c.checkStable(group, partitions); err != nil {
		return nil, err
	}
	offsets, err := c.FetchOffsets(ctx, group, partitions)
	if err != nil {
		return nil, err
	}
	if err := c.checkStable(group, partitions); err != nil {
		return nil, err
	}
	return offsets, nil
}

// checkStable returns ErrUnstableOffsetCommit if any of partitions (any, with
// nil) has pending transactional offsets in group.
func (c *Coordinator) checkStable(group string, partitions []TopicPartition) error {
	pending := c.store.PendingTxnPartitions(group)
	if partitions != nil {
		wanted := make(map[TopicPartition]bool, len(partitions))
		for _, tp := range partitions {
			wanted[tp] = true
		}
		var kept []TopicPartition
		for _, tp := range pending {
			if wanted[tp] {
				kept = append(kept, tp)
			}
		}
		pending = kept
	}
	if len(pending) > 0 {
		return fmt.Errorf("%w: group %q, partitions %v", ErrUnstableOffsetCommit, group, pending)
	}
	return nil
}
