package log

import (
	"context"

	"github.com/stratalog/strata/partition"
)

// TxnPartition returns the open partition tp of a one-broker store (for tests
// that read it at an isolation level, or check its last stable offset).
func TxnPartition(s *Store, tp TopicPartition) (*partition.Partition, error) {
	return s.lookupPartition(tp)
}

// TickTransactions runs the transaction coordinator's Tick now (timeouts,
// marker retries, id expiry), if it runs.
func TickTransactions(ctx context.Context, s *Store) error {
	c := s.txnCoordinator.Load()
	if c == nil {
		return nil
	}
	return c.Tick(ctx)
}
