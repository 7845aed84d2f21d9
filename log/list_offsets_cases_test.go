package log_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestListOffsetsEmptyTrimmedAndCompacted: ListOffsets on an empty partition, on
// one whose oldest segments retention deleted, and on a compacted one. A time
// before every record answers the start offset (never an offset retention
// removed); a time after every record the end offset; on a compacted partition,
// reading from the offset for t returns exactly the kept records from t on.
func TestListOffsetsEmptyTrimmedAndCompacted(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{RetentionCheckInterval: -1})
	ctx := context.Background()
	t0 := time.UnixMilli(1_800_000_000_000)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	createTopic(t, s, "empty", log.TopicConfig{})
	createTopic(t, s, "trimmed", log.TopicConfig{SegmentBytes: 300, RetentionBytes: 600})
	createTopic(t, s, "table", log.TopicConfig{CleanupPolicy: log.CleanupCompact, SegmentBytes: 300})
	for i := range 40 {
		require.NoError(t, s.Produce(ctx,
			&log.Record{Topic: "trimmed", Value: []byte("value-value"), Timestamp: at(i)},
			&log.Record{Topic: "table", Key: fmt.Appendf(nil, "k%d", i%4), Value: []byte("value-value"), Timestamp: at(i)}))
	}
	_, err := s.ApplyRetention()
	require.NoError(t, err)
	_, err = s.CompactPartition(ctx, tp("table", 0))
	require.NoError(t, err)

	start, err := s.ListStartOffsets("empty", "trimmed", "table")
	require.NoError(t, err)
	end, err := s.ListEndOffsets("empty", "trimmed", "table")
	require.NoError(t, err)
	trimmedStart := start[tp("trimmed", 0)]
	require.Positive(t, trimmedStart, "retention deleted the oldest segments")
	require.Equal(t, map[log.TopicPartition]int64{tp("empty", 0): 0, tp("trimmed", 0): trimmedStart, tp("table", 0): 0}, start)
	require.Equal(t, map[log.TopicPartition]int64{tp("empty", 0): 0, tp("trimmed", 0): 40, tp("table", 0): 40}, end)

	before, err := s.ListOffsetsForTime(at(-1), "empty", "trimmed")
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]int64{tp("empty", 0): 0, tp("trimmed", 0): trimmedStart}, before)
	after, err := s.ListOffsetsForTime(at(40), "empty", "trimmed", "table")
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]int64{tp("empty", 0): 0, tp("trimmed", 0): 40, tp("table", 0): 40}, after)
	inside, err := s.ListOffsetsForTime(at(int(trimmedStart)+3), "trimmed")
	require.NoError(t, err)
	require.Equal(t, trimmedStart+3, inside[tp("trimmed", 0)])

	// The compacted table keeps the last record of each key in its cleaned
	// segments, and the active segment whole.
	from, err := s.ListOffsetsForTime(at(10), "table")
	require.NoError(t, err)
	c := newConsumer(t, s, log.ConsumerOptions{}, tp("table", 0))
	require.NoError(t, c.Seek(tp("table", 0), from[tp("table", 0)]))
	var first time.Time
	n := 0
	for {
		r, err := c.TryNext()
		require.NoError(t, err)
		if r == nil {
			break
		}
		if n == 0 {
			first = r.Timestamp
		}
		require.False(t, r.Timestamp.Before(at(10)), "offset %d", r.Offset)
		n++
	}
	require.Positive(t, n)
	all := newConsumer(t, s, log.ConsumerOptions{}, tp("table", 0))
	kept, total := 0, 0
	for {
		r, err := all.TryNext()
		require.NoError(t, err)
		if r == nil {
			break
		}
		total++
		if !r.Timestamp.Before(at(10)) {
			kept++
		}
	}
	require.Less(t, total, 40, "compaction removed records")
	require.Equal(t, kept, n, "every kept record from t on, first at %v", first)
}
