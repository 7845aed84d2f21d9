package log

import (
	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/txn"
)

// GroupCoordinator returns the store's group coordinator, creating OffsetsTopic if
// the store has none yet, for a server answering Kafka's group APIs (JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ...): the same
// coordinator as GroupConsumers', so that a Kafka client and a GroupConsumer can be
// members of one group. The store owns it: do not Close it.
func (s *Store) GroupCoordinator() (*group.Coordinator, error) {
	return s.coordinatorFor(true)
}

// TxnCoordinator returns the store's transaction coordinator, creating
// TransactionStateTopic if the store has none yet, for a server answering Kafka's
// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
// DescribeTransactions and ListTransactions: the same coordinator as
// transactional Producers'. Its EndTxn bumps the producer epoch (transaction
// version 2, KIP-890). The store owns it: do not Close it.
func (s *Store) TxnCoordinator() (*txn.Coordinator, error) {
	return s.txnCoordinatorFor(true)
}
