package replica

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stretchr/testify/require"
)

// Kafka's EpochDrivenReplicationProtocolAcceptanceTest, KIP-101's two data-loss
// scenarios and Jepsen's 2013 Kafka scenario, ported. Kafka's tests use two brokers,
// 100 and 101; here they are 0 and 1. Kafka acknowledges before fsyncing, so the
// scenarios that lose an unflushed tail run with SyncNone, as Kafka does.

// kafkaSync is Kafka's flush behaviour: the page cache holds what is acknowledged.
var kafkaSync = partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}}

func epochsOf(pairs ...int64) []partition.EpochEntry {
	var out []partition.EpochEntry
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, partition.EpochEntry{Epoch: int32(pairs[i]), StartOffset: pairs[i+1]})
	}
	return out
}

// lastEpoch returns the leader epoch of the last batch of a replica's log.
func lastEpoch(t *testing.T, r *Replica) int32 {
	b := logBytes(t, r)
	epoch := int32(-2)
	for pos := 0; pos < len(b); {
		h, err := parseHeader(b[pos:])
		require.NoError(t, err)
		epoch = h.PartitionLeaderEpoch
		pos += h.Size()
	}
	return epoch
}

func TestKafkaShouldFollowLeaderEpochBasicWorkflow(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, partition.Options{})
	p := sc.create("topic1-0", []BrokerID{0, 1}, Config{})
	sc.produce(p, AcksAll, "m0")
	leader, follower := p.Replica(0), p.Replica(1)
	require.Equal(t, int32(0), lastEpoch(t, leader))
	require.Equal(t, int32(0), lastEpoch(t, follower))
	require.Equal(t, epochsOf(0, 0), sc.epochs(leader))
	require.Equal(t, epochsOf(0, 0), sc.epochs(follower))

	// Bouncing the follower changes no epoch (KRaft bumps the leader epoch only
	// when the leader changes).
	sc.bounce(1)
	sc.replicate()
	require.Equal(t, epochsOf(0, 0), sc.epochs(p.Replica(0)))
	require.Equal(t, epochsOf(0, 0), sc.epochs(p.Replica(1)))

	// Bouncing the leader: broker 1 leads at epoch 1, from offset 1.
	sc.bounce(0)
	sc.replicate()
	require.Equal(t, BrokerID(1), p.State().Leader)
	require.Equal(t, epochsOf(0, 0, 1, 1), sc.epochs(p.Replica(1)))
	require.Equal(t, epochsOf(0, 0), sc.epochs(p.Replica(0)), "no replication yet")
	sc.produce(p, AcksAll, "m1")
	require.Equal(t, epochsOf(0, 0, 1, 1), sc.epochs(p.Replica(0)))
	require.Equal(t, int32(1), lastEpoch(t, p.Replica(0)))
	require.Equal(t, int32(1), lastEpoch(t, p.Replica(1)))

	// Leadership back to broker 0: epoch 2, from offset 2.
	n, err := sc.c.ElectPreferred()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, epochsOf(0, 0, 1, 1, 2, 2), sc.epochs(p.Replica(0)))
	require.Equal(t, epochsOf(0, 0, 1, 1), sc.epochs(p.Replica(1)))
	sc.produce(p, AcksAll, "m2")
	require.Equal(t, int32(2), lastEpoch(t, p.Replica(0)))
	require.Equal(t, int32(2), lastEpoch(t, p.Replica(1)))
	require.Equal(t, sc.epochs(p.Replica(0)), sc.epochs(p.Replica(1)))
}

func TestKafkaShouldNotAllowDivergentLogs(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, kafkaSync)
	p := sc.create("topic1-0", []BrokerID{0, 1}, Config{})
	for i := range 5 {
		sc.produce(p, AcksAll, fmt.Sprint(i))
	}
	require.NoError(t, p.Replica(0).log.Sync(context.Background()))
	for i := 5; i < 10; i++ {
		sc.produce(p, AcksAll, fmt.Sprint(i))
	}
	// Broker 1 stops first, so that broker 0 leads last; broker 0 then loses its
	// unflushed tail, the last five records, in a power loss.
	sc.stop(1)
	sc.crash(0)
	sc.start(0)
	require.Equal(t, BrokerID(0), p.State().Leader)
	require.Equal(t, int64(5), p.Replica(0).log.WrittenOffset())
	for i := 11; i < 20; i++ {
		sc.produce(p, AcksLeader, fmt.Sprint(i))
	}
	sc.start(1)
	sc.replicate()
	require.Equal(t, logBytes(t, p.Replica(0)), logBytes(t, p.Replica(1)), "logs diverge")
	require.Equal(t, int64(14), p.Replica(1).log.WrittenOffset())
}

