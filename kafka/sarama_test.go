package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
)

// IBM/sarama round trips through the listener, each step of issue 15's list
// with sarama's own API: the topic created through its ClusterAdmin, produce at
// each acks level and consume, a consumer group of two members with a rebalance,
// commit and resume, offsets by time, DeleteRecords, AlterConfig and
// IncrementalAlterConfig, and a transactional consume-transform-produce
// (TestSaramaTransactionsVersion1, in txn_version1_test.go, runs sarama's
// transactions back to back). The basic test runs at sarama's Kafka 2.1
// (the floor this listener keeps), the others at Kafka 3.6.

// saramaConfig is a sarama config at version: sync producers return their
// successes, partitions are chosen by the message, consumers start at the
// oldest offset.
func saramaConfig(version sarama.KafkaVersion) *sarama.Config {
	config := sarama.NewConfig()
	config.Version = version
	config.Producer.Return.Successes = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Return.Errors = true
	return config
}

// saramaAdmin returns a ClusterAdmin of ts, closed at cleanup.
func saramaAdmin(t *testing.T, ts *testServer, config *sarama.Config) sarama.ClusterAdmin {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{ts.addr}, config)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	return admin
}

// saramaReceive returns the next message of pc.
func saramaReceive(ctx context.Context, t *testing.T, pc sarama.PartitionConsumer) *sarama.ConsumerMessage {
	t.Helper()
	select {
	case m := <-pc.Messages():
		return m
	case err := <-pc.Errors():
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return nil
}

// TestSaramaRoundTrip: at sarama's Kafka 2.1, a topic created with
// ClusterAdmin.CreateTopic, records produced with acks 0 (NoResponse), 1
// (WaitForLocal) and all (WaitForAll) by sync producers, and a partition
// consumer reading them back in order, each at its offset.
func TestSaramaRoundTrip(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	config := saramaConfig(sarama.V2_1_0_0)
	admin := saramaAdmin(t, ts, config)
	require.NoError(t, admin.CreateTopic("s", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false))
	err := admin.CreateTopic("s", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false)
	require.ErrorIs(t, err, sarama.ErrTopicAlreadyExists)
	topics, err := admin.ListTopics()
	require.NoError(t, err)
	require.Equal(t, int32(1), topics["s"].NumPartitions)

	consumer, err := sarama.NewConsumer([]string{ts.addr}, config)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("s", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()

	// Each level's records are read back before the next level produces: an
	// acks=0 producer is never told when its records are written, and the
	// next producer's connection could otherwise overtake it.
	offset := int64(0)
	for _, acks := range []sarama.RequiredAcks{sarama.NoResponse, sarama.WaitForLocal, sarama.WaitForAll} {
		pconfig := saramaConfig(sarama.V2_1_0_0)
		pconfig.Producer.RequiredAcks = acks
		producer, err := sarama.NewSyncProducer([]string{ts.addr}, pconfig)
		require.NoError(t, err)
		for i := range 5 {
			_, got, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "s", Value: sarama.StringEncoder(fmt.Sprintf("acks%d-%d", acks, i))})
			require.NoError(t, err, "acks %d", acks)
			if acks != sarama.NoResponse {
				require.Equal(t, offset+int64(i), got, "acks %d", acks)
			}
		}
		for i := range 5 {
			m := saramaReceive(ctx, t, pc)
			require.Equal(t, fmt.Sprintf("acks%d-%d", acks, i), string(m.Value))
			require.Equal(t, offset, m.Offset)
			offset++
		}
		require.NoError(t, producer.Close())
	}
}

// saramaGroupRecord is a record a consumer group member received.
type saramaGroupRecord struct {
	member    string
	partition int32
	offset    int64
	value     string
}

// saramaGroupHandler is a sarama ConsumerGroupHandler that reports each
// session's claims and every record, marking and committing each (autocommit
// off: the commit is synchronous).
type saramaGroupHandler struct {
	member  string
	claims  chan map[string][]int32
	records chan saramaGroupRecord
}

func newSaramaGroupHandler(member string) *saramaGroupHandler {
	return &saramaGroupHandler{member: member, claims: make(chan map[string][]int32, 16), records: make(chan saramaGroupRecord, 256)}
}

func (h *saramaGroupHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.claims <- s.Claims()
	return nil
}

func (h *saramaGroupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaGroupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		s.MarkMessage(m, "")
		s.Commit()
		h.records <- saramaGroupRecord{h.member, m.Partition, m.Offset, string(m.Value)}
	}
	return nil
}

