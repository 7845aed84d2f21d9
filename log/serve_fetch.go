package log

import (
	"context"
	"runtime"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/segment"
)

// FetchResult is what a Kafka FetchResponse says of one partition.
type FetchResult struct {
	// Batches are whole record batches exactly as they lie in the segment (RecordBatch
	// v2, CRCs included, never re-encoded), the first holding the fetch offset (it may
	// begin below it: a client skips the records before), transaction markers
	// included as Kafka serves them. Empty at the end of what the level may read. The
	// caller must not modify them; they stay valid until Release.
	Batches []byte
	// HighWatermark, LastStableOffset and LogStartOffset are the partition's, as
	// the leader saw them at the fetch.
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	// LeaderEpoch is the leader's epoch (Kafka's CurrentLeader.LeaderEpoch); 0 in
	// a one-broker store.
	LeaderEpoch int32
	// AbortedTransactions, for ReadCommitted only, are the aborted transactions
	// whose records lie among Batches' offsets (Kafka's AbortedTransactions: a
	// client drops a producer's records from FirstOffset until that producer's
	// ABORT marker).
	AbortedTransactions []AbortedTransaction
	// File, when not nil, names Batches' bytes as a range of the segment file that
	// holds them, for a server that sends them to a socket with sendfile(2) instead
	// of copying them (FileRange.SendTo; where it refuses, ErrFileChanged after a
	// truncation, the server sends the rest from Batches, which stay valid). It is
	// set where the filesystem lends descriptors (the OS filesystem on Linux) and
	// Batches are a view of a segment's mapping; nil otherwise, and when Batches are
	// empty. It names exactly Batches, transaction markers and the ReadCommitted cut
	// included. Its descriptor keeps the file's bytes whatever retention,
	// compaction, deletion or Close do meanwhile, until Release.
	File *segment.FileRange
	// keep keeps the memory mapping Batches may be a view of.
	keep any
}

// AbortedTransaction is one entry of a FetchResponse's AbortedTransactions.
type AbortedTransaction struct {
	ProducerID  int64
	FirstOffset int64
}

// Release ends the use of Batches and File. Batches may be a view of a segment's
// memory mapping rather than a copy (the OS filesystem on Linux): the mapping stays
// mapped, whatever retention, truncation or Close do meanwhile, until Release is
// called (and the FetchResult is unreachable), so that a server writes Batches to
// its socket without copying them. Call it once the bytes are written; Batches must
// not be used after. Release may be called more than once.
func (r *FetchResult) Release() {
	runtime.KeepAlive(r.keep)
	if r.File != nil {
		_ = r.File.Close() // a duplicate descriptor, read only: nothing to lose
	}
	r.keep, r.Batches, r.File = nil, nil, nil
}

// FetchBatches returns the record batches of partition tp from offset, as a Kafka
// broker answers a fetch: whole batches starting with the one holding offset, at
// most maxBytes of them but at least one batch (a batch larger than maxBytes comes
// whole, as Kafka's fetch does), from one segment, up to the high watermark
// (ReadUncommitted) or the last stable offset (ReadCommitted, with the aborted
// transactions among them), all from the partition's leader. It does not wait:
// see WaitForData. Where it can, the result also names the batches as a range of
// the segment file (File), for sendfile(2). Call Release on the result once
// Batches (or File) are written.
//
// Errors: ErrUnknownTopic, ErrUnknownPartition, ErrOffsetOutOfRange (offset below
// the log start offset or above the high watermark; the result then holds the
// offsets, for Kafka's OFFSET_OUT_OF_RANGE answer), a *PartitionOfflineError,
// ErrInvalidArgument for an unknown level, ErrCorrupt for damaged segment bytes.
func (s *Store) FetchBatches(ctx context.Context, tp TopicPartition, offset int64, maxBytes int, level IsolationLevel) (FetchResult, error) {
	return s.fetchBatches(ctx, nil, tp, offset, maxBytes, level)
}

