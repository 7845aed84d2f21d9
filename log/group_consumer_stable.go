package log

import (
	"context"
	"errors"
	"time"

	"github.com/stratalog/strata/group"
)

// fetchCommitted returns the group's committed offsets of tps, where read starts
// them. In ReadCommitted it waits, heartbeating, while a transaction holds
// offsets of tps pending (KIP-447: Kafka's read_committed consumer fetches with
// RequireStable and retries on UNSTABLE_OFFSET_COMMIT): started from the offset
// committed before that transaction, the consumer would process again the input
// whose output the transaction commits. The wait ends with the transaction
// (committed, aborted, or aborted by the coordinator at its timeout), or when the
// consumer closes; then the offsets are fetched as they are.
func (g *GroupConsumer) fetchCommitted(tps []TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	if g.opts.IsolationLevel != ReadCommitted {
		return g.member.Fetch(context.Background(), tps)
	}
	var (
		committed map[TopicPartition]CommittedOffset
		err       error
	)
	g.heartbeating(func() {
		pause := time.Millisecond
		for {
			committed, err = g.member.FetchStable(context.Background(), tps)
			if !errors.Is(err, group.ErrUnstableOffsetCommit) {
				return
			}
			t := time.NewTimer(pause)
			select {
			case <-g.stop:
				t.Stop()
				committed, err = g.member.Fetch(context.Background(), tps)
				return
			case <-t.C:
			}
			pause = min(2*pause, unstableOffsetsBackoff)
		}
	})
	return committed, err
}

// unstableOffsetsBackoff is the longest pause between two fetches of offsets a
// transaction holds pending (Kafka's retry.backoff.ms).
const unstableOffsetsBackoff = 100 * time.Millisecond
