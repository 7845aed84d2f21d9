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

// listOffsets returns offset(p) for every partition of topics (every topic but the
// internal ones if none).
func (s *Store) listOffsets(topics []string, offset func(*partition.Partition) (int64, error)) (map[TopicPartition]int64, error) {
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
	out := map[TopicPartition]int64{}
	var errList []error
	for _, t := range chosen {
		for i := range len(t.partitions) {
			tp := TopicPartition{Topic: t.name, Partition: int32(i)}
			p, err := t.partitionAt(tp.Partition)
			if err == nil {
				out[tp], err = offset(p)
			}
			if err != nil {
				delete(out, tp)
				errList = append(errList, s.partitionError("list offsets of", tp, p, err))
			}
		}
	}
	return out, errors.Join(errList...)
}
