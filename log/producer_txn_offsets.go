package log

import (
	"context"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/txn"
)

// GroupMetadata identifies a consumer group member for
// Producer.SendOffsetsToTransaction (Kafka's ConsumerGroupMetadata): the group,
// and the member's generation, member id and instance id, which the group
// coordinator checks so that a member fenced by a rebalance cannot commit
// (KIP-447). GroupConsumer.GroupMetadata returns it.
type GroupMetadata struct {
	Group string
	// Generation is the member's generation; -1 with an empty MemberID means a
	// committer outside the group, accepted only while the group has no members.
	Generation int32
	MemberID   string
	InstanceID string
}

// GroupMetadata returns the consumer's group metadata as of its current
// generation, for Producer.SendOffsetsToTransaction.
func (g *GroupConsumer) GroupMetadata() GroupMetadata {
	a := g.member.Assignment()
	generation := a.Generation
	if a.MemberID == "" {
		generation = -1
	}
	return GroupMetadata{Group: g.opts.Group, Generation: generation, MemberID: a.MemberID, InstanceID: g.opts.InstanceID}
}

// sendOffsets adds the group's offsets partition to the transaction (Kafka's
// AddOffsetsToTxn), then has the group coordinator store the offsets as pending
// until the transaction ends (TxnOffsetCommit).
func (t *transactional) sendOffsets(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata, gm GroupMetadata) error {
	c, err := t.s.coordinatorFor(true)
	if err != nil {
		return err
	}
	if err := t.addPartition(ctx, TopicPartition{Topic: OffsetsTopic}); err != nil {
		return err
	}
	pe := t.current()
	err = txnCommitOffsets(ctx, c, gm, offsets, pe)
	if err != nil {
		// The transaction can only abort, as Kafka's producer makes a refused
		// TxnOffsetCommit an abortable error: committed without its offsets,
		// its output would be produced again from the old ones (by a zombie's
		// successor, KIP-447).
		err = errorf("strata/log: send offsets of group %q to the transaction of %q: %w", gm.Group, t.id, err)
		t.fail(err)
	}
	return err
}

// txnCommitOffsets stores offsets as pending in the producer's transaction
// (Kafka's TxnOffsetCommit), with the member's identity for KIP-447's checks.
func txnCommitOffsets(ctx context.Context, c *group.Coordinator, gm GroupMetadata, offsets map[TopicPartition]OffsetAndMetadata, pe txn.ProducerIDAndEpoch) error {
	return c.TxnCommitOffsets(ctx, group.TxnCommitRequest{
		Group: gm.Group, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch,
		MemberID: gm.MemberID, InstanceID: gm.InstanceID, Generation: gm.Generation, Offsets: offsets,
	})
}
