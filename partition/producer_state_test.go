package partition

import (
	"errors"
	"math"
	"testing"

	"github.com/stratalog/strata/segment"
)

// idempotentHeader is the header of a data batch of n records of producer id at
// epoch from sequence, at offset base.
func idempotentHeader(id int64, epoch int16, sequence int32, n int32, base int64) segment.BatchHeader {
	return segment.BatchHeader{BaseOffset: base, ProducerID: id, ProducerEpoch: epoch, BaseSequence: sequence,
		LastOffsetDelta: n - 1, RecordCount: n, MaxTimestamp: 1000 + base}
}

func TestIdempotentSequenceArithmetic(t *testing.T) {
	for _, c := range []struct {
		sequence, delta, incremented int32
	}{
		{0, 0, 0},
		{0, 4, 4},
		{math.MaxInt32 - 2, 2, math.MaxInt32},
		{math.MaxInt32 - 2, 3, 0},
		{math.MaxInt32, 1, 0},
		{math.MaxInt32, 5, 4},
	} {
		if got := incrementSequence(c.sequence, c.delta); got != c.incremented {
			t.Errorf("incrementSequence(%d, %d) = %d, want %d", c.sequence, c.delta, got, c.incremented)
		}
		if got := decrementSequence(c.incremented, c.delta); got != c.sequence {
			t.Errorf("decrementSequence(%d, %d) = %d, want %d", c.incremented, c.delta, got, c.sequence)
		}
	}
	for _, c := range []struct {
		last, next int32
		want       bool
	}{
		{-1, 0, true}, {4, 5, true}, {4, 6, false}, {4, 4, false}, {math.MaxInt32, 0, true}, {math.MaxInt32, 1, false},
	} {
		if got := inSequence(c.last, c.next); got != c.want {
			t.Errorf("inSequence(%d, %d) = %v, want %v", c.last, c.next, got, c.want)
		}
	}
}

// TestIdempotentProducerStateCheck drives check and apply with one producer whose
// state holds batches of sequences 0-4 and 5-9 at epoch 3 (offsets 100-104, 105-109).
func TestIdempotentProducerStateCheck(t *testing.T) {
	const id = 7
	for _, c := range []struct {
		name  string
		batch segment.BatchHeader
		dup   int64 // the original's base offset, or -1
		err   error
	}{
		{"next in sequence", idempotentHeader(id, 3, 10, 2, 200), -1, nil},
		{"gap", idempotentHeader(id, 3, 11, 2, 200), -1, ErrOutOfOrderSequence},
		{"retry of the newest", idempotentHeader(id, 3, 5, 5, 200), 105, nil},
		{"retry of the oldest", idempotentHeader(id, 3, 0, 5, 200), 100, nil},
		{"overlap, not the same range", idempotentHeader(id, 3, 5, 2, 200), -1, ErrOutOfOrderSequence},
		{"stale epoch", idempotentHeader(id, 2, 10, 1, 200), -1, ErrInvalidProducerEpoch},
		{"retry under a stale epoch", idempotentHeader(id, 2, 5, 5, 200), -1, ErrInvalidProducerEpoch},
		{"new epoch from 0", idempotentHeader(id, 4, 0, 1, 200), -1, nil},
		{"new epoch not from 0", idempotentHeader(id, 4, 10, 1, 200), -1, ErrOutOfOrderSequence},
		{"unknown producer at any sequence", idempotentHeader(id+1, 0, 42, 1, 200), -1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newProducerStates()
			first, second := idempotentHeader(id, 3, 0, 5, 100), idempotentHeader(id, 3, 5, 5, 105)
			s.apply(&first)
			s.apply(&second)
			original, dup, err := s.check(&c.batch)
			if !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
				t.Fatalf("check: err %v, want %v", err, c.err)
			}
			if c.dup >= 0 != dup || (dup && original.firstOffset() != c.dup) {
				t.Fatalf("check: duplicate %v of %d, want %d", dup, original.firstOffset(), c.dup)
			}
		})
	}
}

// TestIdempotentRemembersFiveBatches: the sixth batch pushes the first out, whose
// retry is then out of order, not a duplicate.
func TestIdempotentRemembersFiveBatches(t *testing.T) {
	s := newProducerStates()
	for i := range int32(6) {
		h := idempotentHeader(1, 0, i, 1, int64(i))
		if _, dup, err := s.check(&h); dup || err != nil {
			t.Fatalf("batch %d: dup %v, err %v", i, dup, err)
		}
		s.apply(&h)
	}
	for i := range int32(6) {
		h := idempotentHeader(1, 0, i, 1, 100)
		original, dup, err := s.check(&h)
		switch {
		case i == 0 && !errors.Is(err, ErrOutOfOrderSequence):
			t.Errorf("retry of batch 0 (forgotten): err %v, want ErrOutOfOrderSequence", err)
		case i > 0 && (!dup || original.firstOffset() != int64(i)):
			t.Errorf("retry of batch %d: dup %v at %d, err %v", i, dup, original.firstOffset(), err)
		}
	}
}

func TestIdempotentSequenceWraps(t *testing.T) {
	s := newProducerStates()
	h := idempotentHeader(1, 0, math.MaxInt32-1, 4, 0) // sequences MaxInt32-1, MaxInt32, 0, 1
	s.apply(&h)
	next := idempotentHeader(1, 0, 2, 1, 4)
	if _, dup, err := s.check(&next); dup || err != nil {
		t.Fatalf("after a wrapped batch: dup %v, err %v", dup, err)
	}
	if original, dup, _ := s.check(&h); !dup || original.firstOffset() != 0 {
		t.Fatalf("retry of the wrapped batch: dup %v at %d", dup, original.firstOffset())
	}
}

func TestIdempotentTransactionState(t *testing.T) {
	s := newProducerStates()
	txn := idempotentHeader(1, 0, 0, 2, 10)
	txn.Attributes = 1 << 4
	s.apply(&txn)
	if got := s.producers[1].txnFirstOffset; got != 10 {
		t.Fatalf("txnFirstOffset %d, want 10", got)
	}
	plain := idempotentHeader(1, 0, 2, 1, 12)
	if _, _, err := s.check(&plain); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("plain batch in a transaction: %v", err)
	}
	s.applyMarker(1, 0, 5, 2000)
	if e := s.producers[1]; e.txnFirstOffset != -1 || e.coordinatorEpoch != 5 {
		t.Fatalf("after the marker: %+v", e)
	}
	if _, _, err := s.check(&plain); err != nil {
		t.Fatalf("plain batch after the marker: %v", err)
	}
}

func TestIdempotentExpire(t *testing.T) {
	s := newProducerStates()
	old, recent, open := idempotentHeader(1, 0, 0, 1, 0), idempotentHeader(2, 0, 0, 1, 5000), idempotentHeader(3, 0, 0, 1, 0)
	open.Attributes = 1 << 4
	for _, h := range []*segment.BatchHeader{&old, &recent, &open} {
		s.apply(h)
	}
	if n := s.expire(10_000, 5_000); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if s.producers[1] != nil || s.producers[2] == nil || s.producers[3] == nil {
		t.Fatalf("kept %v, want producers 2 (recent) and 3 (open transaction)", s.producers)
	}
}