// saramaGroupMember is a running member of a sarama consumer group.
type saramaGroupMember struct {
	group  sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan error
}

// startSaramaGroupMember runs h in group on topics until stop.
func startSaramaGroupMember(t *testing.T, ts *testServer, config *sarama.Config, group string, topics []string, h sarama.ConsumerGroupHandler) *saramaGroupMember {
	t.Helper()
	cg, err := sarama.NewConsumerGroup([]string{ts.addr}, group, config)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	m := &saramaGroupMember{group: cg, cancel: cancel, done: make(chan error, 1)}
	go func() {
		for {
			err := cg.Consume(ctx, topics, h)
			if ctx.Err() != nil {
				// Stopped: Consume may answer the context's error, from a
				// join or a backoff it was in.
				m.done <- nil
				return
			}
			if err != nil {
				m.done <- err
				return
			}
		}
	}()
	go func() {
		for err := range cg.Errors() {
			t.Logf("consumer group error: %v", err)
		}
	}()
	return m
}

// stop ends the member's session and leaves the group.
func (m *saramaGroupMember) stop(t *testing.T) {
	t.Helper()
	m.cancel()
	require.NoError(t, <-m.done)
	require.NoError(t, m.group.Close())
}

// saramaProduceTo produces n records to each of partitions with a sync
// producer, valued "p<partition>-<offset>" for offsets from first.
func saramaProduceTo(t *testing.T, producer sarama.SyncProducer, topic string, partitions []int32, first int64, n int) {
	t.Helper()
	for _, p := range partitions {
		for i := range int64(n) {
			_, offset, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.StringEncoder(fmt.Sprintf("p%d-%d", p, first+i))})
			require.NoError(t, err)
			require.Equal(t, first+i, offset)
		}
	}
}

// receiveSaramaGroup reads n records from records, checking that each
// partition's come in order from next and advancing next.
func receiveSaramaGroup(ctx context.Context, t *testing.T, records <-chan saramaGroupRecord, n int, next map[int32]int64) []saramaGroupRecord {
	t.Helper()
	var got []saramaGroupRecord
	for len(got) < n {
		select {
		case r := <-records:
			require.Equal(t, next[r.partition], r.offset, "%+v", r)
			require.Equal(t, fmt.Sprintf("p%d-%d", r.partition, r.offset), r.value)
			next[r.partition]++
			got = append(got, r)
		case <-ctx.Done():
			t.Fatalf("after %d records of %d: %v", len(got), n, ctx.Err())
		}
	}
	return got
}

// TestSaramaConsumerGroupTwoMembersRebalanceCommitResume: a sarama
// ConsumerGroup member claims both partitions and reads and commits every
// record; a second member joining makes a rebalance that gives each one
// partition, and each then reads only its own; both close, and a new member
// resumes after the committed offsets, which ListConsumerGroupOffsets reports.
// At sarama's Kafka 3.6 and 2.1 (the group APIs' older versions).
func TestSaramaConsumerGroupTwoMembersRebalanceCommitResume(t *testing.T) {
	for _, version := range saramaVersions {
		t.Run(version.String(), func(t *testing.T) { testSaramaConsumerGroup(t, version) })
	}
}

// saramaVersions are the versions of sarama's config that the group and admin
// tests run at: a recent one and the floor.
var saramaVersions = []sarama.KafkaVersion{sarama.V3_6_0_0, sarama.V2_1_0_0}

