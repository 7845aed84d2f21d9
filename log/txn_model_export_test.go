package log

import "github.com/stratalog/strata/txn"

// TxnCoordinator returns the store's transaction coordinator, nil if it has
// not started (for tests that replay a request with a stale epoch, as a delayed
// network packet would).
func TxnCoordinator(s *Store) *txn.Coordinator {
	return s.txnCoordinator.Load()
}
