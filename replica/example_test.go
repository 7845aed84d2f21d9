package replica_test

import (
	"context"
	"fmt"
	"path"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// A partition of three replicas on three in-process brokers: acks=all writes reach
// every in-sync replica; when the leader's broker stops, an in-sync replica takes
// over and nothing acknowledged is lost.
func Example() {
	fsys := vfs.NewMem() // each broker's directory would be a disk
	cluster, err := replica.NewCluster(replica.ClusterOptions{
		OpenLog: func(b replica.BrokerID, name string, replicated bool) (*partition.Partition, error) {
			return partition.Open(path.Join(fmt.Sprintf("/broker-%d", b), name), &partition.Options{FS: fsys, Replicated: replicated})
		},
	})
	if err != nil {
		panic(err)
	}
	defer cluster.Close()
	if err := cluster.StartBrokers(0, 1, 2); err != nil {
		panic(err)
	}
	p, err := cluster.CreatePartition("orders-0", []replica.BrokerID{1, 2, 0}, replica.Config{MinInsyncReplicas: 2})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	offset, err := p.Produce(ctx, []partition.Record{{Value: []byte("first")}}, replica.AcksAll)
	fmt.Println("first at", offset, err, "led by", p.State().Leader)

	if err := cluster.StopBroker(1); err != nil {
		panic(err)
	}
	s := p.State()
	fmt.Println("leader", s.Leader, "epoch", s.LeaderEpoch, "in sync", replica.FormatBrokers(s.ISR))
	offset, err = p.Produce(ctx, []partition.Record{{Value: []byte("second")}}, replica.AcksAll)
	fmt.Println("second at", offset, err)

	leader, _ := p.Leader()
	records, _ := leader.Log().Read(0, 0, 0)
	for _, r := range records {
		fmt.Printf("%d: %s\n", r.Offset, r.Value)
	}
	// Output:
	// first at 0 <nil> led by 1
	// leader 2 epoch 1 in sync 2,0
	// second at 1 <nil>
	// 0: first
	// 1: second
}
