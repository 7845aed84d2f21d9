package log

import (
	"errors"
	"slices"
	"time"

	"github.com/stratalog/strata/partition"
)

// ListStartOffsets returns the start offset (the lowest readable offset) of every
// partition of the named topics, or of every topic but the internal ones if none is
// named: Kafka's ListOffsets with the earliest timestamp, the Java consumer's
// beginningOffsets, kadm's ListStartOffsets.
//
// An unknown topic fails the call (ErrUnknownTopic) and nothing is returned. An
// offline partition is left out of the map, and the error joins one
// *PartitionOfflineError (matching ErrPartitionOffline) per offline partition: the
// map holds the others.
func (s *Store) ListStartOffsets(topics ...string) (map[TopicPartition]int64, error) {
	return s.listOffsets(topics, func(p *partition.Partition) (int64, error) { return p.StartOffset(), nil })
}

// ListEndOffsets returns the end offset (the offset the next record gets: the high
// watermark, where a consumer that has read everything stands) of every partition of
// the named topics, or of every topic but the internal ones if none is named:
// Kafka's ListOffsets with the latest timestamp, the Java consumer's endOffsets.
// Errors are as for ListStartOffsets.
func (s *Store) ListEndOffsets(topics ...string) (map[TopicPartition]int64, error) {
	return s.listOffsets(topics, func(p *partition.Partition) (int64, error) { return p.EndOffset(), nil })
}

// ListEndOffsetsFor returns the end offsets of ListEndOffsets as a consumer in
// level sees them: Kafka's ListOffsets with the latest timestamp and an isolation
// level. For ReadCommitted that is each partition's last stable offset, where a
// read_committed consumer that has read everything stands (in a store of several
// brokers, the leader's, which is at most its high watermark); for
// ReadUncommitted it is ListEndOffsets. An unknown level is ErrInvalidArgument;
// other errors are as for ListStartOffsets.
func (s *Store) ListEndOffsetsFor(level IsolationLevel, topics ...string) (map[TopicPartition]int64, error) {
	if problem := checkIsolationLevel(level); problem != "" {
		return nil, errorf("strata/log: list end offsets: %s: %w", problem, ErrInvalidArgument)
	}
	return s.listOffsets(topics, func(p *partition.Partition) (int64, error) { return endOffsetFor(p, level), nil })
}

// ListOffsetsForTime returns, for every partition of the named topics (every topic
// but the internal ones if none is named), the offset of the first record whose
// timestamp is at or after t: Kafka's ListOffsets by timestamp, the Java consumer's
// offsetsForTimes. A partition without such a record gets its end offset, where
// Consumer.SeekToTime moves too, so that consuming from the returned offsets reads
// exactly the records from t on (Kafka answers -1 there, and the Java consumer null).
// Errors are as for ListStartOffsets.
func (s *Store) ListOffsetsForTime(t time.Time, topics ...string) (map[TopicPartition]int64, error) {
	ms := t.UnixMilli()
	return s.listOffsets(topics, func(p *partition.Partition) (int64, error) {
		offset, _, err := p.OffsetForTime(ms)
		return offset, err
	})
}

// MaxTimestampOffset is the record with a partition's greatest timestamp:
// ListMaxTimestampOffsets' answer.
type MaxTimestampOffset struct {
	// Offset is the offset of the first record with the partition's greatest
	// timestamp, or -1 if there is none.
	Offset int64
	// Timestamp is that record's timestamp in milliseconds since the Unix epoch, or
	// -1 if there is none.
	Timestamp int64
	// LeaderEpoch is the partition leader epoch of the record's batch, or -1 if there
	// is no record or its batch has no epoch.
	LeaderEpoch int32
}

// ListMaxTimestampOffsets returns, for every partition of the named topics (every
// topic but the internal ones if none is named), the first record with the
// greatest timestamp: Kafka's ListOffsets with the max-timestamp query (KIP-734,
// timestamp -3), kadm's ListMaxOffsets.
//
// The records looked at are those a reader may read, from the start offset to the
// high watermark: records removed by retention, DeleteRecords or compaction do not
// count (Kafka may answer a record below the log start offset of a DeleteRecords
// in the middle of a segment). Control records (transaction markers) count, as in
// Kafka, so a partition whose last write was a commit often answers its marker. In
// level ReadCommitted, if that record lies at or above the last stable offset (in an
// open transaction), the partition answers none, as Kafka does, rather than an
// older record. None is Offset -1, Timestamp -1, LeaderEpoch -1, as Kafka answers
// for an empty partition.
//
// It costs the decoding of one batch per partition in the usual case: each segment
// keeps its greatest timestamp (its time index's last entry, as Kafka's
// LogSegment.maxTimestampSoFar), and only the segment holding the start offset, or
// one whose greatest timestamp is not readable yet, is scanned. An unknown level is
// ErrInvalidArgument; other errors are as for ListStartOffsets.
func (s *Store) ListMaxTimestampOffsets(level IsolationLevel, topics ...string) (map[TopicPartition]MaxTimestampOffset, error) {
	if problem := checkIsolationLevel(level); problem != "" {
		return nil, errorf("strata/log: list max timestamp offsets: %s: %w", problem, ErrInvalidArgument)
	}
	none := MaxTimestampOffset{Offset: -1, Timestamp: -1, LeaderEpoch: -1}
	return listPartitionValues(s, topics, func(p *partition.Partition) (MaxTimestampOffset, error) {
		r, found, err := p.MaxTimestampOffset()
		if err != nil || !found {
			return none, err
		}
		if level == ReadCommitted && r.Offset >= p.LastStableOffset() {
			return none, nil
		}
		if r.LeaderEpoch < 0 {
			r.LeaderEpoch = -1
		}
		return MaxTimestampOffset{Offset: r.Offset, Timestamp: r.Timestamp, LeaderEpoch: r.LeaderEpoch}, nil
	})
}

// listOffsets returns offset(p) for every partition of topics (every topic but the
// internal ones if none).
func (s *Store) listOffsets(topics []string, offset func(*partition.Partition) (int64, error)) (map[TopicPartition]int64, error) {
	return listPartitionValues(s, topics, offset)
}

// listPartitionValues returns value(p) for every partition of topics (every topic
// but the internal ones if none).
func listPartitionValues[T any](s *Store, topics []string, value func(*partition.Partition) (T, error)) (map[TopicPartition]T, error) {
	set, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if len(topics) == 0 {
		for name, t := range set {
			if !t.internal {
				topics = append(topics, name)
			}
		}
		slices.Sort(topics)
	}
	chosen := make([]*topic, len(topics))
	for i, name := range topics {
		if chosen[i] = set[name]; chosen[i] == nil {
			return nil, errorf("strata/log: list offsets: topic %q: %w", name, ErrUnknownTopic)
		}
	}
	out := map[TopicPartition]T{}
	var errList []error
	for _, t := range chosen {
		for i := range len(t.partitions) {
			tp := TopicPartition{Topic: t.name, Partition: int32(i)}
			p, err := t.partitionAt(tp.Partition)
			if err == nil {
				out[tp], err = value(p)
			}
			if err != nil {
				delete(out, tp)
				errList = append(errList, s.partitionError("list offsets of", tp, p, err))
			}
		}
	}
	return out, errors.Join(errList...)
}
