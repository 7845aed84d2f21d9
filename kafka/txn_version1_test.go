package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
)

// TestSaramaTransactionsVersion1: IBM/sarama's transactional producer, which
// ends its transactions with EndTxn below v5 (transaction version 1: it expects
// no epoch bump), runs three transactions in a row through the listener (commit,
// abort, commit): none is fenced, and a read_committed sarama consumer reads
// the records of the committed ones only, in order.
func TestSaramaTransactionsVersion1(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "s", log.TopicConfig{Partitions: 1}))

	config := sarama.NewConfig()
	config.Version = sarama.V2_6_0_0
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	config.Producer.Idempotent = true
	config.Producer.Transaction.ID = "sarama-tx"
	config.Net.MaxOpenRequests = 1
	producer, err := sarama.NewSyncProducer([]string{ts.addr}, config)
	require.NoError(t, err)
	defer producer.Close()
	var want []string
	for i, commit := range []bool{true, false, true} {
		require.NoError(t, producer.BeginTxn(), "transaction %d", i)
		for j := range 3 {
			v := fmt.Sprintf("t%d-%d", i, j)
			_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "s", Value: sarama.StringEncoder(v)})
			require.NoError(t, err, "transaction %d", i)
			if commit {
				want = append(want, v)
			}
		}
		if commit {
			require.NoError(t, producer.CommitTxn(), "transaction %d", i)
		} else {
			require.NoError(t, producer.AbortTxn(), "transaction %d", i)
		}
	}

	config.Consumer.IsolationLevel = sarama.ReadCommitted
	consumer, err := sarama.NewConsumer([]string{ts.addr}, config)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("s", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	var got []string
	for len(got) < len(want) {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("read %q: %v", got, ctx.Err())
		}
	}
	require.Equal(t, want, got)
}
