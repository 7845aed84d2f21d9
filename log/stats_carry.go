package log

import "github.com/stratalog/strata/partition"

// statsKey names a partition of one topic incarnation, whose counters outlive the
// *partition.Partition that AlterTopicConfig closes and opens again.
type statsKey struct {
	incarnation uint64
	partition   int32
}

// carryStats keeps the counters of old, a partition of topic incarnation
// incarnation closed to be opened again, so that Stats adds them to its
// replacement's: Stats' counters count from the store's Open. The caller holds
// adminMu (the only writer).
func (s *Store) carryStats(incarnation uint64, p int32, old partition.Stats) {
	key := statsKey{incarnation, p}
	sum := old
	if v, ok := s.carried.Load(key); ok {
		addCounters(&sum, v.(partition.Stats))
	}
	s.carried.Store(key, sum)
}

// addCarriedStats adds to st the counters carried over from the partitions that
// partition p of topic incarnation incarnation replaced.
func (s *Store) addCarriedStats(incarnation uint64, p int32, st *partition.Stats) {
	if v, ok := s.carried.Load(statsKey{incarnation, p}); ok {
		addCounters(st, v.(partition.Stats))
	}
}

// addCounters adds the counters of from (not its state: offsets, sizes, the
// cleaner point) to st.
func addCounters(st *partition.Stats, from partition.Stats) {
	st.Appends += from.Appends
	st.AppendedRecords += from.AppendedRecords
	st.AppendedBytes += from.AppendedBytes
	st.Syncs += from.Syncs
	st.SyncTime += from.SyncTime
	st.BytesRead += from.BytesRead
	st.Compactions += from.Compactions
	st.CompactionBytesRead += from.CompactionBytesRead
	st.CompactionBytesWritten += from.CompactionBytesWritten
	st.CompactionRecordsRemoved += from.CompactionRecordsRemoved
}
