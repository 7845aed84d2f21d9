package txn

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTransactionZombieFenced: a second instance with the same transactional id
// bumps the epoch; the first one's AddPartitions and EndTxn are refused with
// ErrProducerFenced, and the transaction it left open is aborted, with markers of
// an epoch above its own.
func TestTransactionZombieFenced(t *testing.T) {
	h := newHarness(t)
	zombie := h.init("tx")
	h.add("tx", zombie, tp("a", 0), tp("a", 1))

	fresh := h.init("tx")
	require.Equal(t, zombie.ProducerID, fresh.ProducerID)
	require.Greater(t, fresh.ProducerEpoch, zombie.ProducerEpoch+1, "the fence's epoch is the markers', never handed out")
	for _, part := range []TopicPartition{tp("a", 0), tp("a", 1)} {
		m, ok := h.markers.last(part)
		require.True(t, ok)
		require.False(t, m.Commit)
		require.Greater(t, m.ProducerEpoch, zombie.ProducerEpoch)
		require.Less(t, m.ProducerEpoch, fresh.ProducerEpoch)
	}
	md := h.state("tx")
	require.Equal(t, Empty, md.State)

	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", zombie, []TopicPartition{tp("a", 0)}), ErrProducerFenced)
	_, err := h.c.EndTxn(h.ctx, "tx", zombie, true)
	require.ErrorIs(t, err, ErrProducerFenced)
	// KIP-360: the zombie re-initializing with its old identity is fenced too.
	_, err = h.c.InitProducerID(h.ctx, "tx", 0, &zombie)
	require.ErrorIs(t, err, ErrProducerFenced)

	// The new instance works.
	h.add("tx", fresh, tp("b", 0))
	r := h.end("tx", fresh, true)
	require.True(t, r.Complete)
}

// TestTransactionInitRetryGetsTheSameEpoch: a producer re-initializing with its
// current identity bumps; repeating that call (its answer lost) gets the same
// epoch rather than fencing itself.
func TestTransactionInitRetryGetsTheSameEpoch(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	bumped, err := h.c.InitProducerID(h.ctx, "tx", 0, &p)
	require.NoError(t, err)
	require.Equal(t, p.ProducerEpoch+1, bumped.ProducerEpoch)
	again, err := h.c.InitProducerID(h.ctx, "tx", 0, &p)
	require.NoError(t, err)
	require.Equal(t, bumped, again)
}

// TestTransactionDelayedEndCannotTouchTheNext is the Bufstream anomaly KIP-890
// fixes: the EndTxn of transaction N, delayed (a retry after a lost answer)
// until transaction N+1 is under way, must not commit or abort N+1. With the
// epoch bumped at every end, N+1 runs at epoch e+1 and the delayed request, at e,
// is refused, and N+1 keeps its partitions.
func TestTransactionDelayedEndCannotTouchTheNext(t *testing.T) {
	for _, commit := range []bool{true, false} {
		h := newHarness(t)
		p := h.init("tx")
		h.add("tx", p, tp("a", 0))
		n1 := h.end("tx", p, commit).ProducerIDAndEpoch
		h.add("tx", n1, tp("b", 0))

		for _, delayed := range []bool{true, false} {
			_, err := h.c.EndTxn(h.ctx, "tx", p, delayed)
			require.ErrorIs(t, err, ErrProducerFenced)
		}
		md := h.state("tx")
		require.Equal(t, Ongoing, md.State)
		require.Equal(t, []TopicPartition{tp("b", 0)}, md.Partitions)
		_, marked := h.markers.last(tp("b", 0))
		require.False(t, marked)
		// The delayed AddPartitions of N is refused too.
		require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", p, []TopicPartition{tp("c", 0)}), ErrProducerFenced)
	}
}

