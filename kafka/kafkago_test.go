package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
)

// segmentio/kafka-go round trips through the listener, each step of issue
// 15's list that kafka-go has an API for, with its own API (it negotiates the
// versions itself): the topic created with Client.CreateTopics, a Writer at
// each RequiredAcks and a partition Reader, group Readers (two members, a
// rebalance, CommitMessages and resume), Client.ListOffsets by time,
// Client.AlterConfigs, IncrementalAlterConfigs and DescribeConfigs.
//
// Not covered, for kafka-go lacks them: DeleteRecords (kafka-go v0.4 has no
// DeleteRecords request, only the API key's name), and transactions (its
// Writer and Reader have none; only the raw InitProducerID, AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit and EndTxn requests, which are no
// transactional client). TestKafkaGoReadCommitted reads what sarama's
// transactional producer writes, read_committed.

// kafkagoClient returns a kafka-go Client of ts.
func kafkagoClient(ts *testServer) *kafkago.Client {
	return &kafkago.Client{Addr: kafkago.TCP(ts.addr), Timeout: 10 * time.Second}
}

// kafkagoCreateTopic creates topic with Client.CreateTopics.
func kafkagoCreateTopic(ctx context.Context, t *testing.T, client *kafkago.Client, topic kafkago.TopicConfig) {
	t.Helper()
	if topic.ReplicationFactor == 0 {
		topic.ReplicationFactor = 1
	}
	resp, err := client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{topic}})
	require.NoError(t, err)
	require.NoError(t, resp.Errors[topic.Topic])
}

// kafkagoByKey is a Writer balancer that sends a message to the partition its
// key names ("0", "1", ...).
var kafkagoByKey = kafkago.BalancerFunc(func(m kafkago.Message, partitions ...int) int {
	var p int
	fmt.Sscan(string(m.Key), &p)
	return p
})

// TestKafkaGoRoundTrip: a topic created with kafka-go's Client.CreateTopics
// (again: TOPIC_ALREADY_EXISTS), records written by Writers with RequiredAcks
// None, One and All, and a partition Reader reading them back in order, each
// at its offset.
func TestKafkaGoRoundTrip(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := kafkagoClient(ts)
	kafkagoCreateTopic(ctx, t, client, kafkago.TopicConfig{Topic: "g", NumPartitions: 1})
	resp, err := client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{Topic: "g", NumPartitions: 1, ReplicationFactor: 1}}})
	require.NoError(t, err)
	require.ErrorIs(t, resp.Errors["g"], kafkago.TopicAlreadyExists)
	meta, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{"g"}})
	require.NoError(t, err)
	require.Len(t, meta.Topics, 1)
	require.Len(t, meta.Topics[0].Partitions, 1)

	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{ts.addr}, Topic: "g", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	// Each level's records are read back before the next level writes: an
	// acks=0 Writer is never told when its records are written, and the next
	// Writer's connection could otherwise overtake it.
	offset := int64(0)
	for _, acks := range []kafkago.RequiredAcks{kafkago.RequireNone, kafkago.RequireOne, kafkago.RequireAll} {
		w := &kafkago.Writer{Addr: kafkago.TCP(ts.addr), Topic: "g", RequiredAcks: acks, BatchTimeout: time.Millisecond}
		var messages []kafkago.Message
		for i := range 5 {
			messages = append(messages, kafkago.Message{Key: []byte("k"), Value: []byte(fmt.Sprintf("%s-%d", acks, i))})
		}
		require.NoError(t, w.WriteMessages(ctx, messages...), "acks %s", acks)
		require.NoError(t, w.Close())
		for i := range 5 {
			m, err := r.ReadMessage(ctx)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("%s-%d", acks, i), string(m.Value))
			require.Equal(t, "k", string(m.Key))
			require.Equal(t, offset, m.Offset)
			offset++
		}
	}
}

// kafkagoGroupRecord is a record a group Reader fetched and committed.
type kafkagoGroupRecord struct {
	member    string
	partition int
	offset    int64
	value     string
	commitErr error
}

