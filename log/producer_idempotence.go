package log

import (
	"context"
	"errors"
	"math"
	"sync"

	"github.com/stratalog/strata/partition"
)

// producerIdentity is what an idempotent Producer writes in its batches besides
// their sequence: Kafka's producerId and producerEpoch.
type producerIdentity struct {
	id    int64
	epoch int16
}

// idempotence is the identity of an idempotent Producer, shared by its
// partitions' senders. Each partition numbers its batches from 0 under an
// identity (partitionSequence); a failure that may leave a gap in a partition's
// sequence moves the identity to the next epoch (Kafka's KIP-360 bump), under
// which every partition starts at 0 again: the partition accepts a new epoch at
// sequence 0 whatever came before, so nothing the failed batch may have written
// stands in the way, and nothing is written twice.
type idempotence struct {
	s *Store
	// transactional is set for a transactional Producer: its batches are
	// transactional, and its epoch moves only when the coordinator bumps it (at
	// the end of each transaction), never on a failure: a failure aborts the
	// transaction instead.
	transactional bool
	mu            struct {
		sync.Mutex
		identity producerIdentity
	}
}

// newIdempotence returns the identity of a new idempotent producer of s: a
// producer id never handed out before, epoch 0.
func newIdempotence(s *Store) (*idempotence, error) {
	id, err := s.nextProducerID(context.Background())
	if err != nil {
		return nil, err
	}
	i := &idempotence{s: s}
	i.mu.identity = producerIdentity{id: id}
	return i, nil
}

// current returns the identity batches are written with now.
func (i *idempotence) current() producerIdentity {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.mu.identity
}

// set moves to identity, which the transaction coordinator handed out.
func (i *idempotence) set(identity producerIdentity) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.mu.identity = identity
}

// bump moves to the next epoch after a batch written under used failed, unless
// another failure moved past used already. At the last epoch it takes a new
// producer id instead, as Kafka's producer does when its epoch would overflow; if
// that fails, the identity stays and the next batch of the failed partition may
// be refused as out of order, which bumps again.
func (i *idempotence) bump(used producerIdentity) {
	if i.transactional {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.mu.identity != used {
		return
	}
	if used.epoch < math.MaxInt16 {
		i.mu.identity.epoch++
		return
	}
	id, err := i.s.nextProducerID(context.Background())
	if err != nil {
		i.s.logger.Error("idempotent producer: a new producer id at the last epoch failed", "producerId", used.id, "err", err)
		return
	}
	i.mu.identity = producerIdentity{id: id}
}

// partitionSequence is an idempotent Producer's numbering of the batches of one
// partition. Only the partition's sender uses it (one at a time).
type partitionSequence struct {
	producer *idempotence
	// identity is the one next is counted under; next is the sequence of the next
	// record.
	identity producerIdentity
	next     int32
	// header is the identity handed to the partition, reused from batch to batch.
	header partition.Producer
}

// append appends records through fn as one batch numbered from the partition's
// next sequence, and moves the sequence past them once they are written. A
// duplicate (the batch was written by an earlier attempt whose answer was lost)
// is success with the original's offsets. A batch refused as too large used no
// sequence. A refusal of the sequence or epoch (the partition lost the producer's
// state, or never had it) is retried once under the next epoch; any other failure
// may have written the batch, so the producer moves to the next epoch: the
// partition's next batch starts over at sequence 0, behind whatever was written.
func (q *partitionSequence) append(ctx context.Context, records []partition.Record, fn producerAppendFunc) (int64, error) {
	for attempt := 0; ; attempt++ {
		if current := q.producer.current(); current != q.identity {
			q.identity, q.next = current, 0
		}
		q.header = partition.Producer{ID: q.identity.id, Epoch: q.identity.epoch, BaseSequence: q.next, Transactional: q.producer.transactional}
		base, err := fn(ctx, records, &q.header)
		var duplicate *partition.DuplicateSequenceError
		switch {
		case err == nil:
		case errors.As(err, &duplicate):
			base = duplicate.BaseOffset
		case errors.Is(err, ErrRecordTooLarge):
			return base, err
		case attempt == 0 && !q.producer.transactional && (errors.Is(err, partition.ErrOutOfOrderSequence) || errors.Is(err, partition.ErrInvalidProducerEpoch)):
			q.producer.bump(q.identity)
			continue
		default:
			q.producer.bump(q.identity)
			return base, err
		}
		q.next = nextSequence(q.next, len(records))
		return base, nil
	}
}

// errInvalidProducerEpoch is the partition's refusal of an epoch older than the
// producer's latest: for a transactional producer, a newer instance fenced it.
var errInvalidProducerEpoch = partition.ErrInvalidProducerEpoch

// nextSequence returns the sequence n records after sequence, wrapping from
// MaxInt32 to 0 as Kafka's sequences do.
func nextSequence(sequence int32, n int) int32 {
	return int32((int64(sequence) + int64(n)) % (math.MaxInt32 + 1))
}