// TestTransactionTimeoutAborts: an Ongoing transaction older than its timeout is
// aborted by Tick, its epoch fenced: the producer's EndTxn is refused, its
// partitions get abort markers, and its next InitProducerID starts afresh.
func TestTransactionTimeoutAborts(t *testing.T) {
	h := newHarness(t)
	p, err := h.c.InitProducerID(h.ctx, "tx", 10*time.Second, nil)
	require.NoError(t, err)
	h.add("tx", p, tp("a", 0))
	h.clock.Advance(10 * time.Second)
	require.NoError(t, h.c.Tick(h.ctx))
	require.Equal(t, Ongoing, h.state("tx").State, "not older than its timeout yet")
	h.clock.Advance(time.Millisecond)
	require.NoError(t, h.c.Tick(h.ctx))
	md := h.state("tx")
	require.Equal(t, CompleteAbort, md.State)
	m, ok := h.markers.last(tp("a", 0))
	require.True(t, ok)
	require.Equal(t, Marker{Partition: tp("a", 0), ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch + 2, Commit: false, TransactionVersion: 2}, m)
	_, err = h.c.EndTxn(h.ctx, "tx", p, true)
	require.ErrorIs(t, err, ErrProducerFenced)
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", p, []TopicPartition{tp("a", 0)}), ErrProducerFenced)
	next := h.init("tx")
	require.Equal(t, p.ProducerEpoch+3, next.ProducerEpoch)
}

// TestTransactionEpochExhaustionRotatesTheProducerID: at the last epochs the
// end's bump moves the id to a new producer id at epoch 0 (NextProducerID, then
// PreviousProducerID), and a retry of that end is still recognised.
func TestTransactionEpochExhaustionRotatesTheProducerID(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	// Set the epoch near the end, as many transactions would.
	h.c.mu.Lock()
	h.c.mu.entries["tx"].md.ProducerEpoch = 1<<15 - 3
	h.c.mu.Unlock()
	p.ProducerEpoch = 1<<15 - 3
	h.add("tx", p, tp("a", 0))
	p = h.end("tx", p, true).ProducerIDAndEpoch
	require.Equal(t, int16(1<<15-2), p.ProducerEpoch)
	h.add("tx", p, tp("a", 0))
	r := h.end("tx", p, true)
	require.NotEqual(t, p.ProducerID, r.ProducerID)
	require.Equal(t, int16(0), r.ProducerEpoch)
	m, _ := h.markers.last(tp("a", 0))
	require.Equal(t, Marker{Partition: tp("a", 0), ProducerID: p.ProducerID, ProducerEpoch: 1<<15 - 1, Commit: true, TransactionVersion: 2}, m)
	md := h.state("tx")
	require.Equal(t, p.ProducerID, md.PreviousProducerID)
	again, err := h.c.EndTxn(h.ctx, "tx", p, true)
	require.NoError(t, err)
	require.Equal(t, r.ProducerIDAndEpoch, again.ProducerIDAndEpoch)
	// A restart reads the rotated id back.
	h.restart()
	require.Equal(t, r.ProducerID, h.state("tx").ProducerID)
	h.add("tx", r.ProducerIDAndEpoch, tp("b", 0))
}

// TestTransactionalIDExpires: an id idle for the expiration is removed with a
// tombstone, and stays removed after a restart; an id in a transaction is not.
func TestTransactionalIDExpires(t *testing.T) {
	h := newHarness(t)
	h.init("idle")
	busy := h.init("busy")
	h.add("busy", busy, tp("a", 0))
	h.clock.Advance(DefaultTransactionalIDExpiration)
	// busy's transaction times out and is aborted at this Tick, which updates it.
	require.NoError(t, h.c.Tick(h.ctx))
	_, err := h.c.Describe("idle")
	require.ErrorIs(t, err, ErrTransactionalIDNotFound)
	require.Equal(t, CompleteAbort, h.state("busy").State)
	records := h.log.Records()
	last := records[len(records)-1]
	require.Equal(t, EncodeKey("idle"), last.Key)
	require.Nil(t, last.Value)
	h.restart()
	_, err = h.c.Describe("idle")
	require.ErrorIs(t, err, ErrTransactionalIDNotFound)
	require.Len(t, h.c.List(), 1)
	// A new instance of the expired id gets a new producer id.
	p := h.init("idle")
	require.NotEqual(t, busy.ProducerID, p.ProducerID)
}

