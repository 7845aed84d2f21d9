package txn

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// failingLog is a MemoryLog whose appends fail once failAfter more have succeeded
// (failAfter < 0: never).
type failingLog struct {
	MemoryLog
	failAfter int
}

var errLogWrite = errors.New("log write failed")

func (l *failingLog) Append(ctx context.Context, records []Record) error {
	if l.failAfter == 0 {
		return errLogWrite
	}
	if l.failAfter > 0 {
		l.failAfter--
	}
	return l.MemoryLog.Append(ctx, records)
}

// TestTransactionRecoveryFromPrepare: for each decision, and a crash after every
// number of markers written (the marker writer fails midway, then the process
// stops), a coordinator opened on the stored records writes the markers again and
// completes: every partition ends with the decision's marker (all or nothing),
// the id is Complete*, and the producer continues with the bumped epoch.
func TestTransactionRecoveryFromPrepare(t *testing.T) {
	partitions := []TopicPartition{tp("a", 0), tp("a", 1), tp("b", 0), tp("__consumer_offsets", 0)}
	for _, commit := range []bool{true, false} {
		for written := range len(partitions) {
			t.Run(fmt.Sprintf("commit=%v/markers=%d", commit, written), func(t *testing.T) {
				h := newHarness(t)
				p := h.init("tx")
				h.add("tx", p, partitions[:3]...)
				require.NoError(t, h.c.AddOffsetsToTxn(h.ctx, "tx", p, "g"))
				h.markers.setFailAfter(written)
				r := h.end("tx", p, commit)
				require.False(t, r.Complete)
				decided := PrepareAbort
				if commit {
					decided = PrepareCommit
				}
				require.Equal(t, decided, h.state("tx").State)

				// Crash: the coordinator is gone; the markers work again.
				h.markers.setFailAfter(-1)
				h.restart()
				md := h.state("tx")
				if commit {
					require.Equal(t, CompleteCommit, md.State)
				} else {
					require.Equal(t, CompleteAbort, md.State)
				}
				for _, part := range partitions {
					m, ok := h.markers.last(part)
					require.True(t, ok, part)
					require.Equal(t, Marker{Partition: part, ProducerID: p.ProducerID, ProducerEpoch: r.ProducerEpoch, Commit: commit, TransactionVersion: 2}, m)
				}
				h.add("tx", r.ProducerIDAndEpoch, tp("c", 0))
			})
		}
	}
}

// TestTransactionRecoveryFromAFencedAbort: the abort that fences a previous
// instance, interrupted between markers, is finished by the restarted
// coordinator, and the new instance's InitProducerID then succeeds.
func TestTransactionRecoveryFromAFencedAbort(t *testing.T) {
	h := newHarness(t)
	old := h.init("tx")
	h.add("tx", old, tp("a", 0), tp("a", 1))
	h.markers.setFailAfter(1)
	_, err := h.c.InitProducerID(h.ctx, "tx", 0, nil)
	require.ErrorIs(t, err, ErrConcurrentTransactions)
	require.Equal(t, PrepareAbort, h.state("tx").State)
	h.markers.setFailAfter(-1)
	h.restart()
	require.Equal(t, CompleteAbort, h.state("tx").State)
	for _, part := range []TopicPartition{tp("a", 0), tp("a", 1)} {
		m, _ := h.markers.last(part)
		require.False(t, m.Commit)
		require.Equal(t, old.ProducerEpoch+2, m.ProducerEpoch)
	}
	p := h.init("tx")
	require.Equal(t, old.ProducerEpoch+3, p.ProducerEpoch)
}

// TestTransactionLogWriteFailures: a decision that could not be stored leaves the
// transaction Ongoing (EndTxn fails, no marker is written, the producer may
// retry); a completion that could not be stored leaves it decided, finished on
// restart; a first InitProducerID that could not be stored leaves no id.
func TestTransactionLogWriteFailures(t *testing.T) {
	h := newHarness(t)
	log := &failingLog{failAfter: 0}
	h.log = nil
	ids, err := NewBlockAllocator(h.blocks, 10)
	require.NoError(t, err)
	h.c, err = Open(h.ctx, &Options{Log: log, Markers: h.markers, ProducerIDs: ids, Now: h.clock.Now})
	require.NoError(t, err)
	_, err = h.c.InitProducerID(h.ctx, "tx", 0, nil)
	require.ErrorIs(t, err, errLogWrite)
	_, err = h.c.Describe("tx")
	require.ErrorIs(t, err, ErrTransactionalIDNotFound)

	log.failAfter = 2 // init, add; then the decision fails
	p := h.init("tx")
	h.add("tx", p, tp("a", 0))
	_, err = h.c.EndTxn(h.ctx, "tx", p, true)
	require.ErrorIs(t, err, errLogWrite)
	require.Equal(t, Ongoing, h.state("tx").State)
	_, marked := h.markers.last(tp("a", 0))
	require.False(t, marked)

	log.failAfter = 1 // the decision; then the completion fails
	r := h.end("tx", p, true)
	require.False(t, r.Complete)
	require.Equal(t, PrepareCommit, h.state("tx").State)
	log.failAfter = -1
	h.c, err = Open(h.ctx, &Options{Log: log, Markers: h.markers, ProducerIDs: ids, Now: h.clock.Now})
	require.NoError(t, err)
	require.Equal(t, CompleteCommit, h.state("tx").State)
}

// TestTransactionOpenRejectsCorruptRecords: a record that does not decode fails
// Open with ErrCorrupt rather than forgetting a decided transaction.
func TestTransactionOpenRejectsCorruptRecords(t *testing.T) {
	for name, r := range map[string]Record{
		"key":   {Key: []byte{0, 7}, Value: []byte{0}},
		"value": {Key: EncodeKey("tx"), Value: []byte{0, 1, 2}},
	} {
		log := &MemoryLog{}
		require.NoError(t, log.Append(context.Background(), []Record{r}))
		_, err := Open(context.Background(), &Options{Log: log})
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}
