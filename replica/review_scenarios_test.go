package replica

import (
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stretchr/testify/require"
)

// Scenarios found in review: each failed before the fix named in its commit.

// TestLoweredMinISRClearsTheELR: an eligible leader replica (ELR) holds every
// committed record only because the high watermark cannot advance while the ISR is
// below min.insync.replicas. Lowering min.insync.replicas to the ISR's size lets the
// high watermark advance without the ELR members, so they must leave the ELR then,
// as they do when the ISR grows back to min.insync.replicas; otherwise a clean
// election may take one of them and lose acknowledged records.
func TestLoweredMinISRClearsTheELR(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 3})
	sc.produce(p, AcksAll, "a")
	sc.stop(2)
	require.Equal(t, []BrokerID{0, 1}, p.State().ISR)
	require.Equal(t, []BrokerID{2}, p.State().ELR)

	s, err := sc.c.Controller().SetConfig("t-0", Config{MinInsyncReplicas: 2})
	require.NoError(t, err)
	sc.c.applyAll(map[string]State{"t-0": s})
	require.Empty(t, p.State().ELR, "broker 2 misses what the high watermark passes from now on")

	sc.produce(p, AcksAll, "b") // acknowledged by brokers 0 and 1
	sc.stop(1)
	sc.stop(0)
	sc.start(2)
	if _, err := p.Leader(); err == nil {
		require.NotEqual(t, BrokerID(2), p.State().Leader, "broker 2 lacks the acknowledged record")
	}
	sc.start(0)
	sc.start(1)
	sc.replicate()
	leader, err := p.Leader()
	require.NoError(t, err)
	require.Equal(t, []string{"0:a", "1:b"}, sc.values(leader))
}
