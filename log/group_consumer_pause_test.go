package log_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// A GroupConsumer pauses and resumes partitions it owns, as Kafka's consumer does
// under a subscription: a paused partition's records wait, the others flow, a Poll
// with only paused partitions left waits, and Resume wakes it at the kept position.
func TestGroupPauseAndResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		produce(t, s, "t", 0, 5)
		produce(t, s, "t", 1, 5)
		ctx := context.Background()
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}})
		defer g.Close()
		synctest.Wait() // joined, both partitions assigned
		require.ElementsMatch(t, []log.TopicPartition{tp("t", 0), tp("t", 1)}, g.Assignment())

		require.NoError(t, g.Pause(tp("t", 0)))
		require.Equal(t, []log.TopicPartition{tp("t", 0)}, g.Paused())
		require.ErrorIs(t, g.Pause(tp("t", 2)), log.ErrUnknownPartition)
		require.ErrorIs(t, g.Pause(tp("other", 0)), log.ErrUnknownPartition)
		require.Equal(t, []log.TopicPartition{tp("t", 0)}, g.Paused(), "a failed Pause changes nothing")

		var got []*log.Record
		for len(got) < 5 {
			records, err := g.Poll(ctx)
			require.NoError(t, err)
			got = append(got, records...)
		}
		for _, r := range got {
			require.EqualValues(t, 1, r.Partition, "a record of the paused partition")
		}

		polled := make(chan []*log.Record, 1)
		go func() {
			records, err := g.Poll(ctx)
			if err != nil {
				records = nil
			}
			polled <- records
		}()
		synctest.Wait()
		select {
		case records := <-polled:
			t.Fatalf("Poll returned %d records with only a paused partition left to read", len(records))
		default:
		}

		require.NoError(t, g.Resume(tp("t", 0)))
		records := <-polled
		require.NotEmpty(t, records)
		require.EqualValues(t, 0, records[0].Partition)
		require.EqualValues(t, 0, records[0].Offset, "the position was kept while paused")
		require.Empty(t, g.Paused())
	})
}