func testSaramaConsumerGroup(t *testing.T, version sarama.KafkaVersion) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	config := saramaConfig(version)
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Consumer.Offsets.AutoCommit.Enable = false
	// A member learns of a rebalance from its heartbeat's answer: a short
	// interval keeps the test quick.
	config.Consumer.Group.Heartbeat.Interval = 100 * time.Millisecond
	// sarama sends a member's commits on the connection its fetches use (one
	// broker leads the partitions and coordinates the group), behind the
	// fetch it keeps waiting for new records; requests on a connection are
	// answered in order, as Kafka does, so each commit waits for that fetch's
	// MaxWaitTime (500 ms by default). A short one keeps the test quick.
	config.Consumer.MaxWaitTime = 50 * time.Millisecond
	admin := saramaAdmin(t, ts, config)
	require.NoError(t, admin.CreateTopic("sg", &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false))
	producer, err := sarama.NewSyncProducer([]string{ts.addr}, config)
	require.NoError(t, err)
	defer producer.Close()
	both := []int32{0, 1}
	saramaProduceTo(t, producer, "sg", both, 0, 10)

	next := map[int32]int64{0: 0, 1: 0}
	a := newSaramaGroupHandler("a")
	memberA := startSaramaGroupMember(t, ts, config, "sgroup", []string{"sg"}, a)
	require.Equal(t, map[string][]int32{"sg": both}, receiveClaims(ctx, t, a.claims))
	for _, r := range receiveSaramaGroup(ctx, t, a.records, 20, next) {
		require.Equal(t, "a", r.member)
	}

	b := newSaramaGroupHandler("b")
	memberB := startSaramaGroupMember(t, ts, config, "sgroup", []string{"sg"}, b)
	claimsA, claimsB := receiveClaims(ctx, t, a.claims), receiveClaims(ctx, t, b.claims)
	require.Len(t, claimsA["sg"], 1, "a's claims after the rebalance")
	require.Len(t, claimsB["sg"], 1, "b's claims after the rebalance")
	owner := map[int32]string{claimsA["sg"][0]: "a", claimsB["sg"][0]: "b"}
	require.Len(t, owner, 2, "a has %v, b %v", claimsA, claimsB)

	saramaProduceTo(t, producer, "sg", both, 10, 5)
	records := make(chan saramaGroupRecord, 256)
	go func() {
		for {
			select {
			case r := <-a.records:
				records <- r
			case r := <-b.records:
				records <- r
			case <-ctx.Done():
				return
			}
		}
	}()
	for _, r := range receiveSaramaGroup(ctx, t, records, 10, next) {
		require.Equal(t, owner[r.partition], r.member, "%+v", r)
	}
	memberA.stop(t)
	memberB.stop(t)

	committed, err := admin.ListConsumerGroupOffsets("sgroup", map[string][]int32{"sg": both})
	require.NoError(t, err)
	for _, p := range both {
		block := committed.GetBlock("sg", p)
		require.NotNil(t, block)
		require.Equal(t, int64(15), block.Offset, "partition %d", p)
	}

	saramaProduceTo(t, producer, "sg", both, 15, 3)
	c := newSaramaGroupHandler("c")
	memberC := startSaramaGroupMember(t, ts, config, "sgroup", []string{"sg"}, c)
	defer memberC.stop(t)
	require.Equal(t, map[string][]int32{"sg": both}, receiveClaims(ctx, t, c.claims))
	receiveSaramaGroup(ctx, t, c.records, 6, next) // from offset 15 of each
}

