package kafka

import (
	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleTxnOffsetCommit answers TxnOffsetCommit: the offsets are stored in the
// group's offsets log as pending in the producer's transaction (visible once it
// commits, dropped if it aborts), with KIP-447's member checks (v3+). The group's
// offsets partition is added to the transaction first, as a transaction version 2
// client (v5+) sends no AddOffsetsToTxn; for older ones it is already there.
func handleTxnOffsetCommit(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.TxnOffsetCommitRequest)
	resp := kmsg.NewPtrTxnOffsetCommitResponse()
	resp.Version = req.Version
	offsets := map[log.TopicPartition]log.OffsetAndMetadata{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			o := log.OffsetAndMetadata{Offset: p.Offset}
			if p.Metadata != nil {
				o.Metadata = *p.Metadata
			}
			offsets[log.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = o
		}
	}
	commit := group.TxnCommitRequest{
		Group: req.Group, ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch,
		Generation: -1, Offsets: offsets,
	}
	if req.Version >= 3 {
		commit.Generation, commit.MemberID = req.Generation, req.MemberID
		if req.InstanceID != nil {
			commit.InstanceID = *req.InstanceID
		}
	}
	err := txnCommitOffsets(r, req.TransactionalID, commit)
	code := groupErrorCode(err) // the group coordinator's errors, then the store's
	for _, t := range req.Topics {
		topic := kmsg.NewTxnOffsetCommitResponseTopic()
		topic.Topic = t.Topic
		for _, p := range t.Partitions {
			part := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			part.Partition, part.ErrorCode = p.Partition, code
			topic.Partitions = append(topic.Partitions, part)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

// txnCommitOffsets adds the group's offsets partition to the transaction, then
// commits the offsets in it.
func txnCommitOffsets(r *request, transactionalID string, commit group.TxnCommitRequest) error {
	// Sent to the group's coordinator, as on Kafka; the store's transaction
	// coordinator is in process, wherever its partition's leader is.
	if err := r.checkCoordinator(log.OffsetsTopic); err != nil {
		return err
	}
	tc, err := r.store.TxnCoordinator()
	if err != nil {
		return err
	}
	pe := txn.ProducerIDAndEpoch{ProducerID: commit.ProducerID, ProducerEpoch: commit.ProducerEpoch}
	if err := tc.AddOffsetsToTxn(r.ctx, transactionalID, pe, commit.Group); err != nil {
		return err
	}
	gc, err := r.store.GroupCoordinator()
	if err != nil {
		return err
	}
	return gc.TxnCommitOffsets(r.ctx, commit)
}
