package partition

import (
	"math/rand/v2"
	"testing"
	"time"
)

// bruteFirstOngoing is the first offset of the earliest open transaction, by a pass
// over every producer.
func bruteFirstOngoing(s *producerStates) int64 {
	first := int64(-1)
	for _, e := range s.producers {
		if e.txnFirstOffset >= 0 && (first < 0 || e.txnFirstOffset < first) {
			first = e.txnFirstOffset
		}
	}
	return first
}

// TestTxnOngoingQueueMatchesProducers drives a producer state with random
// transactional batches, markers, expiry, truncation (keepBelow) and snapshot
// round trips, and checks after each step that the queue of open transactions
// gives what a pass over every producer gives.
func TestTxnOngoingQueueMatchesProducers(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for run := range 50 {
		s := newProducerStates()
		offset := int64(0)
		producers := 1 + r.IntN(40)
		for step := range 2000 {
			id := int64(r.IntN(producers))
			switch k := r.IntN(100); {
			case k < 50:
				h := idempotentHeader(id, 0, 0, 1, offset)
				h.Attributes |= 1 << 4 // transactional (attribute bit 4)
				s.apply(&h)
				offset++
			case k < 85:
				s.applyMarker(id, 0, 0, offset)
				offset++
			case k < 88:
				s.expire(offset+1000, int64(r.IntN(1500)))
			case k < 90:
				before := s
				end := offset - int64(r.IntN(int(offset)+1))
				s = newProducerStates()
				s.keepBelow(before, end)
			case k < 92:
				decoded, err := decodeSnapshot(encodeSnapshot(&s))
				if err != nil {
					t.Fatal(err)
				}
				s = decoded
			}
			if got, want := s.firstOngoing(), bruteFirstOngoing(&s); got != want {
				t.Fatalf("seed %d run %d step %d: firstOngoing %d, want %d", seed, run, step, got, want)
			}
		}
	}
}