// TestTransactionFenceAtTheLastEpochsRotates: fencing a producer whose epoch has
// no two epochs left above it takes a new producer id for the abort's completion,
// so that no epoch overflows; the new instance starts at epoch 0 of that id.
func TestTransactionFenceAtTheLastEpochsRotates(t *testing.T) {
	h := newHarness(t)
	old := h.init("tx")
	h.c.mu.Lock()
	h.c.mu.entries["tx"].md.ProducerEpoch = 1<<15 - 2
	h.c.mu.Unlock()
	old.ProducerEpoch = 1<<15 - 2
	h.add("tx", old, tp("a", 0))
	fresh := h.init("tx")
	m, _ := h.markers.last(tp("a", 0))
	require.Equal(t, Marker{Partition: tp("a", 0), ProducerID: old.ProducerID, ProducerEpoch: 1<<15 - 1, Commit: false, TransactionVersion: 2}, m)
	require.NotEqual(t, old.ProducerID, fresh.ProducerID)
	require.Equal(t, int16(1), fresh.ProducerEpoch, "epoch 0 of the new id completed the abort; the instance bumps it")
	require.ErrorIs(t, h.c.AddPartitionsToTxn(h.ctx, "tx", old, []TopicPartition{tp("a", 0)}), ErrInvalidProducerIDMapping)
	h.add("tx", fresh, tp("a", 0))
}

// TestTransactionOptionsInvalid: invalid options are refused, naming the field.
func TestTransactionOptionsInvalid(t *testing.T) {
	_, err := Open(context.Background(), &Options{MaxTransactionTimeout: -time.Second})
	require.ErrorIs(t, err, ErrInvalidArgument)
	require.ErrorContains(t, err, "MaxTransactionTimeout")
}

// TestTransactionReinitWithThePreEndEpochKeepsTheCurrentOne: a producer that
// ended a transaction (the epoch bumped, KIP-890) and then re-initializes with
// the epoch it ended with, as kgo does when it opts into transaction version 2
// mid-session, is answered as a retry of a successful call: the current epoch,
// not fenced (Kafka's prepareIncrementProducerEpoch: the expected epoch matches
// lastProducerEpoch, the epoch before EndTxn's bump).
func TestTransactionReinitWithThePreEndEpochKeepsTheCurrentOne(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	h.add("tx", p, tp("a", 0))
	r, err := h.c.EndTxn(h.ctx, "tx", p, true)
	require.NoError(t, err)
	require.Equal(t, p.ProducerEpoch+1, r.ProducerEpoch)

	again, err := h.c.InitProducerID(h.ctx, "tx", time.Minute, &p)
	require.NoError(t, err)
	require.Equal(t, r.ProducerIDAndEpoch, again)
	h.add("tx", again, tp("a", 0))
	_, err = h.c.EndTxn(h.ctx, "tx", again, true)
	require.NoError(t, err)
}

// TestTransactionEmptyAbortBumpsTheEpoch: under transaction version 2 an abort
// of a transaction to which nothing was added (a consumer that quit before
// producing) succeeds and bumps the epoch, as Kafka's coordinator and kgo expect;
// its retry gets the same answer. A commit of nothing stays INVALID_TXN_STATE.
func TestTransactionEmptyAbortBumpsTheEpoch(t *testing.T) {
	h := newHarness(t)
	p := h.init("tx")
	_, err := h.c.EndTxn(h.ctx, "tx", p, true)
	require.ErrorIs(t, err, ErrInvalidTxnState)

	r, err := h.c.EndTxn(h.ctx, "tx", p, false)
	require.NoError(t, err)
	require.Equal(t, p.ProducerEpoch+1, r.ProducerEpoch)
	again, err := h.c.EndTxn(h.ctx, "tx", p, false)
	require.NoError(t, err, "a retry")
	require.Equal(t, r, again)

	// After a completed transaction too.
	h.add("tx", r.ProducerIDAndEpoch, tp("a", 0))
	done, err := h.c.EndTxn(h.ctx, "tx", r.ProducerIDAndEpoch, true)
	require.NoError(t, err)
	empty, err := h.c.EndTxn(h.ctx, "tx", done.ProducerIDAndEpoch, false)
	require.NoError(t, err)
	require.Equal(t, done.ProducerEpoch+1, empty.ProducerEpoch)
	require.Equal(t, CompleteAbort, h.state("tx").State)
}
