package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
)

// TestSaramaRoundTrip: IBM/sarama's sync producer (acks all) and partition
// consumer through the listener.
func TestSaramaRoundTrip(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "s", log.TopicConfig{Partitions: 1}))

	config := sarama.NewConfig()
	config.Version = sarama.V2_1_0_0
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	producer, err := sarama.NewSyncProducer([]string{ts.addr}, config)
	require.NoError(t, err)
	defer producer.Close()
	for i := range 10 {
		_, offset, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "s", Value: sarama.StringEncoder(fmt.Sprint("m", i))})
		require.NoError(t, err)
		require.Equal(t, int64(i), offset)
	}

	consumer, err := sarama.NewConsumer([]string{ts.addr}, config)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("s", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	for i := range 10 {
		select {
		case m := <-pc.Messages():
			require.Equal(t, fmt.Sprint("m", i), string(m.Value))
			require.Equal(t, int64(i), m.Offset)
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("message %d: %v", i, ctx.Err())
		}
	}
}

// TestKafkaGoRoundTrip: segmentio/kafka-go's Writer (acks all) and a partition
// Reader through the listener.
func TestKafkaGoRoundTrip(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "g", log.TopicConfig{Partitions: 1}))

	w := &kafkago.Writer{Addr: kafkago.TCP(ts.addr), Topic: "g", RequiredAcks: kafkago.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	var messages []kafkago.Message
	for i := range 10 {
		messages = append(messages, kafkago.Message{Key: []byte("k"), Value: []byte(fmt.Sprint("m", i))})
	}
	require.NoError(t, w.WriteMessages(ctx, messages...))

	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{ts.addr}, Topic: "g", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	for i := range 10 {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint("m", i), string(m.Value))
		require.Equal(t, int64(i), m.Offset)
	}
}
