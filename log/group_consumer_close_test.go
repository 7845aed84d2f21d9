package log_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// With auto-commit, Close commits the position after the records the last Poll
// returned, as kgo and the Java consumer do, so that a graceful restart redelivers
// nothing; CloseCommitsProcessedOnly keeps the older behaviour, committing only
// the records of earlier Polls.
func TestGroupCloseCommitsTheLastPoll(t *testing.T) {
	for _, tc := range []struct {
		name          string
		processedOnly bool
		want          func(first, second []*log.Record) int64
	}{
		{"default", false, func(_, second []*log.Record) int64 { return second[len(second)-1].Offset + 1 }},
		{"processed-only", true, func(first, _ []*log.Record) int64 { return first[len(first)-1].Offset + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := openStore(t, vfs.NewMem(), nil)
				createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
				produce(t, s, "t", 0, 100)
				g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, MaxPollRecords: 10, CloseCommitsProcessedOnly: tc.processedOnly})
				ctx := context.Background()
				first, err := g.Poll(ctx)
				require.NoError(t, err)
				second, err := g.Poll(ctx)
				require.NoError(t, err)
				require.NoError(t, g.Close())
				committed, err := s.CommittedOffsets(ctx, "g")
				require.NoError(t, err)
				require.Equal(t, tc.want(first, second), committed[tp("t", 0)].Offset)
			})
		})
	}
}