// receiveClaims returns a session's claims, partitions sorted.
func receiveClaims(ctx context.Context, t *testing.T, claims <-chan map[string][]int32) map[string][]int32 {
	t.Helper()
	select {
	case c := <-claims:
		for _, ps := range c {
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		}
		return c
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return nil
}

// TestSaramaOffsetsByTimeDeleteRecordsAndConfigs: sarama's Client.GetOffset by
// timestamp (and oldest and newest) before and after ClusterAdmin.DeleteRecords,
// and a topic's configs changed with AlterConfig (the given ones replace them
// all) and IncrementalAlterConfig and read back with DescribeConfig. At
// sarama's Kafka 3.6 and 2.1 (older versions of each API; IncrementalAlterConfigs
// came with Kafka 2.3).
func TestSaramaOffsetsByTimeDeleteRecordsAndConfigs(t *testing.T) {
	for _, version := range saramaVersions {
		t.Run(version.String(), func(t *testing.T) { testSaramaOffsetsAndConfigs(t, version) })
	}
}

func testSaramaOffsetsAndConfigs(t *testing.T, version sarama.KafkaVersion) {
	ts := startServer(t, nil, nil)
	config := saramaConfig(version)
	config.Producer.RequiredAcks = sarama.WaitForAll
	admin := saramaAdmin(t, ts, config)
	require.NoError(t, admin.CreateTopic("st", &sarama.TopicDetail{
		NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{log.ConfigRetentionMs: ptr("3600000")},
	}, false))

	producer, err := sarama.NewSyncProducer([]string{ts.addr}, config)
	require.NoError(t, err)
	defer producer.Close()
	base := time.UnixMilli(1_700_000_000_000)
	for i := range 10 {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "st", Value: sarama.StringEncoder(fmt.Sprint(i)), Timestamp: base.Add(time.Duration(i) * time.Second)})
		require.NoError(t, err)
	}

	client, err := sarama.NewClient([]string{ts.addr}, config)
	require.NoError(t, err)
	defer client.Close()
	offsetAt := func(at int64) int64 {
		t.Helper()
		offset, err := client.GetOffset("st", 0, at)
		require.NoError(t, err)
		return offset
	}
	ms := func(d time.Duration) int64 { return base.Add(d).UnixMilli() }
	require.Equal(t, int64(0), offsetAt(sarama.OffsetOldest))
	require.Equal(t, int64(10), offsetAt(sarama.OffsetNewest))
	require.Equal(t, int64(0), offsetAt(ms(-time.Hour)))
	require.Equal(t, int64(3), offsetAt(ms(3*time.Second)))
	require.Equal(t, int64(4), offsetAt(ms(3500*time.Millisecond)))
	require.Equal(t, int64(9), offsetAt(ms(9*time.Second)))
	require.Equal(t, int64(-1), offsetAt(ms(time.Hour)), "after the last timestamp: no offset, as Kafka answers")

	require.NoError(t, admin.DeleteRecords("st", map[int32]int64{0: 4}))
	require.Equal(t, int64(4), offsetAt(sarama.OffsetOldest))
	require.Equal(t, int64(4), offsetAt(ms(-time.Hour)), "a time before the log start: the log start")
	require.Equal(t, int64(6), offsetAt(ms(6*time.Second)))
	err = admin.DeleteRecords("st", map[int32]int64{0: 11})
	require.ErrorIs(t, err, sarama.ErrOffsetOutOfRange, "beyond the high watermark")
	require.Equal(t, int64(4), offsetAt(sarama.OffsetOldest))

	consumer, err := sarama.NewConsumerFromClient(client)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("st", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m := saramaReceive(ctx, t, pc)
	require.Equal(t, int64(4), m.Offset)
	require.Equal(t, "4", string(m.Value))
	require.Equal(t, base.Add(4*time.Second), m.Timestamp)

	describe := func() map[string]sarama.ConfigEntry {
		t.Helper()
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: "st"})
		require.NoError(t, err)
		byName := map[string]sarama.ConfigEntry{}
		for _, e := range entries {
			byName[e.Name] = e
		}
		return byName
	}
	before := describe()
	require.Equal(t, "3600000", before[log.ConfigRetentionMs].Value)
	defaultSegmentBytes := before[log.ConfigSegmentBytes].Value

	// AlterConfig: the configs given are all the topic's own, the others back
	// to the defaults; validate-only changes nothing.
	alter := map[string]*string{log.ConfigSegmentBytes: ptr("1048576"), log.ConfigMaxMessageBytes: ptr("65536")}
	require.NoError(t, admin.AlterConfig(sarama.TopicResource, "st", alter, true))
	require.Equal(t, defaultSegmentBytes, describe()[log.ConfigSegmentBytes].Value, "validate-only")
	require.NoError(t, admin.AlterConfig(sarama.TopicResource, "st", alter, false))
	after := describe()
	require.Equal(t, "1048576", after[log.ConfigSegmentBytes].Value)
	require.Equal(t, "65536", after[log.ConfigMaxMessageBytes].Value)
	require.NotEqual(t, "3600000", after[log.ConfigRetentionMs].Value, "AlterConfig replaces every config")
	// No Source check: strata's store does not tell a topic's own settings
	// from the defaults, and DescribeConfigs reports every one as
	// DYNAMIC_TOPIC_CONFIG (the README's "What differs").
	err = admin.AlterConfig(sarama.TopicResource, "st", map[string]*string{log.ConfigSegmentBytes: ptr("lots")}, false)
	require.ErrorIs(t, err, sarama.ErrInvalidConfig)

	if !version.IsAtLeast(sarama.V2_3_0_0) {
		return
	}
	// IncrementalAlterConfig: set one, delete another, append to a list.
	require.NoError(t, admin.IncrementalAlterConfig(sarama.TopicResource, "st", map[string]sarama.IncrementalAlterConfigsEntry{
		log.ConfigRetentionMs:     {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: ptr("60000")},
		log.ConfigSegmentBytes:    {Operation: sarama.IncrementalAlterConfigsOperationDelete},
		log.ConfigCleanupPolicy:   {Operation: sarama.IncrementalAlterConfigsOperationAppend, Value: ptr(log.CleanupCompact)},
		log.ConfigMaxMessageBytes: {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: ptr("65536")},
	}, false))
	after = describe()
	require.Equal(t, "60000", after[log.ConfigRetentionMs].Value)
	require.Equal(t, defaultSegmentBytes, after[log.ConfigSegmentBytes].Value)
	require.Equal(t, before[log.ConfigCleanupPolicy].Value+","+log.CleanupCompact, after[log.ConfigCleanupPolicy].Value)
	c := describeConfig(t, ts.store, "st")
	require.Equal(t, time.Minute, c.RetentionAge)
	require.Equal(t, 65536, int(c.MaxBatchBytes))
	err = admin.IncrementalAlterConfig(sarama.TopicResource, "missing", map[string]sarama.IncrementalAlterConfigsEntry{
		log.ConfigRetentionMs: {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: ptr("60000")},
	}, false)
	require.True(t, errors.Is(err, sarama.ErrUnknownTopicOrPartition), "an unknown topic: %v", err)
}

