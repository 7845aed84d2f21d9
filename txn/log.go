package txn

import (
	"context"
	"slices"
	"sync"
)

// Record is one record of the transaction state log: a key (EncodeKey) and a value
// (EncodeValue), nil for the tombstone of an expired transactional id.
type Record struct {
	Key, Value []byte
}

// Log is where the coordinator keeps its state: Kafka's __transaction_state, one
// compacted partition in strata. The log package implements it over a partition;
// MemoryLog keeps it in memory.
type Log interface {
	// Append writes records durably, in order, as one batch: when it returns nil
	// they are all stored; on error the coordinator treats them as not written
	// (they may surface after a restart, which replay handles: each record is a
	// whole state of its id).
	Append(ctx context.Context, records []Record) error
	// Replay calls fn with every stored record, oldest first (after compaction, at
	// least the latest record of each key and tombstones not yet removed). It stops
	// at fn's first error and returns it.
	Replay(ctx context.Context, fn func(Record) error) error
}

// UnsyncedLog is a Log that can also append without waiting for the records to
// be durable (written to the OS, their fsync to come): the coordinator writes a
// transaction's completion (CompleteCommit, CompleteAbort) that way, as nothing
// depends on it being durable: lost in a crash, the transaction is found decided
// at the next Open, which writes its markers again (a repeated marker ends
// nothing) and its completion. It saves a transaction one fsync of the state log.
// Records appended later with Append must not become durable before these (one
// file written in order, as a partition is, keeps that).
type UnsyncedLog interface {
	Log
	AppendUnsynced(ctx context.Context, records []Record) error
}

// MemoryLog is a Log in memory: nothing survives the process, but a Coordinator
// opened again on the same MemoryLog replays it, which is how tests restart one.
// Safe for concurrent use.
type MemoryLog struct {
	mu      sync.Mutex
	records []Record
}

// Append implements Log. It fails only if ctx has ended.
func (l *MemoryLog) Append(ctx context.Context, records []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range records {
		l.records = append(l.records, Record{Key: slices.Clone(r.Key), Value: slices.Clone(r.Value)})
	}
	return nil
}

// Replay implements Log.
func (l *MemoryLog) Replay(ctx context.Context, fn func(Record) error) error {
	l.mu.Lock()
	records := slices.Clone(l.records)
	l.mu.Unlock()
	for _, r := range records {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Records returns a copy of the records appended so far.
func (l *MemoryLog) Records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.records)
}

// Marker is one transaction marker to write: Kafka's COMMIT or ABORT control
// batch, for one partition of a transaction (a data partition, or the
// __consumer_offsets partition of a group whose offsets the transaction holds).
type Marker struct {
	Partition     TopicPartition
	ProducerID    int64
	ProducerEpoch int16 // the epoch after the end's bump, which fences older ones
	Commit        bool
	// TransactionVersion is the transaction's (Metadata.ClientTransactionVersion):
	// 2, the marker's epoch was bumped and is above the transaction's batches'; 1,
	// it is theirs (EndTxnVersion1).
	TransactionVersion int16
}

// MarkerWriter writes transaction markers: the log package implements it by
// appending the control batch to the partition (and ending the producer's
// transaction in its producer state), durably before returning nil. After a
// failure or a restart the coordinator writes the markers of a decided
// transaction again, to every partition: a marker for a transaction the partition
// already ended must be accepted and change nothing.
type MarkerWriter interface {
	WriteMarker(ctx context.Context, m Marker) error
}
