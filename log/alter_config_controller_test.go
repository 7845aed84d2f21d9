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
