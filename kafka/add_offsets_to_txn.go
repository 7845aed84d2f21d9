package kafka

import (
	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleAddOffsetsToTxn answers AddOffsetsToTxn: the group's __consumer_offsets
// partition joins the producer's transaction, so that the offsets it commits
// there (TxnOffsetCommit) get the transaction's marker.
func handleAddOffsetsToTxn(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.AddOffsetsToTxnRequest)
	resp := kmsg.NewPtrAddOffsetsToTxnResponse()
	resp.Version = req.Version
	coordinator, err := r.txnCoordinator()
	if err == nil {
		pe := txn.ProducerIDAndEpoch{ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch}
		err = coordinator.AddOffsetsToTxn(r.ctx, req.TransactionalID, pe, req.Group)
	}
	resp.ErrorCode, _ = errorCode(err)
	return resp, nil
}
