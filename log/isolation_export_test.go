package log

import (
	"testing"

	"github.com/stratalog/strata/partition"
)

// PartitionLog returns the log readers of tp reach (in a store of several brokers,
// its leader's), for tests that write to it what no log API writes yet
// (transactional batches, transaction markers).
func PartitionLog(t testing.TB, s *Store, tp TopicPartition) *partition.Partition {
	t.Helper()
	p, err := s.lookupPartition(tp)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
