package kafka

import (
	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleEndTxn answers EndTxn: the store's coordinator stores the decision with
// the producer's epoch bumped (transaction version 2, KIP-890), writes the
// markers and the completion, and v5+ answers the producer id and epoch of the
// next transaction. strata's coordinator speaks transaction version 2 only
// (ApiVersions finalizes transaction.version 2): a client that ends with EndTxn
// v4 or below expects no bump, and finds itself fenced at its next transaction.
func handleEndTxn(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.EndTxnRequest)
	resp := kmsg.NewPtrEndTxnResponse()
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	coordinator, err := r.store.TxnCoordinator()
	if err != nil {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	pe := txn.ProducerIDAndEpoch{ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch}
	result, err := coordinator.EndTxn(r.ctx, req.TransactionalID, pe, req.Commit)
	if err != nil {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = result.ProducerID, result.ProducerEpoch
	return resp, nil
}