// startKafkagoGroupReader runs a group Reader (client ID member) that fetches
// each record, commits it (CommitInterval 0: synchronously) and sends it to
// records, until the returned stop.
func startKafkagoGroupReader(t *testing.T, ts *testServer, member, group, topic string, records chan<- kafkagoGroupRecord) (stop func()) {
	t.Helper()
	dialer := *kafkago.DefaultDialer
	dialer.ClientID = member
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers: []string{ts.addr}, GroupID: group, Topic: topic, Dialer: &dialer,
		StartOffset: kafkago.FirstOffset, MaxWait: 100 * time.Millisecond,
		// A member learns of a rebalance from its heartbeat's answer, and
		// backs off after a failed join: short intervals keep the test quick.
		HeartbeatInterval: 100 * time.Millisecond, JoinGroupBackoff: 100 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return // the context's end
			}
			records <- kafkagoGroupRecord{member, m.Partition, m.Offset, string(m.Value), r.CommitMessages(ctx, m)}
		}
	}()
	return func() {
		cancel()
		<-done
		require.NoError(t, r.Close())
	}
}

// kafkagoWrite writes n records to each of partitions, valued
// "p<partition>-<offset>" for offsets from first.
func kafkagoWrite(ctx context.Context, t *testing.T, w *kafkago.Writer, partitions []int, first int64, n int) {
	t.Helper()
	var messages []kafkago.Message
	for _, p := range partitions {
		for i := range int64(n) {
			messages = append(messages, kafkago.Message{Key: []byte(fmt.Sprint(p)), Value: []byte(fmt.Sprintf("p%d-%d", p, first+i))})
		}
	}
	require.NoError(t, w.WriteMessages(ctx, messages...))
}

// receiveKafkagoGroup reads records until each partition's next has reached
// end, checking that each comes in order at next (committed) and advancing
// next; a record before next, a redelivery, is allowed if before and
// otherwise fails the test. It returns the records at next.
//
// The redeliveries are kafka-go's: a Reader's commits go through one channel
// that the current generation's commit loop serves, so the commit of a record
// fetched just before a rebalance is sent, and succeeds, only once the new
// generation has begun, after its members read the committed offsets; the new
// owner of the partition (the same member or the other) then reads the record
// again. Kafka's group protocol allows it (at least once); the record's commit
// did not fail.
func receiveKafkagoGroup(ctx context.Context, t *testing.T, records <-chan kafkagoGroupRecord, next, end map[int]int64, before int64) []kafkagoGroupRecord {
	t.Helper()
	var got []kafkagoGroupRecord
	for p := range end {
		for next[p] < end[p] {
			select {
			case r := <-records:
				require.Equal(t, fmt.Sprintf("p%d-%d", r.partition, r.offset), r.value)
				if r.offset < next[r.partition] && r.offset < before {
					t.Logf("redelivered during the rebalance: %+v", r)
					continue
				}
				require.Equal(t, next[r.partition], r.offset, "%+v", r)
				require.NoError(t, r.commitErr, "%+v", r)
				next[r.partition]++
				got = append(got, r)
			case <-ctx.Done():
				t.Fatalf("next %v, want %v: %v", next, end, ctx.Err())
			}
		}
	}
	return got
}