// fetchBatches is FetchBatches from broker, which must lead tp (nil: whichever
// leads).
func (s *Store) fetchBatches(ctx context.Context, broker *replica.BrokerID, tp TopicPartition, offset int64, maxBytes int, level IsolationLevel) (FetchResult, error) {
	if problem := checkIsolationLevel(level); problem != "" {
		return FetchResult{}, errorf("strata/log: fetch %s: %s: %w", tp, problem, ErrInvalidArgument)
	}
	if err := ctx.Err(); err != nil {
		return FetchResult{}, err
	}
	p, epoch, err := s.servedLog(broker, tp)
	if err != nil {
		return FetchResult{}, err
	}
	// The last stable offset bounds what ReadCommitted reads: read it first. The
	// high watermark, read after the batches, is at or above their end.
	lastStable := p.LastStableOffset()
	r := FetchResult{LeaderEpoch: epoch}
	if level == ReadUncommitted || offset < lastStable {
		r.Batches, r.keep, r.File, err = p.ReadBatchesFile(offset, maxBytes)
	} else if offset > p.HighWatermark() || offset < p.StartOffset() {
		err = errorf("strata/log: offset %d not in [%d, %d]: %w", offset, p.StartOffset(), p.HighWatermark(), ErrOffsetOutOfRange)
	}
	r.HighWatermark, r.LogStartOffset = p.HighWatermark(), p.StartOffset()
	r.LastStableOffset = max(lastStable, p.LastStableOffset())
	if err != nil {
		r.Release()
		return r, s.partitionError("fetch", tp, p, err)
	}
	if level == ReadCommitted {
		r.Batches = r.Batches[:batchesBelow(r.Batches, lastStable)]
		if r.File != nil {
			r.File.Limit(len(r.Batches))
		}
		if len(r.Batches) > 0 {
			for _, t := range p.AbortedTxns(offset, min(lastStable, batchesEnd(r.Batches))) {
				r.AbortedTransactions = append(r.AbortedTransactions, AbortedTransaction{ProducerID: t.ProducerID, FirstOffset: t.FirstOffset})
			}
		}
	}
	if r.File != nil && r.File.Len() == 0 {
		_ = r.File.Close()
		r.File = nil
	}
	return r, nil
}

// servedLog returns the log serving tp and its leader epoch: broker's replica if
// it leads tp (else a *NotLeaderError), or with broker nil the leader's. A
// one-broker store's partitions are at epoch 0.
func (s *Store) servedLog(broker *replica.BrokerID, tp TopicPartition) (*partition.Partition, int32, error) {
	t, err := s.servedTopic(tp)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case t.replicas != nil:
		rp := t.replicas[tp.Partition]
		var r *replica.Replica
		if broker != nil {
			r, err = leadingReplica(tp, rp, *broker)
		} else if r, err = rp.Leader(); err != nil {
			err = &PartitionOfflineError{TopicPartition: tp, Err: err}
		}
		if err != nil {
			return nil, 0, err
		}
		return r.Log(), r.State().LeaderEpoch, nil
	case broker != nil && *broker != 0:
		return nil, 0, &NotLeaderError{TopicPartition: tp, Broker: *broker, Leader: 0}
	}
	p, err := t.partitionAt(tp.Partition)
	return p, 0, err
}

// batchesBelow returns the length of the whole batches at the start of b (checked
// by the read) that begin below offset.
func batchesBelow(b []byte, offset int64) int {
	n := 0
	for n+segment.BatchHeaderSize <= len(b) {
		h, err := segment.ParseBatchHeader(b[n:], len(b)-n)
		if err != nil || h.BaseOffset >= offset {
			break
		}
		n += h.Size()
	}
	return n
}

// batchesEnd returns the offset after the last of the whole batches b holds.
func batchesEnd(b []byte) int64 {
	var end int64
	for n := 0; n+segment.BatchHeaderSize <= len(b); {
		h, err := segment.ParseBatchHeader(b[n:], len(b)-n)
		if err != nil {
			break
		}
		end, n = h.NextOffset(), n+h.Size()
	}
	return end
}