func TestKafkaOffsetsShouldNotGoBackwards(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, kafkaSync)
	p := sc.create("topic1-0", []BrokerID{0, 1}, Config{})
	for i := range 100 {
		sc.produce(p, AcksAll, fmt.Sprint(i))
		if i == 49 {
			require.NoError(t, p.Replica(0).log.Sync(context.Background()))
		}
	}
	sc.stop(1)
	sc.crash(0) // half the log is lost
	sc.start(0)
	require.Equal(t, int64(50), p.Replica(0).log.WrittenOffset())
	// Two large batches: the follower's log end (100) falls in the middle of the
	// first, which, copied whole, would make offsets go backwards without epochs.
	big := make([]string, 77)
	for i := range big {
		big[i] = fmt.Sprint("big-", i)
	}
	sc.produce(p, AcksLeader, big...)
	sc.produce(p, AcksLeader, big...)
	sc.start(1)
	sc.replicate()
	require.Equal(t, logBytes(t, p.Replica(0)), logBytes(t, p.Replica(1)))
	sc.stop(0)
	values := sc.values(p.Replica(1))
	require.Len(t, values, 204)
	for i, v := range values {
		require.True(t, strings.HasPrefix(v, fmt.Sprint(i, ":")), "record %d is %s", i, v)
	}
}

func TestKafkaShouldSurviveFastLeaderChange(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, partition.Options{})
	p := sc.create("topic1-0", []BrokerID{0, 1}, Config{})
	sc.produce(p, AcksAll, "first")
	written := int64(1)
	for i := range 5 {
		leader := p.State().Leader
		follower := 1 - leader
		sc.produce(p, AcksAll, fmt.Sprint(i))
		written++
		sc.bounce(follower)
		sc.replicate()
		sc.bounce(leader)
		sc.replicate()
		for id, r := range p.Replicas() {
			require.Equal(t, written, r.log.WrittenOffset(), "broker %d, round %d", id, i)
		}
		require.Len(t, p.State().ISR, 2)
	}
}

func TestKafkaLogsShouldNotDivergeOnUncleanLeaderElections(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, kafkaSync)
	p := sc.create("topic1-0", []BrokerID{0, 1}, Config{MinInsyncReplicas: 1, UncleanLeaderElection: true})
	big := strings.Repeat("x", 10000)
	sc.produce(p, AcksLeader, "a")
	sc.replicate()
	require.Equal(t, logBytes(t, p.Replica(0)), logBytes(t, p.Replica(1)))
	sc.stop(0)
	sc.produce(p, AcksLeader, "b")
	sc.stop(1)
	sc.start(0) // elected uncleanly: broker 1 had "b"
	require.Equal(t, BrokerID(0), p.State().Leader)
	for range 3 {
		sc.produce(p, AcksLeader, big)
	}
	sc.stop(0)
	sc.start(1)
	require.Equal(t, BrokerID(1), p.State().Leader)
	sc.produce(p, AcksLeader, "c")
	sc.stop(1)
	sc.start(0)
	require.Equal(t, BrokerID(0), p.State().Leader)
	sc.produce(p, AcksLeader, big, big)
	sc.start(1)
	sc.replicate()
	require.Equal(t, logBytes(t, p.Replica(0)), logBytes(t, p.Replica(1)), "logs diverge")
}

