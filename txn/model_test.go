package txn

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var txnSchedules = flag.Int("txn.schedules", 0, "schedules of TestTransactionModel (seeds 1..N; 0: 200, or 5000 with STRATA_LONG=1)")

// modelInstance is one producer instance of a transactional id, as the model
// sees it.
type modelInstance struct {
	id         string
	cur        ProducerIDAndEpoch
	partitions []TopicPartition // added since its last end
	lastEnd    *modelEnd
}

// modelEnd is an EndTxn that succeeded, for its retry.
type modelEnd struct {
	producer ProducerIDAndEpoch
	commit   bool
	result   ProducerIDAndEpoch
}

// ackedCommit is a commit EndTxn acknowledged: its markers must all be commits.
type ackedCommit struct {
	producerID int64
	epoch      int16
	partitions []TopicPartition
}

// TestTransactionModel runs random schedules of producer instances (new ones
// fencing old ones, zombies carrying on, delayed EndTxn retries), marker
// failures, clock jumps with Tick, and crashes with restart, and checks after
// each schedule: every stored state change is one Kafka's state machine allows;
// the markers of one transaction (producer id and marker epoch) all carry one
// decision; every acknowledged commit has a commit marker on every partition it
// added; no request of a superseded identity ever succeeds, except a retried
// EndTxn answered as it was the first time. Replay one schedule with
// -run 'TestTransactionModel/seed=N'.
func TestTransactionModel(t *testing.T) {
	schedules := *txnSchedules
	if schedules == 0 {
		schedules = 200
		if os.Getenv("STRATA_LONG") == "1" {
			schedules = 5000
		}
	}
	violations := 0
	for seed := 1; seed <= schedules; seed++ {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runTransactionModel(t, uint64(seed)) })
		if !ok {
			violations++
		}
	}
	t.Logf("%d schedules, %d violations", schedules, violations)
}

func runTransactionModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 14))
	h := newHarness(t)
	ids := []string{"t1", "t2", "t3"}
	topics := []TopicPartition{tp("a", 0), tp("a", 1), tp("b", 0), tp("c", 0)}
	latest := map[string]ProducerIDAndEpoch{}
	var instances []*modelInstance
	var acked []ackedCommit
	superseded := func(in *modelInstance) bool { return latest[in.id] != in.cur }

	for step := range 150 {
		switch op := rng.IntN(20); {
		case op < 3: // a new instance
			id := ids[rng.IntN(len(ids))]
			p, err := h.c.InitProducerID(h.ctx, id, time.Duration(10+rng.IntN(50))*time.Second, nil)
			if err == nil {
				latest[id] = p
				instances = append(instances, &modelInstance{id: id, cur: p})
			} else {
				require.ErrorIs(t, err, ErrConcurrentTransactions, "step %d", step)
			}
		case op < 9 && len(instances) > 0: // add partitions
			in := instances[rng.IntN(len(instances))]
			added := []TopicPartition{topics[rng.IntN(len(topics))]}
			err := h.c.AddPartitionsToTxn(h.ctx, in.id, in.cur, added)
			if err == nil {
				require.False(t, superseded(in), "step %d: a superseded identity %v of %s added partitions", step, in.cur, in.id)
				in.partitions = append(in.partitions, added...)
			}
		case op < 13 && len(instances) > 0: // end
			in := instances[rng.IntN(len(instances))]
			commit := rng.IntN(3) > 0
			r, err := h.c.EndTxn(h.ctx, in.id, in.cur, commit)
			if err == nil {
				require.False(t, superseded(in), "step %d: a superseded identity %v of %s ended a transaction", step, in.cur, in.id)
				if commit {
					acked = append(acked, ackedCommit{in.cur.ProducerID, in.cur.ProducerEpoch + 1, slices.Clone(in.partitions)})
				}
				in.lastEnd = &modelEnd{producer: in.cur, commit: commit, result: r.ProducerIDAndEpoch}
				in.cur, in.partitions = r.ProducerIDAndEpoch, nil
				latest[in.id] = in.cur
			}
		case op < 15 && len(instances) > 0: // a delayed retry of an end
			in := instances[rng.IntN(len(instances))]
			if in.lastEnd == nil {
				continue
			}
			r, err := h.c.EndTxn(h.ctx, in.id, in.lastEnd.producer, in.lastEnd.commit)
			if err == nil {
				require.Equal(t, in.lastEnd.result, r.ProducerIDAndEpoch, "step %d: a retried EndTxn answered differently", step)
			}
		case op < 17: // markers fail (after some) or heal
			if rng.IntN(2) == 0 {
				h.markers.setFailAfter(rng.IntN(3))
			} else {
				h.markers.setFailAfter(-1)
			}
		case op < 19:
			h.clock.Advance(time.Duration(rng.IntN(30)) * time.Second)
			require.NoError(t, h.c.Tick(h.ctx))
		default:
			h.restart()
		}
	}
	// Heal, let every decided transaction finish.
	h.markers.setFailAfter(-1)
	require.NoError(t, h.c.Tick(h.ctx))

	for _, md := range h.c.List() {
		require.NotContains(t, []State{PrepareCommit, PrepareAbort}, md.State, "%s left decided", md.TransactionalID)
	}
	// One decision per transaction.
	decisions := map[[2]int64]bool{}
	for part, ms := range h.markers.written {
		for _, m := range ms {
			key := [2]int64{m.ProducerID, int64(m.ProducerEpoch)}
			if d, ok := decisions[key]; ok {
				require.Equal(t, d, m.Commit, "markers of producer %d epoch %d disagree (%s)", m.ProducerID, m.ProducerEpoch, part)
			}
			decisions[key] = m.Commit
		}
	}
	for _, c := range acked {
		for _, part := range c.partitions {
			found := false
			for _, m := range h.markers.written[part] {
				found = found || (m.ProducerID == c.producerID && m.ProducerEpoch == c.epoch && m.Commit)
			}
			require.True(t, found, "acknowledged commit of producer %d epoch %d has no marker on %s", c.producerID, c.epoch, part)
		}
	}
	// Every stored change is a transition of Kafka's state machine.
	states := map[string]State{}
	for _, r := range h.log.Records() {
		id, err := DecodeKey(r.Key)
		require.NoError(t, err)
		if r.Value == nil {
			delete(states, id)
			continue
		}
		md, err := DecodeValue(id, r.Value)
		require.NoError(t, err)
		if prev, ok := states[id]; ok {
			require.True(t, canTransition(prev, md.State), "%s: %s -> %s", id, prev, md.State)
		} else {
			require.Equal(t, Empty, md.State, "%s starts", id)
		}
		states[id] = md.State
	}
}
