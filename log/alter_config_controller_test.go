package log_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigControllerFailureKeepsTheChange: in a store of several
// brokers, once topics.json holds the change it is made, even if the controller
// then fails to save the replication settings ("altered, but"): DescribeTopic
// shows the new config at once, as it does after the store is opened again.
func TestAlterTopicConfigControllerFailureKeepsTheChange(t *testing.T) {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	s := openBrokers(t, fsys, 3)
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3})

	faults.Set(vfs.Match(replica.ControllerStateFile, vfs.FailOp(vfs.OpRename, syscall.EIO)))
	err := s.AlterTopicConfig(ctx, "orders", log.TopicConfig{MinInsyncReplicas: 2, RetentionAge: time.Hour})
	faults.Set(nil)
	require.ErrorContains(t, err, "altered, but")
	d := describe(t, s, "orders")
	require.Equal(t, 2, d.Config.MinInsyncReplicas)
	require.Equal(t, time.Hour, d.Config.RetentionAge)
}

// TestAlterTopicConfigSeveralBrokersFailedWriteChangesNothing: in a store of
// several brokers, a topics.json that no broker directory takes leaves the config
// as it was, in memory, in the replicas' configs and after the store is opened
// again.
func TestAlterTopicConfigSeveralBrokersFailedWriteChangesNothing(t *testing.T) {
	var faults vfs.Switch
	mem := vfs.NewMem()
	s := openBrokers(t, vfs.NewFaulty(mem, faults.Inject), 3)
	ctx := testContext(t)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, RetentionAge: time.Minute})
	before := describe(t, s, "orders").Config

	faults.Set(vfs.Match("topics.json", vfs.FailOp(vfs.OpRename, syscall.EIO)))
	err := s.AlterTopicConfig(ctx, "orders", log.TopicConfig{MinInsyncReplicas: 2, RetentionAge: time.Hour})
	faults.Set(nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "altered")
	require.Equal(t, before, describe(t, s, "orders").Config)
	produce(t, s, "orders", 0, 3) // the partitions still take records
	require.NoError(t, s.Close())

	s = openStore(t, mem, nil)
	require.Equal(t, before, describe(t, s, "orders").Config)
}
