package kafka

import (
	"context"
	"slices"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestMetadataSeveralBrokers serves a store of three brokers: Metadata lists the
// three, all at the one listener's address (one listener serves the whole store
// for now), and each partition's leader, replicas and ISR as the store reports
// them.
func TestMetadataSeveralBrokers(t *testing.T) {
	dir := t.TempDir()
	brokers := map[replica.BrokerID]string{0: "", 1: "", 2: ""}
	if err := log.InitBrokers(vfs.OS, dir, brokers); err != nil {
		t.Fatal(err)
	}
	store, err := log.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := serveStore(t, store, &Options{AdvertisedAddr: "kafka.example:9093", ClusterID: "test-cluster"}, nil)
	if err := store.CreateTopic(context.Background(), "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	d, err := store.DescribeTopic("orders")
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	req.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("orders")}}
	resp := ts.dial(t).roundTrip(req).(*kmsg.MetadataResponse)
	if *resp.ClusterID != "test-cluster" || len(resp.Brokers) != 3 {
		t.Fatalf("cluster %q, brokers %+v", *resp.ClusterID, resp.Brokers)
	}
	for i, b := range resp.Brokers {
		if b.NodeID != int32(i) || b.Host != "kafka.example" || b.Port != 9093 {
			t.Errorf("broker %d: %+v, want node %d at kafka.example:9093", i, b, i)
		}
	}
	for i, p := range resp.Topics[0].Partitions {
		want := d.Partitions[i]
		if p.Leader != int32(want.Leader) || p.LeaderEpoch != want.LeaderEpoch ||
			!slices.Equal(p.Replicas, brokerIDs(want.Replicas)) || !slices.Equal(p.ISR, brokerIDs(want.ISR)) || len(p.Replicas) != 3 {
			t.Errorf("partition %d: %+v, want the store's %+v", i, p, want)
		}
	}
}
