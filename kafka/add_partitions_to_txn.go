package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleAddPartitionsToTxn answers AddPartitionsToTxn from a producer (v0–3; v4+
// is broker to broker): it adds the partitions to the producer's transaction
// through the store's coordinator, all or none, and answers each partition with
// the outcome. Under transaction version 2 clients skip it: their transactional
// produces add the partition themselves (log.Store.AppendBatch).
func handleAddPartitionsToTxn(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	resp.Version = req.Version
	var tps []txn.TopicPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tps = append(tps, log.TopicPartition{Topic: t.Topic, Partition: p})
		}
	}
	code := int16(0)
	coordinator, err := r.txnCoordinator()
	if err == nil {
		err = unknownPartitions(r.store, tps)
	}
	if err == nil {
		pe := txn.ProducerIDAndEpoch{ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch}
		err = coordinator.AddPartitionsToTxn(r.ctx, req.TransactionalID, pe, tps)
	}
	if err != nil {
		code, _ = errorCode(err)
	}
	for _, t := range req.Topics {
		topic := kmsg.NewAddPartitionsToTxnResponseTopic()
		topic.Topic = t.Topic
		for _, p := range t.Partitions {
			part := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			part.Partition, part.ErrorCode = p, code
			topic.Partitions = append(topic.Partitions, part)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

// unknownPartitions returns an error matching log.ErrUnknownPartition (or
// ErrUnknownTopic) if any of tps does not exist.
func unknownPartitions(store *log.Store, tps []txn.TopicPartition) error {
	counts := map[string]int{}
	for _, tp := range tps {
		n, ok := counts[tp.Topic]
		if !ok {
			d, err := store.DescribeTopic(tp.Topic)
			if err != nil {
				return err
			}
			n = len(d.Partitions)
			counts[tp.Topic] = n
		}
		if tp.Partition < 0 || int(tp.Partition) >= n {
			return log.ErrUnknownPartition
		}
	}
	return nil
}
