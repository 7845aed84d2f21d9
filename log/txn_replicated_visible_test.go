package log_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestTxnReplicatedCommitIsVisibleWhenCommitReturns: in a store of three
// brokers, once CommitTransaction returns, read_committed readers see the
// transaction (its markers are below the high watermark of every partition).
func TestTxnReplicatedCommitIsVisibleWhenCommitReturns(t *testing.T) {
	ctx := testContext(t)
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "out", log.TopicConfig{Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
	p := newTxnProducer(t, s, "v")
	for round := range 20 {
		require.NoError(t, p.BeginTransaction())
		produceTxn(t, p, "out", 2, "a", "b")
		require.NoError(t, p.CommitTransaction(ctx))
		for i := range int32(2) {
			require.Len(t, readCommitted(t, s, "out", i), round+1, "round %d partition %d", round, i)
		}
	}
}
