package kafka

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TestKadmAdminRoundTrip drives every API of this slice through franz-go's admin
// client, as an application or tool would: ApiVersions, Metadata, CreateTopics
// (with configs, and validate-only), DescribeConfigs, ListOffsets (start, end, by
// time, of records produced through the store itself), DeleteRecords,
// CreatePartitions and DeleteTopics.
func TestKadmAdminRoundTrip(t *testing.T) {
	ts := startServer(t, nil, nil)
	adm := kadm.NewClient(ts.client(t))
	ctx := context.Background()

	versions, err := adm.ApiVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	versions.Each(func(v kadm.BrokerApiVersions) {
		if v.Err != nil {
			t.Fatalf("ApiVersions of broker %d: %v", v.NodeID, v.Err)
		}
		if max, ok := v.KeyMaxVersion(3); !ok || max != 13 {
			t.Errorf("Metadata max version %d (%v), want 13", max, ok)
		}
		if max, ok := v.KeyMaxVersion(0); !ok || max != 13 {
			t.Errorf("Produce max version %d (%v), want 13 (which names topics by ID)", max, ok)
		}
	})

	brokers, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitTestAddr(t, ts.addr)
	if len(brokers.Brokers) != 1 || brokers.Brokers[0].NodeID != 0 || brokers.Brokers[0].Host != host || brokers.Brokers[0].Port != port {
		t.Fatalf("brokers %+v, want node 0 at %s", brokers.Brokers, ts.addr)
	}
	if brokers.Cluster != DefaultClusterID || brokers.Controller != 0 {
		t.Errorf("cluster %q controller %d, want %q and 0", brokers.Cluster, brokers.Controller, DefaultClusterID)
	}

	validated, err := adm.ValidateCreateTopics(ctx, 2, -1, nil, "orders")
	if err != nil || validated.Error() != nil {
		t.Fatalf("validate-only create: %v %v", err, validated.Error())
	}
	if names, _ := ts.store.ListTopics(); len(names) != 0 {
		t.Fatalf("validate-only created %v", names)
	}
	retention := "3600000"
	created, err := adm.CreateTopic(ctx, 3, -1, map[string]*string{log.ConfigRetentionMs: &retention}, "orders")
	if err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	if created.NumPartitions != 3 || created.ReplicationFactor != 1 {
		t.Errorf("created %d partitions of %d replicas, want 3 of 1", created.NumPartitions, created.ReplicationFactor)
	}
	again, err := adm.CreateTopic(ctx, 3, -1, nil, "orders")
	if !errors.Is(again.Err, kerr.TopicAlreadyExists) {
		t.Errorf("creating it again: %v %v, want TOPIC_ALREADY_EXISTS", err, again.Err)
	}
	bad := "forever"
	badConfig, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{log.ConfigRetentionMs: &bad}, "badconfig")
	if !errors.Is(badConfig.Err, kerr.InvalidConfig) {
		t.Errorf("a bad config: %v %v, want INVALID_CONFIG", err, badConfig.Err)
	}

	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orders, ok := topics["orders"]
	if !ok || len(topics) != 1 || len(orders.Partitions) != 3 {
		t.Fatalf("topics %v, want orders of 3 partitions alone", topics.Names())
	}
	for _, p := range orders.Partitions {
		if p.Err != nil || p.Leader != 0 || !slices.Equal(p.Replicas, []int32{0}) || !slices.Equal(p.ISR, []int32{0}) {
			t.Errorf("partition %d: err %v leader %d replicas %v isr %v", p.Partition, p.Err, p.Leader, p.Replicas, p.ISR)
		}
	}
	missing, err := adm.Metadata(ctx, "missing")
	if err != nil || !errors.Is(missing.Topics["missing"].Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("metadata of a missing topic: %v %v, want UNKNOWN_TOPIC_OR_PARTITION", err, missing.Topics["missing"].Err)
	}
	if names, _ := ts.store.ListTopics(); slices.Contains(names, "missing") {
		t.Error("Metadata created a topic")
	}

	configs, err := adm.DescribeTopicConfigs(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	config, err := configs.On("orders", nil)
	if err != nil || config.Err != nil {
		t.Fatalf("describe configs: %v %v", err, config.Err)
	}
	values := map[string]string{}
	for _, c := range config.Configs {
		values[c.Key] = c.MaybeValue()
	}
	if values[log.ConfigRetentionMs] != "3600000" || values[log.ConfigCleanupPolicy] != log.CleanupDelete {
		t.Errorf("configs %v: want retention.ms 3600000 and cleanup.policy delete", values)
	}

	// Records at known times: partition 1 gets offsets 0..4 at base+0s..base+4s.
	base := time.UnixMilli(1_700_000_000_000)
	for i := range 5 {
		err := ts.store.Produce(ctx, &log.Record{Topic: "orders", Partition: 1, ExplicitPartition: true,
			Value: []byte(strconv.Itoa(i)), Timestamp: base.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	checkOffset := func(what string, listed kadm.ListedOffsets, err error, partition int32, want int64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		o, ok := listed.Lookup("orders", partition)
		if !ok || o.Err != nil || o.Offset != want {
			t.Errorf("%s of partition %d: %+v, want offset %d", what, partition, o, want)
		}
	}
	ends, err := adm.ListEndOffsets(ctx, "orders")
	checkOffset("end", ends, err, 1, 5)
	checkOffset("end", ends, err, 0, 0)
	starts, err := adm.ListStartOffsets(ctx, "orders")
	checkOffset("start", starts, err, 1, 0)
	byTime, err := adm.ListOffsetsAfterMilli(ctx, base.Add(2500*time.Millisecond).UnixMilli(), "orders")
	checkOffset("after 2.5s", byTime, err, 1, 3)
	if o, _ := byTime.Lookup("orders", 1); o.Timestamp != base.Add(3*time.Second).UnixMilli() {
		t.Errorf("after 2.5s: timestamp %d, want the record's %d", o.Timestamp, base.Add(3*time.Second).UnixMilli())
	}
	afterAll, err := adm.ListOffsetsAfterMilli(ctx, base.Add(time.Hour).UnixMilli(), "orders")
	// The server answers -1 (none), as Kafka; kadm turns that into the end offset.
	checkOffset("after the last record", afterAll, err, 1, 5)
	if o, _ := afterAll.Lookup("orders", 1); o.Timestamp != -1 {
		t.Errorf("after the last record: timestamp %d, want -1", o.Timestamp)
	}

	deleted, err := adm.DeleteRecords(ctx, kadm.Offsets{"orders": {1: {Topic: "orders", Partition: 1, At: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := deleted.On("orders", 1, nil); err != nil || d.Err != nil || d.LowWatermark != 2 {
		t.Errorf("delete records: %+v %v, want low watermark 2", d, err)
	}
	starts, err = adm.ListStartOffsets(ctx, "orders")
	checkOffset("start after deleting", starts, err, 1, 2)
	beyond, err := adm.DeleteRecords(ctx, kadm.Offsets{"orders": {1: {Topic: "orders", Partition: 1, At: 99}}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := beyond.On("orders", 1, nil); !errors.Is(d.Err, kerr.OffsetOutOfRange) {
		t.Errorf("deleting past the end: %v, want OFFSET_OUT_OF_RANGE", d.Err)
	}

	grown, err := adm.UpdatePartitions(ctx, 5, "orders")
	if err != nil || grown.Error() != nil {
		t.Fatalf("create partitions: %v %v", err, grown.Error())
	}
	if d, _ := ts.store.DescribeTopic("orders"); len(d.Partitions) != 5 {
		t.Errorf("%d partitions after growing to 5", len(d.Partitions))
	}
	shrunk, err := adm.UpdatePartitions(ctx, 2, "orders")
	if r, _ := shrunk.On("orders", nil); err != nil || !errors.Is(r.Err, kerr.InvalidPartitions) {
		t.Errorf("shrinking: %v %v, want INVALID_PARTITIONS", err, r.Err)
	}

	dropped, err := adm.DeleteTopic(ctx, "orders")
	if err != nil || dropped.Err != nil {
		t.Fatalf("delete topic: %v %v", err, dropped.Err)
	}
	if names, _ := ts.store.ListTopics(); len(names) != 0 {
		t.Errorf("topics %v after deleting", names)
	}
	gone, err := adm.DeleteTopic(ctx, "orders")
	if !errors.Is(gone.Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("deleting it again: %v %v, want UNKNOWN_TOPIC_OR_PARTITION", err, gone.Err)
	}
}

func splitTestAddr(t testing.TB, addr string) (string, int32) {
	t.Helper()
	host, port, err := splitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
