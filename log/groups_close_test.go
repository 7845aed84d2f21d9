package log

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/vfs"
)

// A coordinator starting while the store closes is either closed by Close or never
// started. (Found in review: one that started after closeGroups looked kept
// running.) Close's start is swept across the first commit's.
func TestStoreCloseStopsALateCoordinator(t *testing.T) {
	leaked := 0
	for i := range 3000 {
		s, err := Open("/data", &Options{FS: vfs.NewMem()})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateTopic(context.Background(), "t", TopicConfig{}); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			<-start
			s.CommitGroupOffsets(context.Background(), "g", map[TopicPartition]OffsetAndMetadata{{Topic: "t"}: {Offset: 0}})
		}()
		close(start)
		for range i % 1000 { // sweep Close's start across NewGroupConsumer's
			runtime.Gosched()
		}
		s.Close()
		<-done
		if c := s.coordinator.Load(); c != nil {
			if _, err := c.ListGroups(); !errors.Is(err, group.ErrCoordinatorClosed) {
				leaked++
				c.Close() // do not leak it from the test
			}
		}
	}
	if leaked > 0 {
		t.Errorf("%d of 3000 stores left their coordinator running after Close", leaked)
	}
}