// TestKafkaGoGroupReadersTwoMembersRebalanceCommitResume: a kafka-go group
// Reader is given both partitions and fetches and commits every record; a
// second Reader joining makes a rebalance, after which DescribeGroups shows
// one partition assigned to each and each reads only its own; both close, and
// a new Reader resumes after the committed offsets, which OffsetFetch reports.
func TestKafkaGoGroupReadersTwoMembersRebalanceCommitResume(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := kafkagoClient(ts)
	kafkagoCreateTopic(ctx, t, client, kafkago.TopicConfig{Topic: "kg", NumPartitions: 2})
	w := &kafkago.Writer{Addr: kafkago.TCP(ts.addr), Topic: "kg", RequiredAcks: kafkago.RequireAll, BatchTimeout: time.Millisecond, Balancer: kafkagoByKey}
	defer w.Close()
	both := []int{0, 1}
	kafkagoWrite(ctx, t, w, both, 0, 10)

	records := make(chan kafkagoGroupRecord, 256)
	next := map[int]int64{0: 0, 1: 0}
	stopA := startKafkagoGroupReader(t, ts, "a", "kgroup", "kg", records)
	for _, r := range receiveKafkagoGroup(ctx, t, records, next, map[int]int64{0: 10, 1: 10}, 0) {
		require.Equal(t, "a", r.member)
	}

	// The second member joins: a record per partition at a time until b reads
	// one, which it can only once the rebalance has given it a partition. Any
	// record may be redelivered meanwhile (see receiveKafkagoGroup).
	stopB := startKafkagoGroupReader(t, ts, "b", "kgroup", "kg", records)
	for bRead := false; !bRead; {
		kafkagoWrite(ctx, t, w, both, next[0], 1)
		for _, r := range receiveKafkagoGroup(ctx, t, records, next, map[int]int64{0: next[0] + 1, 1: next[1] + 1}, math.MaxInt64) {
			bRead = bRead || r.member == "b"
		}
	}
	described, err := client.DescribeGroups(ctx, &kafkago.DescribeGroupsRequest{GroupIDs: []string{"kgroup"}})
	require.NoError(t, err)
	require.Len(t, described.Groups, 1)
	group := described.Groups[0]
	require.NoError(t, group.Error)
	require.Equal(t, "Stable", group.GroupState)
	require.Len(t, group.Members, 2)
	owner := map[int]string{}
	for _, m := range group.Members {
		require.Len(t, m.MemberAssignments.Topics, 1, "%+v", m)
		require.Len(t, m.MemberAssignments.Topics[0].Partitions, 1, "%+v", m)
		owner[m.MemberAssignments.Topics[0].Partitions[0]] = m.ClientID
	}
	require.ElementsMatch(t, []string{"a", "b"}, []string{owner[0], owner[1]})

	start := next[0]
	kafkagoWrite(ctx, t, w, both, start, 5)
	for _, r := range receiveKafkagoGroup(ctx, t, records, next, map[int]int64{0: start + 5, 1: start + 5}, start) {
		require.Equal(t, owner[r.partition], r.member, "%+v", r)
	}
	stopA()
	stopB()

	end := start + 5
	committed, err := client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: "kgroup", Topics: map[string][]int{"kg": both}})
	require.NoError(t, err)
	require.NoError(t, committed.Error)
	require.Len(t, committed.Topics["kg"], 2)
	for _, p := range committed.Topics["kg"] {
		require.NoError(t, p.Error)
		require.Equal(t, end, p.CommittedOffset, "partition %d", p.Partition)
	}

	kafkagoWrite(ctx, t, w, both, end, 3)
	stopC := startKafkagoGroupReader(t, ts, "c", "kgroup", "kg", records)
	defer stopC()
	for _, r := range receiveKafkagoGroup(ctx, t, records, next, map[int]int64{0: end + 3, 1: end + 3}, 0) {
		require.Equal(t, "c", r.member)
	}
}

