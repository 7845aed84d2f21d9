package replica

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
)

// TestIdempotentRetryAtTheNewLeaderIsADuplicate: a batch with a producer identity
// is written by the leader and copied by one follower, but not acknowledged (the
// other follower has not fetched it: the high watermark waits); the leader stops.
// The retry of the same batch through the new leader, which copied it, writes
// nothing and is answered with the original offsets once they are acknowledged.
// A next batch of the producer follows, once.
func TestIdempotentRetryAtTheNewLeaderIsADuplicate(t *testing.T) {
	ctx := context.Background()
	sc := newScenario(t, []BrokerID{0, 1, 2}, kafkaSync)
	p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	sc.produce(p, AcksAll, "m0")
	producer := &partition.Producer{ID: 7, BaseSequence: 0}
	batch := []partition.Record{{Value: []byte("m1")}, {Value: []byte("m2")}}

	base, end, _, err := p.Replica(0).appendAsLeaderWith(ctx, batch, AcksAll, producer)
	require.NoError(t, err)
	require.Equal(t, int64(1), base)
	require.NoError(t, p.Replica(1).fetchOnce(ctx, 0)) // broker 1 copies it, broker 2 does not
	require.Less(t, p.Replica(0).log.HighWatermark(), end, "not acknowledged")
	sc.stop(0)
	require.Equal(t, BrokerID(1), p.State().Leader)

	retried, retriedEnd, _, err := p.Replica(1).appendAsLeaderWith(ctx, batch, AcksAll, producer)
	require.NoError(t, err)
	require.Equal(t, base, retried, "the original's first offset")
	require.Equal(t, end, retriedEnd, "the original's end: the acknowledgement waits for it")
	sc.replicate()
	retried, err = p.ProduceWith(ctx, batch, AcksAll, producer)
	require.NoError(t, err)
	require.Equal(t, base, retried)

	next, err := p.ProduceWith(ctx, batch[:1], AcksNone, &partition.Producer{ID: 7, BaseSequence: 2})
	require.NoError(t, err)
	require.Equal(t, int64(3), next)
	sc.replicate()
	require.Equal(t, []string{"0:m0", "1:m1", "2:m2", "3:m1"}, sc.values(p.Replica(1)))
	require.Equal(t, sc.values(p.Replica(1)), sc.values(p.Replica(2)))
}
