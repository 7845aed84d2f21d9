package kafka

import (
	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleEndTxn answers EndTxn: the store's coordinator stores the decision, writes
// the markers and the completion. As on Kafka, the request's version tells the
// client's transaction version: v5+ is version 2 (KIP-890: the epoch is bumped
// at every end and the answer carries the producer id and epoch of the next
// transaction), v4 and below version 1 (no bump: the client goes on with its
// epoch; librdkafka, sarama, older Java clients).
func handleEndTxn(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.EndTxnRequest)
	resp := kmsg.NewPtrEndTxnResponse()
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	coordinator, err := r.txnCoordinator()
	if err != nil {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	pe := txn.ProducerIDAndEpoch{ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch}
	end := coordinator.EndTxn
	if req.Version < 5 {
		end = coordinator.EndTxnVersion1
	}
	result, err := end(r.ctx, req.TransactionalID, pe, req.Commit)
	if err != nil {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = result.ProducerID, result.ProducerEpoch
	return resp, nil
}
