package replica

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
)

// TestTxnMarkerAboveHighWatermarkUndecidedAfterRestart: the leader writes a
// COMMIT marker that no follower copies, the ISR falls to the leader alone (the
// high watermark stops below the marker), and the leader restarts and leads
// again. Its marker is still above the high watermark, where a failover may take
// it away (an eligible leader replica lacks it): the transaction is not decided
// yet, and the last stable offset must stay below it, as before the restart,
// whether the producer state comes back from the snapshot of a clean shutdown,
// from a snapshot taken at a roll above the high watermark, or from a replay of
// the log. Once the followers copy the marker, the transaction is decided.
func TestTxnMarkerAboveHighWatermarkUndecidedAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		restart func(sc *scenario, r *Replica)
	}{
		{"bounce", func(sc *scenario, r *Replica) { sc.bounce(0) }},
		{"crash", func(sc *scenario, r *Replica) { sc.crash(0); sc.start(0) }},
		{"roll then crash", func(sc *scenario, r *Replica) {
			require.NoError(sc.t, r.log.Roll())
			sc.produce(sc.parts["orders-0"], AcksLeader, "b")
			sc.crash(0)
			sc.start(0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
			p := sc.create("orders-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
			sc.produce(p, AcksAll, "a")
			require.Equal(t, int64(1), sc.produceTxn(p, txnProducer(3, 0, 0), "x"))
			sc.stop(2)
			offset, _, err := p.Replica(0).appendMarkerAsLeader(t.Context(), commitOf(3, 0))
			require.NoError(t, err)
			require.Equal(t, int64(2), offset)
			sc.stop(1)
			require.Equal(t, []BrokerID{0}, p.State().ISR)
			require.Equal(t, int64(2), p.Replica(0).log.HighWatermark())
			require.Equal(t, map[BrokerID]int64{0: 1}, sc.checkStable(p), "the marker is above the high watermark")

			tc.restart(sc, p.Replica(0))
			require.Equal(t, BrokerID(0), p.State().Leader)
			leader := p.Replica(0)
			require.Equal(t, int64(2), leader.log.HighWatermark())
			require.Equal(t, map[BrokerID]int64{0: 1}, sc.checkStable(p), "the marker is still above the high watermark")
			require.Equal(t, []string{"0:a"}, sc.committedValues(leader))

			sc.start(1)
			sc.start(2)
			sc.replicate()
			end := leader.log.WrittenOffset()
			require.Equal(t, end, leader.log.HighWatermark())
			require.Equal(t, map[BrokerID]int64{0: end, 1: end, 2: end}, sc.checkStable(p))
			for _, r := range p.sortedReplicas() {
				require.Equal(t, []string{"0:a", "1:x"}, sc.committedValues(r)[:2], "broker %d", r.broker)
			}
		})
	}
}
