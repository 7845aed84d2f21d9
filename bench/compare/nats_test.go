package compare

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsStore is a JetStream stream with file storage on an embedded nats-server
// (no listener: the client reaches it through nats.InProcessServer, a net.Pipe),
// written and read with the nats.go jetstream client, as an application
// embedding NATS would.
//
// Settings: sync=batch is the server's sync_interval "always" (Options.SyncAlways):
// the file store flushes and fsyncs every message before acknowledging it, since
// JetStream has no fsync per batch of publishes; sync=none is the default
// sync_interval of 2 minutes (a background fsync every 2 minutes, which a run of
// a second does not reach). One stream, one subject, default limits (8 MiB
// blocks: the block size is not configurable through the stream's config),
// AllowDirect for reads by sequence.
//
// A batch is 1000 (or 10,000) PublishAsync calls, then a wait for every
// acknowledgement: JetStream stores each message on its own (its atomic batch
// publish, for streams with AllowAtomicPublish, is about atomicity, not about
// writing or fsyncing a batch at once). A single durable record is a synchronous
// Publish.
type natsStore struct {
	server *server.Server
	conn   *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	dir    string
}

const natsStream, natsSubject = "BENCH", "bench"

func openNATS(tb testing.TB, dir string, cfg config) (store, string) {
	if cfg.sync && cfg.maxBatchRecords > batchRecords {
		return nil, fmt.Sprintf("JetStream fsyncs every message under SyncAlways (no fsync per batch): %d fsyncs per op, seconds per op", cfg.maxBatchRecords)
	}
	opts := &server.Options{
		ServerName:   "bench",
		DontListen:   true,
		JetStream:    true,
		StoreDir:     dir,
		NoLog:        true,
		NoSigs:       true,
		SyncInterval: 2 * time.Minute,
		SyncAlways:   cfg.sync,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		tb.Fatal("nats-server not ready")
	}
	s := &natsStore{server: ns, dir: dir}
	if s.conn, err = nats.Connect("", nats.InProcessServer(ns)); err != nil {
		ns.Shutdown()
		tb.Fatal(err)
	}
	if s.js, err = jetstream.New(s.conn, jetstream.WithPublishAsyncMaxPending(4*mibRecords)); err != nil {
		s.close()
		tb.Fatal(err)
	}
	s.stream, err = s.js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name:        natsStream,
		Subjects:    []string{natsSubject},
		Storage:     jetstream.FileStorage,
		AllowDirect: true,
	})
	if err != nil {
		s.close()
		tb.Fatal(err)
	}
	return s, ""
}

func (s *natsStore) prepare(values [][]byte) any { return values }

func (s *natsStore) append(batch any) error {
	values := batch.([][]byte)
	if len(values) == 1 {
		_, err := s.js.Publish(context.Background(), natsSubject, values[0])
		return err
	}
	futures := make([]jetstream.PubAckFuture, len(values))
	for i, v := range values {
		f, err := s.js.PublishAsync(natsSubject, v)
		if err != nil {
			return err
		}
		futures[i] = f
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		}
	}
	return nil
}

func (s *natsStore) close() error {
	if s.conn != nil {
		s.conn.Close()
	}
	s.server.Shutdown()
	s.server.WaitForShutdown()
	return nil
}

// readAll consumes the stream from its first message with an ordered consumer
// (ephemeral, no acks), buffering up to 1000 messages in the client.
func (s *natsStore) readAll(n int) (int64, error) {
	ctx := context.Background()
	consumer, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return 0, err
	}
	messages, err := consumer.Messages(jetstream.PullMaxMessages(batchRecords))
	if err != nil {
		return 0, err
	}
	defer messages.Stop()
	var valueBytes int64
	for range n {
		msg, err := messages.Next()
		if err != nil {
			return valueBytes, err
		}
		valueBytes += int64(len(msg.Data()))
	}
	return valueBytes, nil
}

// get reads message i+1 (sequences start at 1) with a direct get: a request to
// the server, answered from the file store.
func (s *natsStore) get(i int64) ([]byte, error) {
	msg, err := s.stream.GetMsg(context.Background(), uint64(i)+1)
	if err != nil {
		return nil, err
	}
	if msg.Sequence != uint64(i)+1 {
		return nil, errors.New("nats: wrong message")
	}
	return msg.Data, nil
}

func (s *natsStore) segments() int {
	return countFiles(filepath.Join(s.dir, "jetstream", "$G", "streams", natsStream, "msgs"), "*.blk")
}
