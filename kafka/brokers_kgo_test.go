package kafka

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/twmb/franz-go/pkg/kgo"
)

// failoverRecords is how many records each partition gets in the failover
// tests.
const failoverRecords = 200

// producedRecord is a record kgo acknowledged.
type producedRecord struct {
	partition int32
	offset    int64
	value     string
}

// produceAcrossFailover produces failoverRecords records to each of the
// partitions of topic with an idempotent kgo producer (acks=all), values
// "<partition>-<seq>", and calls failover once a quarter of them is
// acknowledged, while the rest are being produced. It returns the acknowledged
// records; any produce error fails the test.
func produceAcrossFailover(t *testing.T, ctx context.Context, bs *brokersServer, topic string, partitions int32, failover func()) []producedRecord {
	t.Helper()
	producer := bs.client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(64))
	var mu sync.Mutex
	var acked []producedRecord
	var errs []error
	quarter := make(chan struct{})
	var quarterOnce sync.Once
	total := int(partitions) * failoverRecords
	for seq := range failoverRecords {
		for p := range partitions {
			r := &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "%d-%d", p, seq)}
			producer.Produce(ctx, r, func(r *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				acked = append(acked, producedRecord{r.Partition, r.Offset, string(r.Value)})
				if len(acked) >= total/4 {
					quarterOnce.Do(func() { close(quarter) })
				}
			})
		}
		if seq == failoverRecords/2 { // half produced: the failover has happened or happens now
			select {
			case <-quarter:
			case <-ctx.Done():
				t.Fatal("no quarter of the records acknowledged")
			}
			failover()
		}
	}
	if err := producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatalf("%d records not acknowledged, first: %v", len(errs), errs[0])
	}
	if len(acked) != total {
		t.Fatalf("%d records acknowledged, want %d", len(acked), total)
	}
	return acked
}

// consumedRecord is a record a consumer read.
type consumedRecord struct {
	partition     int32
	offset        int64
	value         string
	producerID    int64
	producerEpoch int16
}

// checkReadBack checks that every acknowledged record was read back at its
// offset, that each partition was read in offset order with every producer
// session's records in the order they were produced, and none twice within a
// session.
func checkReadBack(t *testing.T, acked []producedRecord, consumed []consumedRecord) {
	t.Helper()
	type key struct {
		partition int32
		offset    int64
	}
	read := map[key]consumedRecord{}
	lastOffset := map[int32]int64{}
	type session struct {
		partition int32
		id        int64
		epoch     int16
	}
	lastSeq := map[session]int{}
	seen := map[string]bool{}
	for _, r := range consumed {
		if last, ok := lastOffset[r.partition]; ok && r.offset <= last {
			t.Fatalf("partition %d: offset %d read after %d", r.partition, r.offset, last)
		}
		lastOffset[r.partition] = r.offset
		read[key{r.partition, r.offset}] = r
		s := session{r.partition, r.producerID, r.producerEpoch}
		seq, err := strconv.Atoi(r.value[strings.IndexByte(r.value, '-')+1:])
		if err != nil {
			t.Fatalf("value %q", r.value)
		}
		if last, ok := lastSeq[s]; ok && seq <= last {
			t.Errorf("partition %d, producer %d epoch %d: record %d read after %d (a duplicate or out of order)", r.partition, r.producerID, r.producerEpoch, seq, last)
		}
		lastSeq[s] = seq
		sessionValue := fmt.Sprintf("%d/%d/%s", r.producerID, r.producerEpoch, r.value)
		if seen[sessionValue] {
			t.Errorf("%q read twice in one idempotent session", r.value)
		}
		seen[sessionValue] = true
	}
	for _, a := range acked {
		r, ok := read[key{a.partition, a.offset}]
		if !ok || r.value != a.value {
			t.Errorf("acknowledged %q at %d-%d: read %+v", a.value, a.partition, a.offset, r)
		}
	}
}