func ptr[T any](v T) *T { return &v }

// saramaTransactionalConfig is a config of a sarama transactional producer
// with transactional ID id, at Kafka 3.6.
func saramaTransactionalConfig(id string) *sarama.Config {
	config := saramaConfig(sarama.V3_6_0_0)
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Idempotent = true
	config.Producer.Transaction.ID = id
	config.Net.MaxOpenRequests = 1
	return config
}

// saramaTransformer is a consume-transform-produce ConsumerGroupHandler: each
// record read (read_committed) is written to out, upper-cased, in a
// transaction of sarama's transactional producer that also commits the
// record's offset for the group (AddMessageToTxnWithGroupMetadata, the
// session's generation and member ID included for KIP-447's checks; if
// withoutMember, AddOffsetsToTxn, with neither, as before KIP-447). The first
// transaction of the
// record valued abort is aborted, then done again. After limit records (0: no
// limit) it waits for the session's end.
type saramaTransformer struct {
	producer      sarama.SyncProducer
	group         string
	out           string
	abort         string
	limit         int
	aborted       bool
	withoutMember bool
	count         int
	processed     chan int64 // each input offset whose transaction committed
	errs          chan error
}

func (h *saramaTransformer) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaTransformer) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaTransformer) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		if h.limit > 0 && h.count == h.limit {
			<-s.Context().Done()
			return nil
		}
		commit := !(string(m.Value) == h.abort && !h.aborted)
		if err := h.transform(s, m, commit); err != nil {
			h.errs <- err
			return err
		}
		if !commit {
			h.aborted = true
			if err := h.transform(s, m, true); err != nil {
				h.errs <- err
				return err
			}
		}
		h.count++
		h.processed <- m.Offset
	}
	return nil
}

// transform runs m's transaction, committing or aborting it.
func (h *saramaTransformer) transform(s sarama.ConsumerGroupSession, m *sarama.ConsumerMessage, commit bool) error {
	if err := h.producer.BeginTxn(); err != nil {
		return fmt.Errorf("BeginTxn: %w", err)
	}
	value := fmt.Sprintf("T%s", m.Value)
	if _, _, err := h.producer.SendMessage(&sarama.ProducerMessage{Topic: h.out, Value: sarama.StringEncoder(value)}); err != nil {
		return fmt.Errorf("SendMessage: %w", err)
	}
	if h.withoutMember {
		offsets := map[string][]*sarama.PartitionOffsetMetadata{m.Topic: {{Partition: m.Partition, Offset: m.Offset + 1}}}
		if err := h.producer.AddOffsetsToTxn(offsets, h.group); err != nil {
			return fmt.Errorf("AddOffsetsToTxn: %w", err)
		}
	} else if err := h.producer.AddMessageToTxnWithGroupMetadata(m, sarama.NewConsumerGroupMetadataFromSession(s, h.group, nil), nil); err != nil {
		return fmt.Errorf("AddMessageToTxn: %w", err)
	}
	if !commit {
		return h.producer.AbortTxn()
	}
	return h.producer.CommitTxn()
}

