package compare

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// kfakeStore is franz-go's kfake, a fake Kafka cluster that runs in the process,
// with its persistence on (kfake.DataDir: record batches in segment files of raw
// RecordBatch bytes, with a small index per batch; fetches read them back from
// the files), one broker, one topic of one partition, reached by franz-go's kgo
// client over a loopback TCP connection: the Kafka protocol, as an application
// would use Kafka itself.
//
// Settings: sync=batch is kfake.SyncWrites (every produced batch is fsynced
// before the produce response); sync=none is kfake's default (no fsync except on
// segment roll and shutdown, as Kafka's log.flush.interval.messages). Acks all
// (one broker), idempotent producer (kgo's default), no compression. Segments of
// 100 MiB (kfake's default), or sized to hold about segmentRecords records. A
// batch is one Produce per record with a long linger, then Flush: one
// RecordBatch, one produce request. kfake serves every request on one goroutine.
type kfakeStore struct {
	cluster *kfake.Cluster
	client  *kgo.Client
	lookup  *kgo.Client // a client pinned to Fetch v12, which names topics
	dir     string
}

const kfakeTopic = "bench"

func openKfake(tb testing.TB, dir string, cfg config) (store, string) {
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.SeedTopics(1, kfakeTopic),
		kfake.DataDir(dir),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(4 << 20)}),
	}
	if cfg.sync {
		opts = append(opts, kfake.SyncWrites())
	}
	if cfg.segmentRecords > 0 {
		// One RecordBatch of 100 records of 100 B is about 10.9 KB.
		segmentBytes := cfg.segmentRecords / lookupBatch * 10_900
		opts = append(opts, kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(segmentBytes)}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	s := &kfakeStore{cluster: c, dir: dir}
	s.client = s.newProducer(tb)
	return s, ""
}

// newProducer returns a kgo client producing to partition 0 of the topic.
func (s *kfakeStore) newProducer(tb testing.TB) *kgo.Client {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.cluster.ListenAddrs()...),
		kgo.DefaultProduceTopic(kfakeTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(time.Minute), // Flush sends the batch
		kgo.ProducerBatchMaxBytes(4<<20),
		kgo.MaxBufferedRecords(4*mibRecords),
	)
	if err != nil {
		tb.Fatal(err)
	}
	return cl
}

// fork gives a concurrent writer a client of its own: a separate producer.
func (s *kfakeStore) fork(tb testing.TB) store {
	cl := s.newProducer(tb)
	tb.Cleanup(cl.Close)
	return &kfakeStore{cluster: s.cluster, client: cl, dir: s.dir}
}

func (s *kfakeStore) prepare(values [][]byte) any {
	at := time.UnixMilli(baseTimestamp)
	records := make([]*kgo.Record, len(values))
	for i, v := range values {
		records[i] = &kgo.Record{Value: v, Timestamp: at.Add(time.Duration(i) * time.Millisecond)}
	}
	return records
}

func (s *kfakeStore) append(batch any) error {
	records := batch.([]*kgo.Record)
	ctx := context.Background()
	var mu sync.Mutex
	var firstErr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			firstErr = cmpOr(firstErr, err)
			mu.Unlock()
		}
	}
	for _, r := range records {
		r.Partition = 0
		s.client.Produce(ctx, r, promise)
	}
	if err := s.client.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return firstErr
}

// cmpOr returns a if it is not nil, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (s *kfakeStore) close() error {
	s.client.Close()
	if s.lookup != nil {
		s.lookup.Close()
	}
	s.cluster.Close()
	return nil
}

// readAll consumes partition 0 from offset 0 with a new kgo consumer (default
// fetch sizes), polling until it has n records.
func (s *kfakeStore) readAll(n int) (int64, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.cluster.ListenAddrs()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{kfakeTopic: {0: kgo.NewOffset().At(0)}}),
	)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx := context.Background()
	var valueBytes int64
	for records := 0; records < n; {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			return valueBytes, err
		}
		fetches.EachRecord(func(r *kgo.Record) {
			valueBytes += int64(len(r.Value))
			records++
		})
	}
	return valueBytes, nil
}

// get fetches offset i with one Fetch request (partition max bytes 1: the batch
// holding i) and decodes the batch up to it with kgo.ProcessFetchPartition.
func (s *kfakeStore) get(i int64) ([]byte, error) {
	if s.lookup == nil {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.cluster.ListenAddrs()...), kgo.MaxVersions(kversion.V3_0_0()))
		if err != nil {
			return nil, err
		}
		s.lookup = cl
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxBytes = 1
	topic := kmsg.NewFetchRequestTopic()
	topic.Topic = kfakeTopic
	part := kmsg.NewFetchRequestTopicPartition()
	part.FetchOffset = i
	part.PartitionMaxBytes = 1
	topic.Partitions = append(topic.Partitions, part)
	req.Topics = append(req.Topics, topic)
	resp, err := req.RequestWith(context.Background(), s.lookup)
	if err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, errors.New("kfake: unexpected fetch response")
	}
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Offset: i, Topic: kfakeTopic}, &resp.Topics[0].Partitions[0], kgo.DefaultDecompressor(), nil)
	if fp.Err != nil {
		return nil, fp.Err
	}
	if len(fp.Records) == 0 || fp.Records[0].Offset != i {
		return nil, errors.New("kfake: record not found")
	}
	return fp.Records[0].Value, nil
}

func (s *kfakeStore) segments() int {
	matches, _ := filepath.Glob(filepath.Join(s.dir, "*", "*", "*.dat"))
	if len(matches) == 0 {
		matches, _ = filepath.Glob(filepath.Join(s.dir, "*", "*.dat"))
	}
	return len(matches)
}