// TestKafkaGoOffsetsByTimeAndConfigs: kafka-go's Client.ListOffsets by
// timestamp (with the first and last offsets), a topic's configs changed with
// Client.AlterConfigs (the given ones replace them all) and
// IncrementalAlterConfigs and read back with DescribeConfigs.
func TestKafkaGoOffsetsByTimeAndConfigs(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := kafkagoClient(ts)
	kafkagoCreateTopic(ctx, t, client, kafkago.TopicConfig{Topic: "kt", NumPartitions: 1,
		ConfigEntries: []kafkago.ConfigEntry{{ConfigName: log.ConfigRetentionMs, ConfigValue: "3600000"}}})

	w := &kafkago.Writer{Addr: kafkago.TCP(ts.addr), Topic: "kt", RequiredAcks: kafkago.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	base := time.UnixMilli(1_700_000_000_000)
	var messages []kafkago.Message
	for i := range 10 {
		messages = append(messages, kafkago.Message{Value: []byte(fmt.Sprint(i)), Time: base.Add(time.Duration(i) * time.Second)})
	}
	require.NoError(t, w.WriteMessages(ctx, messages...))

	offsetAt := func(request kafkago.OffsetRequest) kafkago.PartitionOffsets {
		t.Helper()
		resp, err := client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{"kt": {request}}})
		require.NoError(t, err)
		require.Len(t, resp.Topics["kt"], 1)
		require.NoError(t, resp.Topics["kt"][0].Error)
		return resp.Topics["kt"][0]
	}
	require.Equal(t, int64(0), offsetAt(kafkago.FirstOffsetOf(0)).FirstOffset)
	require.Equal(t, int64(10), offsetAt(kafkago.LastOffsetOf(0)).LastOffset)
	// kafka-go keys the answer by offset, valued with the timestamp asked.
	for _, tc := range []struct {
		at   time.Duration
		want int64
	}{{-time.Hour, 0}, {3 * time.Second, 3}, {3500 * time.Millisecond, 4}, {9 * time.Second, 9}, {time.Hour, -1}} {
		at := base.Add(tc.at)
		got := offsetAt(kafkago.TimeOffsetOf(0, at)).Offsets
		require.Len(t, got, 1, "at %v", tc.at)
		for offset := range got {
			require.Equal(t, tc.want, offset, "at %v", tc.at)
		}
	}

	describe := func() map[string]string {
		t.Helper()
		resp, err := client.DescribeConfigs(ctx, &kafkago.DescribeConfigsRequest{Resources: []kafkago.DescribeConfigRequestResource{{ResourceType: kafkago.ResourceTypeTopic, ResourceName: "kt"}}})
		require.NoError(t, err)
		require.Len(t, resp.Resources, 1)
		require.NoError(t, resp.Resources[0].Error)
		byName := map[string]string{}
		for _, e := range resp.Resources[0].ConfigEntries {
			byName[e.ConfigName] = e.ConfigValue
		}
		return byName
	}
	before := describe()
	require.Equal(t, "3600000", before[log.ConfigRetentionMs])
	defaultSegmentBytes := before[log.ConfigSegmentBytes]

	alter := func(validateOnly bool, configs ...kafkago.AlterConfigRequestConfig) error {
		t.Helper()
		resp, err := client.AlterConfigs(ctx, &kafkago.AlterConfigsRequest{ValidateOnly: validateOnly, Resources: []kafkago.AlterConfigRequestResource{{ResourceType: kafkago.ResourceTypeTopic, ResourceName: "kt", Configs: configs}}})
		require.NoError(t, err)
		require.Len(t, resp.Errors, 1)
		for _, err := range resp.Errors {
			return err
		}
		return nil
	}
	set := []kafkago.AlterConfigRequestConfig{{Name: log.ConfigSegmentBytes, Value: "1048576"}, {Name: log.ConfigMaxMessageBytes, Value: "65536"}}
	require.NoError(t, alter(true, set...))
	require.Equal(t, defaultSegmentBytes, describe()[log.ConfigSegmentBytes], "validate-only")
	require.NoError(t, alter(false, set...))
	after := describe()
	require.Equal(t, "1048576", after[log.ConfigSegmentBytes])
	require.Equal(t, "65536", after[log.ConfigMaxMessageBytes])
	require.NotEqual(t, "3600000", after[log.ConfigRetentionMs], "AlterConfigs replaces every config")
	require.ErrorIs(t, alter(false, kafkago.AlterConfigRequestConfig{Name: log.ConfigSegmentBytes, Value: "lots"}), kafkago.InvalidConfiguration)

	incremental, err := client.IncrementalAlterConfigs(ctx, &kafkago.IncrementalAlterConfigsRequest{Resources: []kafkago.IncrementalAlterConfigsRequestResource{{
		ResourceType: kafkago.ResourceTypeTopic, ResourceName: "kt",
		Configs: []kafkago.IncrementalAlterConfigsRequestConfig{
			{Name: log.ConfigRetentionMs, Value: "60000", ConfigOperation: kafkago.ConfigOperationSet},
			{Name: log.ConfigSegmentBytes, ConfigOperation: kafkago.ConfigOperationDelete},
			{Name: log.ConfigCleanupPolicy, Value: log.CleanupCompact, ConfigOperation: kafkago.ConfigOperationAppend},
		},
	}}})
	require.NoError(t, err)
	require.Len(t, incremental.Resources, 1)
	require.NoError(t, incremental.Resources[0].Error)
	after = describe()
	require.Equal(t, "60000", after[log.ConfigRetentionMs])
	require.Equal(t, defaultSegmentBytes, after[log.ConfigSegmentBytes])
	require.Equal(t, before[log.ConfigCleanupPolicy]+","+log.CleanupCompact, after[log.ConfigCleanupPolicy])
	require.Equal(t, "65536", after[log.ConfigMaxMessageBytes], "kept by the incremental change")
	c := describeConfig(t, ts.store, "kt")
	require.Equal(t, time.Minute, c.RetentionAge)

	incremental, err = client.IncrementalAlterConfigs(ctx, &kafkago.IncrementalAlterConfigsRequest{Resources: []kafkago.IncrementalAlterConfigsRequestResource{{
		ResourceType: kafkago.ResourceTypeTopic, ResourceName: "missing",
		Configs: []kafkago.IncrementalAlterConfigsRequestConfig{{Name: log.ConfigRetentionMs, Value: "60000", ConfigOperation: kafkago.ConfigOperationSet}},
	}}})
	require.NoError(t, err)
	require.True(t, errors.Is(incremental.Resources[0].Error, kafkago.UnknownTopicOrPartition), "an unknown topic: %v", incremental.Resources[0].Error)
}

