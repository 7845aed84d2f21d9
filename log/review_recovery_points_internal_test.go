package log

import (
	"context"
	"strconv"
	"testing"

	"github.com/stratalog/strata/vfs"
)

// TestReviewRecoveryPointTickAllocations: the store's goroutine walks every
// partition every RecoveryPointInterval; when no point changed it writes nothing,
// and it should allocate next to nothing either. With 2,000 partitions it
// allocated a partition directory name and a map entry per partition per tick.
func TestReviewRecoveryPointTickAllocations(t *testing.T) {
	const partitions = 2000
	s, err := Open("/data", &Options{FS: vfs.NewMem(), RetentionCheckInterval: -1, RecoveryPointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateTopic(context.Background(), "orders", TopicConfig{Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
	for i := range int32(partitions) {
		if i%2 == 0 {
			if err := s.Produce(context.Background(), &Record{Topic: "orders", Partition: i, ExplicitPartition: true, Value: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.recordRecoveryPoints(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		if err := s.recordRecoveryPoints(); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.0f allocations per tick for %d unchanged partitions", allocs, partitions)
	if allocs > 10 {
		t.Errorf("%.0f allocations per tick for %d unchanged partitions: want O(1)", allocs, partitions)
	}
}

// BenchmarkReviewRecoveryPointTick is the cost of one tick of the goroutine with
// nothing changed, by partition count.
func BenchmarkReviewRecoveryPointTick(b *testing.B) {
	for _, partitions := range []int{1000, 10000} {
		b.Run("partitions="+strconv.Itoa(partitions), func(b *testing.B) {
			s, err := Open(b.TempDir(), &Options{FS: vfs.NewMem(), RetentionCheckInterval: -1, RecoveryPointInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < partitions; i += 1000 {
				name := "t" + strconv.Itoa(i)
				if err := s.CreateTopic(context.Background(), name, TopicConfig{Partitions: 1000}); err != nil {
					b.Fatal(err)
				}
				for p := range int32(1000) {
					if err := s.Produce(context.Background(), &Record{Topic: name, Partition: p, ExplicitPartition: true, Value: []byte("x")}); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.recordRecoveryPoints(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := s.recordRecoveryPoints(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
