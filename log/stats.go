package log

import "github.com/stratalog/strata/partition"

// Stats is a snapshot of a store's topics and partitions.
type Stats struct {
	// Topics lists every topic, internal ones included, sorted by name.
	Topics []TopicStats
	// SkippedOffsetsRecords counts the records of OffsetsTopic that did not decode
	// when the store replayed it, and were skipped (each is logged at Error with its
	// offset). They were not written by the store (or by a newer version of it);
	// they change no group's offsets.
	SkippedOffsetsRecords int
}

// TopicStats is a snapshot of one topic.
type TopicStats struct {
	Name string
	// Partitions are in partition order.
	Partitions []PartitionStats
}

// PartitionStats is a snapshot of one partition: its offsets, size, and the
// counters partition.Stats keeps since the store was opened (appends, fsyncs and
// their total latency, bytes read).
type PartitionStats struct {
	TopicPartition
	partition.Stats
	// Offline is why the partition is offline (see Store.OfflinePartitions), nil
	// if it is online; an offline partition's other fields are zero.
	Offline *PartitionOfflineError
}

// Stats returns a snapshot of every topic and partition. Counters count from Open,
// across the reopens of AlterTopicConfig.
// After Close it returns an empty Stats.
func (s *Store) Stats() Stats {
	set, err := s.snapshot()
	if err != nil {
		return Stats{}
	}
	var st Stats
	for _, name := range set.sortedNames(true) {
		t := set[name]
		ts := TopicStats{Name: name, Partitions: make([]PartitionStats, len(t.partitions))}
		for i := range t.partitions {
			ps := PartitionStats{TopicPartition: TopicPartition{Topic: name, Partition: int32(i)}}
			if p, offline := t.at(i); p != nil {
				ps.Stats = p.Stats()
				s.addCarriedStats(t.incarnation, int32(i), &ps.Stats)
			} else {
				ps.Offline = offline
			}
			ts.Partitions[i] = ps
		}
		st.Topics = append(st.Topics, ts)
	}
	st.SkippedOffsetsRecords = int(s.skippedOffsetsRecords.Load())
	return st
}
