package log_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// Store.Produce takes the partition from its snapshot, then appends. If
// RepairPartition closes and reopens the partition in between, Append fails with
// ErrClosed and partitionError, finding a different (reopened) partition of the
// same topic, reports "topic deleted: ErrUnknownTopic" for a topic that exists.
func TestReview2ProduceRacingRepairSaysTopicDeleted(t *testing.T) {
	mem := vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: mem})
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 1})
	produceFrom(t, s, "orders", 0, 0, 1)
	produceFrom(t, s, "orders", 0, 1, 1)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unknown []error
	others := 0
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.Produce(ctx, &log.Record{Topic: "orders", Partition: 0, ExplicitPartition: true, Value: []byte("v")})
				if err != nil {
					mu.Lock()
					others++
					if others < 3 {
						t.Log(err)
					}
					mu.Unlock()
				}
				if errors.Is(err, log.ErrUnknownTopic) {
					mu.Lock()
					unknown = append(unknown, err)
					mu.Unlock()
				}
			}
		})
	}
	for range 200 {
		for !flipSecondBatch(mem) {
			produceFrom(t, s, "orders", 0, 0, 1)
		}
		_, err := s.RepairPartition(ctx, tp("orders", 0), &partition.RepairOptions{})
		if err != nil {
			t.Log(err)
		}
		mu.Lock()
		n := len(unknown)
		mu.Unlock()
		if n > 0 {
			break
		}
	}
	close(stop)
	wg.Wait()
	t.Log("errors", others, "unknown", len(unknown))
	require.Empty(t, unknown, "Produce to a topic that was never deleted (reproduces with GOMAXPROCS=2)")
}

// flipSecondBatch flips a byte in the second batch of the last segment of
// orders-0, if it has one.
func flipSecondBatch(fsys vfs.FS) bool {
	names, err := fsys.ReadDir("/data/orders-0")
	if err != nil {
		return false
	}
	var last string
	for _, n := range names {
		if strings.HasSuffix(n, segment.LogSuffix) && n > last {
			last = n
		}
	}
	if last == "" {
		return false
	}
	f, err := fsys.OpenFile("/data/orders-0/"+last, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, segment.BatchHeaderSize)
	if _, err := f.ReadAt(head, 0); err != nil {
		return false
	}
	h, err := segment.ParseBatchHeader(head, segment.DefaultMaxBatchBytes)
	if err != nil {
		return false
	}
	b := make([]byte, 1)
	pos := int64(h.Size()) + segment.BatchHeaderSize
	if _, err := f.ReadAt(b, pos); err != nil {
		return false
	}
	b[0] ^= 0x40
	_, err = f.WriteAt(b, pos)
	return err == nil
}