// TestBrokersKgoProduceAndConsumeAcrossFailover serves a store of three brokers
// on three listeners to kgo clients seeded with all three: an idempotent
// producer (acks=all) and a consumer, both running while the broker leading a
// partition is stopped. The clients meet the stopped broker's closed
// connections and NOT_LEADER_OR_FOLLOWER, refresh their metadata and move to the
// new leaders: every acknowledged record is read back, at its offset, in order,
// once per idempotent session.
func TestBrokersKgoProduceAndConsumeAcrossFailover(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a bound on a hang, not a wait
	defer cancel()
	const partitions = 3
	if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: partitions, ReplicationFactor: 3, MinInsyncReplicas: 2}); err != nil {
		t.Fatal(err)
	}
	consumer := bs.client(t, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(time.Second))
	consumed := make(chan consumedRecord, partitions*failoverRecords)
	consuming := make(chan struct{})
	go func() {
		defer close(consuming)
		for n := 0; n < partitions*failoverRecords; {
			fetches := consumer.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			fetches.EachRecord(func(r *kgo.Record) {
				consumed <- consumedRecord{r.Partition, r.Offset, string(r.Value), r.ProducerID, r.ProducerEpoch}
				n++
			})
		}
	}()

	stopped := describePartition(t, store, "orders", 0).Leader
	acked := produceAcrossFailover(t, ctx, bs, "orders", partitions, func() {
		if err := store.StopBroker(stopped); err != nil {
			t.Error(err)
		}
	})
	if leader := describePartition(t, store, "orders", 0).Leader; leader == stopped {
		t.Fatalf("partition 0 still led by the stopped broker %d", stopped)
	}
	<-consuming
	close(consumed)
	var all []consumedRecord
	for r := range consumed {
		all = append(all, r)
	}
	if len(all) < partitions*failoverRecords {
		t.Fatalf("consumed %d records before the bound, want %d", len(all), partitions*failoverRecords)
	}
	checkReadBack(t, acked, all)
	if !strings.Contains(bs.logs.String(), "the broker is stopped") {
		t.Errorf("no client request met the stopped broker: %s", bs.logs.String())
	}
}

// TestBrokersKgoGroupConsumerAcrossCoordinatorFailover group-consumes a topic
// with a kgo member committing after each poll while the broker that is its
// group coordinator (and leads a partition of the topic) is stopped: the member
// finds the new coordinator (the new leader of __consumer_offsets-0), keeps its
// membership and commits there; every record is read, each partition in
// order, and the committed offsets end at the partitions' ends.
func TestBrokersKgoGroupConsumerAcrossCoordinatorFailover(t *testing.T) {
	store := openThreeBrokers(t)
	bs := serveEachBroker(t, store, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a bound on a hang, not a wait
	defer cancel()
	const partitions = 3
	if err := store.CreateTopic(ctx, "orders", log.TopicConfig{Partitions: partitions, ReplicationFactor: 3, MinInsyncReplicas: 2}); err != nil {
		t.Fatal(err)
	}
	producer := bs.client(t, kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for seq := range failoverRecords {
		for p := range int32(partitions) {
			producer.Produce(ctx, &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "%d-%d", p, seq)}, func(_ *kgo.Record, err error) {
				if err != nil {
					t.Errorf("produce: %v", err)
				}
			})
		}
	}
	if err := producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	member := bs.client(t, kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("g"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(time.Second))
	next := map[int32]int{} // the next sequence number expected of each partition
	read, stopped := 0, false
	coordinator := replica.NoBroker
	for read < partitions*failoverRecords {
		fetches := member.PollRecords(ctx, 20) // several polls, so that the failover comes between commits
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before the bound", read, partitions*failoverRecords)
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s-%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			seq, err := strconv.Atoi(string(r.Value[strings.IndexByte(string(r.Value), '-')+1:]))
			if err != nil {
				t.Fatalf("value %q", r.Value)
			}
			// A record after the last commit may be read again (at least once).
			if seq > next[r.Partition] {
				t.Fatalf("partition %d: record %d read when %d was next", r.Partition, seq, next[r.Partition])
			}
			if seq == next[r.Partition] {
				next[r.Partition]++
				read++
			}
		})
		if err := member.CommitUncommittedOffsets(ctx); err != nil {
			t.Logf("commit: %v (retried with the next poll)", err)
		}
		if !stopped && read >= partitions*failoverRecords/4 {
			stopped = true
			coordinator = describePartition(t, store, log.OffsetsTopic, 0).Leader
			if err := store.StopBroker(coordinator); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := member.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	if now := describePartition(t, store, log.OffsetsTopic, 0).Leader; now == coordinator {
		t.Fatalf("the coordinator %d still leads %s-0 once stopped", coordinator, log.OffsetsTopic)
	}
	committed, err := store.CommittedOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(partitions) {
		if o, ok := committed[log.TopicPartition{Topic: "orders", Partition: p}]; !ok || o.Offset != failoverRecords {
			t.Errorf("group g's committed offset of orders-%d: %+v, want %d", p, o, failoverRecords)
		}
	}
}