// TestSaramaTransactionalConsumeTransformProduce: input produced by sarama's
// transactional producer (two committed transactions around an aborted one)
// is group-consumed read_committed and transformed into another topic, each
// record in a transaction that commits its offset (AddOffsetsToTxn and
// TxnOffsetCommit on the wire: the first member through sarama's
// AddMessageToTxnWithGroupMetadata, with its generation and member ID, the
// second through AddOffsetsToTxn, without); one transaction is aborted and
// done again. The first member and
// its producer stop halfway; a new producer of the same transactional ID
// fences the old one, and a new member resumes after the offsets committed in
// the transactions. The output, read read_committed up to a sentinel, holds
// every transformed record exactly once, in order, and the group's committed
// offset is the input's end.
func TestSaramaTransactionalConsumeTransformProduce(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin := saramaAdmin(t, ts, saramaConfig(sarama.V3_6_0_0))
	for _, topic := range []string{"in", "out"} {
		require.NoError(t, admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false))
	}

	// The input: 0-4 committed, x aborted, 5-9 committed.
	input, err := sarama.NewSyncProducer([]string{ts.addr}, saramaTransactionalConfig("input"))
	require.NoError(t, err)
	defer input.Close()
	for _, txn := range []struct {
		values []string
		commit bool
	}{{[]string{"0", "1", "2", "3", "4"}, true}, {[]string{"x", "x"}, false}, {[]string{"5", "6", "7", "8", "9"}, true}} {
		require.NoError(t, input.BeginTxn())
		for _, v := range txn.values {
			_, _, err := input.SendMessage(&sarama.ProducerMessage{Topic: "in", Value: sarama.StringEncoder(v)})
			require.NoError(t, err)
		}
		if txn.commit {
			require.NoError(t, input.CommitTxn())
		} else {
			require.NoError(t, input.AbortTxn())
		}
	}

	groupConfig := saramaConfig(sarama.V3_6_0_0)
	groupConfig.Consumer.IsolationLevel = sarama.ReadCommitted
	groupConfig.Consumer.Offsets.AutoCommit.Enable = false
	run := func(limit int, withoutMember bool) (*saramaTransformer, *saramaGroupMember) {
		producer, err := sarama.NewSyncProducer([]string{ts.addr}, saramaTransactionalConfig("transform"))
		require.NoError(t, err)
		h := &saramaTransformer{producer: producer, group: "ctp", out: "out", abort: "3", limit: limit, withoutMember: withoutMember, processed: make(chan int64, 16), errs: make(chan error, 1)}
		return h, startSaramaGroupMember(t, ts, groupConfig, "ctp", []string{"in"}, h)
	}
	processed := func(h *saramaTransformer, n int) []int64 {
		t.Helper()
		var offsets []int64
		for len(offsets) < n {
			select {
			case o := <-h.processed:
				offsets = append(offsets, o)
			case err := <-h.errs:
				t.Fatal(err)
			case <-ctx.Done():
				t.Fatalf("after %v: %v", offsets, ctx.Err())
			}
		}
		return offsets
	}

	first, firstMember := run(5, false)
	require.Equal(t, []int64{0, 1, 2, 3, 4}, processed(first, 5))

	// A second producer of the same transactional ID fences the first (a
	// zombie): its next transaction fails and writes nothing.
	second, secondMember := run(0, true)
	require.NoError(t, first.producer.BeginTxn())
	_, _, err = first.producer.SendMessage(&sarama.ProducerMessage{Topic: "out", Value: sarama.StringEncoder("zombie")})
	if err == nil {
		err = first.producer.CommitTxn()
	}
	require.ErrorIs(t, err, sarama.ErrProducerFenced, "the fenced producer's transaction")
	firstMember.stop(t)
	first.producer.Close()

	// The new member resumes after offset 4: 5-9 are at 9-13, after the first
	// transaction's marker (5), the aborted records (6, 7) and their marker (8).
	require.Equal(t, []int64{9, 10, 11, 12, 13}, processed(second, 5))
	secondMember.stop(t)
	require.NoError(t, second.producer.Close())
	committed, err := admin.ListConsumerGroupOffsets("ctp", map[string][]int32{"in": {0}})
	require.NoError(t, err)
	require.Equal(t, int64(14), committed.GetBlock("in", 0).Offset)

	// The output up to a sentinel, read_committed: every record once, in order.
	plain, err := sarama.NewSyncProducer([]string{ts.addr}, saramaConfig(sarama.V3_6_0_0))
	require.NoError(t, err)
	defer plain.Close()
	_, _, err = plain.SendMessage(&sarama.ProducerMessage{Topic: "out", Value: sarama.StringEncoder("end")})
	require.NoError(t, err)
	consumer, err := sarama.NewConsumer([]string{ts.addr}, groupConfig)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("out", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	var got []string
	for {
		m := saramaReceive(ctx, t, pc)
		if string(m.Value) == "end" {
			break
		}
		got = append(got, string(m.Value))
	}
	require.Equal(t, []string{"T0", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9"}, got)
}
