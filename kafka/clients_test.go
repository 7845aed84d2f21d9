package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
)

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