// TestKIP101ScenarioTruncationToHighWatermark: a follower restarts while its high
// watermark lags the leader's, then the leader fails. Truncating to the high
// watermark on restart (Kafka before KIP-101) lost the acknowledged m2.
func TestKIP101ScenarioTruncationToHighWatermark(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, partition.Options{})
	lossy := &responseDropper{Network: sc.net}
	sc.c.env.transport = lossy
	p := sc.create("t-0", []BrokerID{0, 1}, Config{})
	sc.produce(p, AcksAll, "m1")
	leader := p.Replica(0)
	base, end, epoch, err := leader.appendAsLeader(context.Background(), []partition.Record{{Value: []byte("m2")}}, AcksAll)
	require.NoError(t, err)
	require.Equal(t, int64(1), base)
	follower := p.Replica(1)
	require.NoError(t, follower.fetchOnce(context.Background(), 0)) // copies m2
	lossy.drop = true                                               // the leader records the follower at 2, the answer is lost
	require.Error(t, follower.fetchOnce(context.Background(), 0))
	lossy.drop = false
	leader.mu.Lock()
	leader.updateHighWatermarkLocked()
	done, _, err := leader.ackStatusLocked(end, epoch)
	leader.mu.Unlock()
	require.NoError(t, err)
	require.True(t, done, "m2 is acknowledged")
	require.Equal(t, int64(1), follower.log.HighWatermark(), "the follower's high watermark lags")

	// The follower restarts: it must keep m2, above its high watermark.
	sc.bounce(1)
	require.Equal(t, []string{"0:m1", "1:m2"}, sc.values(p.Replica(1)))
	sc.replicate()
	require.Equal(t, []BrokerID{0, 1}, p.State().ISR)
	sc.stop(0)
	require.Equal(t, BrokerID(1), p.State().Leader)
	require.Equal(t, []string{"0:m1", "1:m2"}, sc.values(p.Replica(1)))
	sc.start(0)
	sc.replicate()
	require.Equal(t, []string{"0:m1", "1:m2"}, sc.values(p.Replica(0)))
}

// TestKIP101ScenarioDivergenceAfterFailover: the leader wrote m2, which its
// follower never copied; the leader fails, the follower leads and writes m3 at the
// same offset. When the old leader returns it must give up m2 for m3 (Kafka before
// KIP-101 kept both logs, diverged at offset 1).
func TestKIP101ScenarioDivergenceAfterFailover(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1}, kafkaSync)
	p := sc.create("t-0", []BrokerID{0, 1}, Config{})
	sc.produce(p, AcksAll, "m1")
	require.NoError(t, p.Replica(1).log.Sync(context.Background()))
	sc.produce(p, AcksLeader, "m2")
	require.NoError(t, p.Replica(0).log.Sync(context.Background()))
	sc.crash(0)
	sc.crash(1)
	sc.start(1)
	sc.start(0)
	require.Equal(t, BrokerID(1), p.State().Leader)
	sc.produce(p, AcksLeader, "m3")
	sc.replicate()
	require.Equal(t, []string{"0:m1", "1:m3"}, sc.values(p.Replica(0)))
	require.Equal(t, logBytes(t, p.Replica(1)), logBytes(t, p.Replica(0)))
}

// TestJepsen2013ISRShrinksToLeader: the ISR shrinks to the leader alone (its
// followers cut off), the leader acknowledges writes with acks=all (min ISR 1), then
// fails. A clean election must not take a follower that left the ISR; the partition
// waits for the leader, and the acknowledged write survives. With unclean elections
// opted into, a follower leads and the write is lost, as documented.
func TestJepsen2013ISRShrinksToLeader(t *testing.T) {
	for _, unclean := range []bool{false, true} {
		t.Run(fmt.Sprint("unclean=", unclean), func(t *testing.T) {
			sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
			p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 1, UncleanLeaderElection: unclean})
			sc.produce(p, AcksAll, "before")
			sc.net.Cut(0, 1, true)
			sc.net.Cut(0, 2, true)
			sc.now = sc.now.Add(DefaultReplicaLagTime + 1)
			sc.c.checkISRs()
			require.Equal(t, []BrokerID{0}, p.State().ISR)
			sc.produce(p, AcksAll, "acked-by-the-leader-alone")
			sc.stop(0)
			if !unclean {
				_, err := p.Leader()
				require.ErrorIs(t, err, ErrNoLeader)
				require.Equal(t, []BrokerID{0}, p.State().ELR)
				sc.net.Cut(0, 1, false)
				sc.net.Cut(0, 2, false)
				sc.start(0)
				sc.replicate()
				for id, r := range p.Replicas() {
					require.Equal(t, []string{"0:before", "1:acked-by-the-leader-alone"}, sc.values(r), "broker %d", id)
				}
				return
			}
			require.Equal(t, BrokerID(1), p.State().Leader)
			require.Equal(t, []string{"0:before"}, sc.values(p.Replica(1)), "the unclean leader lacks the acknowledged write")
		})
	}
}

// responseDropper is a Network that can lose the answer of a fetch the leader
// handled.
type responseDropper struct {
	*Network
	drop bool
}

func (d *responseDropper) Fetch(ctx context.Context, from, to BrokerID, req *FetchRequest) (*FetchResponse, error) {
	resp, err := d.Network.Fetch(ctx, from, to, req)
	if d.drop {
		return nil, ErrBrokerOffline
	}
	return resp, err
}
