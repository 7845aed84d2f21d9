package log

import (
	"context"
	"sync"
)

// ProduceResult is what became of one record of ProduceSync: Err is nil once the
// record is acknowledged (at the Producer's Acks), and Record's Partition and
// Offset say where it went.
type ProduceResult struct {
	Record *Record
	Err    error
}

// ProduceResults are the results of a ProduceSync, in the order of its records.
type ProduceResults []ProduceResult

// FirstErr returns the first error of the results, in record order, or nil if every
// record was acknowledged (kgo's ProduceResults.FirstErr).
func (rs ProduceResults) FirstErr() error {
	for _, r := range rs {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// First returns the first result's record and error: the usual way to read the
// result of producing one record. With no results it returns nil, nil.
func (rs ProduceResults) First() (*Record, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	return rs[0].Record, rs[0].Err
}

// ProduceSync produces records through the Producer (as Produce does, sharing
// batches with concurrent callers) and returns once every one is acknowledged or
// failed, with one result per record, in order (kgo's ProduceSync). The records'
// partitions' open batches are written at once, without waiting for Linger. ctx
// bounds only the waits for buffer space, as in Produce. Unlike Store.Produce,
// which writes one call's records as batches of their own and joins the errors,
// it acknowledges at the Producer's Acks and tells each record's error apart.
// Under AcksNone every result is in once the records are buffered (Offset -1), and
// write failures come from Flush or Close, as for Produce. Like Flush, it waits for
// promises: it must not be called from a promise.
func (p *Producer) ProduceSync(ctx context.Context, records ...*Record) ProduceResults {
	results := make(ProduceResults, len(records))
	var wg sync.WaitGroup
	wg.Add(len(records))
	for i, r := range records {
		p.Produce(ctx, r, func(r *Record, err error) {
			results[i] = ProduceResult{Record: r, Err: err}
			wg.Done()
		})
	}
	p.sealPartitionsOf(records)
	wg.Wait()
	return results
}

// sealPartitionsOf seals the open batches of the partitions records were routed to.
func (p *Producer) sealPartitionsOf(records []*Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var last *batcher
	for _, r := range records {
		if r == nil {
			continue
		}
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if last != nil && last.tp == tp {
			continue
		}
		if last = p.mu.batchers[tp]; last != nil && last.open != nil {
			p.sealLocked(last)
		}
	}
}
