package kafka

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnStates are the states ListTransactions filters by (Kafka's names).
var txnStates = []string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

// handleListTransactions answers ListTransactions (kafka-transactions.sh list):
// every transactional id the store's coordinator knows, filtered by state,
// producer id and (v1+) how long the transaction has run. A store that never had
// a transactional producer has none, and creates nothing to say so. The
// transactional-id pattern (v2+, a Java regular expression) is matched as a
// literal prefix only where it ends in ".*"; otherwise exactly.
func handleListTransactions(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ListTransactionsRequest)
	resp := kmsg.NewPtrListTransactionsResponse()
	resp.Version = req.Version
	for _, s := range req.StateFilters {
		if !slices.Contains(txnStates, s) {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, s)
		}
	}
	if errors.Is(r.checkCoordinator(log.TransactionStateTopic), errNotCoordinator) {
		return resp, nil // another broker coordinates them all, as Kafka's lists its own
	}
	listings, err := r.store.ListTransactions()
	if err != nil || len(listings) == 0 {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	coordinator, err := r.store.TxnCoordinator()
	if err != nil {
		resp.ErrorCode, _ = errorCode(err)
		return resp, nil
	}
	now := time.Now()
	for _, l := range listings {
		md, err := coordinator.Describe(l.TransactionalID)
		if err != nil {
			continue // expired meanwhile
		}
		if !matchesTxnFilters(req, md, now) {
			continue
		}
		state := kmsg.NewListTransactionsResponseTransactionState()
		state.TransactionalID, state.ProducerID, state.TransactionState = md.TransactionalID, md.ProducerID, md.State.String()
		resp.TransactionStates = append(resp.TransactionStates, state)
	}
	return resp, nil
}

// matchesTxnFilters reports whether md passes req's filters.
func matchesTxnFilters(req *kmsg.ListTransactionsRequest, md txn.Metadata, now time.Time) bool {
	if len(req.StateFilters) > 0 && !slices.Contains(req.StateFilters, md.State.String()) {
		return false
	}
	if len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, md.ProducerID) {
		return false
	}
	if req.DurationFilterMillis >= 0 && req.Version >= 1 {
		if md.StartTime.IsZero() || now.Sub(md.StartTime).Milliseconds() < req.DurationFilterMillis {
			return false
		}
	}
	if req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		pattern := *req.TransactionalIDPattern
		if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
			return strings.HasPrefix(md.TransactionalID, prefix)
		}
		return md.TransactionalID == pattern
	}
	return true
}
