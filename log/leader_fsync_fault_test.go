package log_test

import (
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// leaderFsyncFault is a store of several brokers whose leader of orders-0, once
// armed, fails the fsync of its next batch after its follower has copied it: the
// leader's disk fails, the leadership moves, and the batch's outcome is unknown
// to its producer.
type leaderFsyncFault struct {
	faults     vfs.Switch
	copiedOnce sync.Once
	copied     chan struct{} // closed once the follower fsynced a batch after arm
	armed      chan struct{} // closed by arm
}

// openLeaderFsyncFault opens a store of brokers brokers with opts (its
// Hooks.OnFsync taken) over an in-memory filesystem that can fail the leader's
// fsync, and creates orders with two replicas.
func openLeaderFsyncFault(t *testing.T, brokers int, opts log.Options) (*leaderFsyncFault, *log.Store) {
	f := &leaderFsyncFault{copied: make(chan struct{}), armed: make(chan struct{})}
	fsys := vfs.NewFaulty(vfs.NewMem(), f.faults.Inject)
	opts.Hooks.OnFsync = func(e log.FsyncEvent) {
		select {
		case <-f.armed:
			// The leader's fsync is held in the fault: this one is the
			// follower's, which has copied the batch.
			if e.TopicPartition == tp("orders", 0) {
				f.copiedOnce.Do(func() { close(f.copied) })
			}
		default:
		}
	}
	dirs := map[replica.BrokerID]string{}
	for b := range brokers {
		dirs[replica.BrokerID(b)] = ""
	}
	require.NoError(t, vfs.MkdirAllSync(fsys, "/data"))
	require.NoError(t, log.InitBrokers(fsys, "/data", dirs))
	s := openStore(t, fsys, &opts)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 2, MinInsyncReplicas: 1})
	return f, s
}

// arm makes the current leader of orders-0 fail the fsync of its next batch
// once its follower has copied it, and returns that leader.
func (f *leaderFsyncFault) arm(t *testing.T, s *log.Store) replica.BrokerID {
	leader := describe(t, s, "orders").Partitions[0].Leader
	infos, err := s.Brokers()
	require.NoError(t, err)
	leaderDir := filepath.Join(infos[leader].Dir, "orders-0")
	var failOnce sync.Once
	f.faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		if op != vfs.OpSync || !strings.HasPrefix(path, leaderDir+"/") || !strings.HasSuffix(path, ".log") {
			return nil
		}
		var fault *vfs.Fault
		failOnce.Do(func() {
			<-f.copied // the follower holds the batch
			fault = &vfs.Fault{Err: syscall.EIO}
		})
		return fault
	})
	close(f.armed)
	return leader
}
