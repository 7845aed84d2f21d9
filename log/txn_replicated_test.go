package log_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// readCommitted reads topic's partition p from the start to its last stable
// offset as a read_committed consumer.
func readCommitted(t testing.TB, s *log.Store, topic string, p int32) []string {
	t.Helper()
	c, err := s.NewConsumer(log.ConsumerOptions{IsolationLevel: log.ReadCommitted})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Assign(tp(topic, p)))
	var out []string
	for {
		r, err := c.TryNext()
		require.NoError(t, err)
		if r == nil {
			return out
		}
		out = append(out, string(r.Value))
	}
}

// TestTxnReplicatedStoreCommitsAcrossAFailover: in a store of three brokers a
// transaction's records, markers and offsets go through the leaders; the leader
// of the output partition stops in the middle of a transaction, which then
// commits through the new leader, and the next transaction runs there.
func TestTxnReplicatedStoreCommitsAcrossAFailover(t *testing.T) {
	ctx := testContext(t)
	s := openBrokers(t, vfs.NewMem(), 3)
	config := log.TopicConfig{Partitions: 1, ReplicationFactor: 3, MinInsyncReplicas: 2}
	createTopic(t, s, "in", config)
	createTopic(t, s, "out", config)
	produce(t, s, "in", 0, 4)
	session, err := s.NewGroupTransactSession(
		log.GroupConsumerOptions{Group: "copier", Topics: []string{"in"}, MaxPollRecords: 2},
		log.ProducerOptions{TransactionalID: "copier-1", Linger: -1},
	)
	require.NoError(t, err)
	defer session.Close()
	for round := range 2 {
		require.NoError(t, session.Begin())
		records, err := session.Poll(ctx)
		require.NoError(t, err)
		require.Len(t, records, 2)
		for _, r := range records {
			require.NoError(t, session.ProduceSync(ctx, &log.Record{Topic: "out", Value: append([]byte("copy of "), r.Value...)}).FirstErr())
		}
		if round == 0 {
			require.Equal(t, []string(nil), readCommitted(t, s, "out", 0), "open: nothing committed yet")
			leader := describe(t, s, "out").Partitions[0].Leader
			require.NoError(t, s.StopBroker(leader))
		}
		committed, err := session.End(ctx, true)
		require.NoError(t, err)
		require.True(t, committed)
	}
	var want []string
	for i := range 4 {
		want = append(want, fmt.Sprintf("copy of in/%d", i))
	}
	require.Equal(t, want, readCommitted(t, s, "out", 0))
	offsets, err := s.CommittedOffsets(ctx, "copier", tp("in", 0))
	require.NoError(t, err)
	require.Equal(t, int64(4), offsets[tp("in", 0)].Offset)
}