// TestKafkaGoReadCommitted: kafka-go has no transactional producer, but its
// ListOffsets, Fetch and Reader take an isolation level. On a topic that
// sarama's transactional producer writes (committed transactions around an
// aborted one, then one left open), ListOffsets and Fetch read_committed
// answer the last stable offset (the open transaction's first offset) and the
// fetch ends there, while read_uncommitted reaches the high watermark.
// (kafka-go sends its Fetch with session ID -1 and epoch -1, which Kafka
// answers as a fetch without a session.)
//
// kafka-go's quirk: it filters nothing on its side (segmentio/kafka-go#1332,
// open): its Reader returns the transaction markers (control batches) as
// messages and, read_committed, the aborted records too, which a Kafka
// client drops with the fetch's aborted transactions. So once the open
// transaction commits, a read_committed Reader is checked for what kafka-go
// makes of it: every offset in order, the data records with their values.
func TestKafkaGoReadCommitted(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := kafkagoClient(ts)
	kafkagoCreateTopic(ctx, t, client, kafkago.TopicConfig{Topic: "kr", NumPartitions: 1})

	producer, err := sarama.NewSyncProducer([]string{ts.addr}, saramaTransactionalConfig("kafka-go-reader"))
	require.NoError(t, err)
	defer producer.Close()
	values := map[int64]string{} // the data records by offset
	send := func(v string) int64 {
		t.Helper()
		_, offset, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "kr", Value: sarama.StringEncoder(v)})
		require.NoError(t, err)
		values[offset] = v
		return offset
	}
	for _, txn := range []struct {
		values []string
		commit bool
	}{{[]string{"0", "1", "2"}, true}, {[]string{"x", "x"}, false}, {[]string{"3", "4", "5"}, true}} {
		require.NoError(t, producer.BeginTxn())
		for _, v := range txn.values {
			send(v)
		}
		if txn.commit {
			require.NoError(t, producer.CommitTxn())
		} else {
			require.NoError(t, producer.AbortTxn())
		}
	}
	require.NoError(t, producer.BeginTxn())
	open := send("6")
	send("7")

	last := func(isolation kafkago.IsolationLevel) int64 {
		t.Helper()
		resp, err := client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{IsolationLevel: isolation, Topics: map[string][]kafkago.OffsetRequest{"kr": {kafkago.LastOffsetOf(0)}}})
		require.NoError(t, err)
		require.NoError(t, resp.Topics["kr"][0].Error)
		return resp.Topics["kr"][0].LastOffset
	}
	require.Equal(t, open, last(kafkago.ReadCommitted), "the last stable offset")
	require.Equal(t, open+2, last(kafkago.ReadUncommitted), "the high watermark")
	for _, isolation := range []kafkago.IsolationLevel{kafkago.ReadCommitted, kafkago.ReadUncommitted} {
		fetched, err := client.Fetch(ctx, &kafkago.FetchRequest{Topic: "kr", Partition: 0, Offset: 0, MaxBytes: 1 << 20, IsolationLevel: isolation})
		require.NoError(t, err)
		require.NoError(t, fetched.Error)
		require.Equal(t, open, fetched.LastStableOffset)
		require.Equal(t, open+2, fetched.HighWatermark)
		end := open
		if isolation == kafkago.ReadUncommitted {
			end = open + 2
		}
		var offsets []int64
		for {
			r, err := fetched.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			offsets = append(offsets, r.Offset)
		}
		// Every data record below the end, the aborted ones included (kafka-go
		// does not drop them); the markers are left out by kafka-go's record
		// reader.
		var want []int64
		for offset := range values {
			if offset < end {
				want = append(want, offset)
			}
		}
		slices.Sort(want)
		require.Equal(t, want, offsets, "isolation %d: the fetch ends at %d", isolation, end)
	}

	require.NoError(t, producer.CommitTxn())
	plain, err := sarama.NewSyncProducer([]string{ts.addr}, saramaConfig(sarama.V3_6_0_0))
	require.NoError(t, err)
	defer plain.Close()
	_, end, err := plain.SendMessage(&sarama.ProducerMessage{Topic: "kr", Value: sarama.StringEncoder("end")})
	require.NoError(t, err)
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{ts.addr}, Topic: "kr", Partition: 0, MaxWait: 100 * time.Millisecond, IsolationLevel: kafkago.ReadCommitted})
	defer r.Close()
	for offset := int64(0); offset < end; offset++ {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err)
		require.Equal(t, offset, m.Offset)
		if v, ok := values[offset]; ok {
			require.Equal(t, v, string(m.Value), "offset %d", offset)
		} else {
			require.Len(t, m.Value, 6, "offset %d: a marker's value (version and coordinator epoch)", offset)
		}
	}
}
