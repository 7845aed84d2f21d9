package kafka

import (
	"time"

	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleInitProducerID answers InitProducerId through the store's transaction
// coordinator: without a transactional id, an idempotent producer's new producer
// id at epoch 0; with one, the id's producer id and bumped epoch, fencing the
// previous instance (and aborting its open transaction); with the producer's
// current id and epoch (v3+, KIP-360), a re-initialization after an error.
func handleInitProducerID(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := kmsg.NewPtrInitProducerIDResponse()
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	id := ""
	if req.TransactionalID != nil {
		id = *req.TransactionalID
	}
	// A transactional id is the coordinator's (NOT_COORDINATOR from another
	// broker); an idempotent producer's id comes from any broker, as on Kafka.
	coordinator, err := r.store.TxnCoordinator()
	if id != "" {
		coordinator, err = r.txnCoordinator()
	}
	if err != nil {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	var expected *txn.ProducerIDAndEpoch
	if req.Version >= 3 && req.ProducerID >= 0 {
		expected = &txn.ProducerIDAndEpoch{ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch}
	}
	timeout := time.Duration(req.TransactionTimeoutMillis) * time.Millisecond
	if id != "" && timeout <= 0 {
		timeout = -1 // refused by the coordinator as Kafka refuses it
	}
	pe, err := coordinator.InitProducerID(r.ctx, id, timeout, expected)
	if err != nil {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = pe.ProducerID, pe.ProducerEpoch
	return resp, nil
}
