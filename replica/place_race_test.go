package replica

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
)

// A broker stopped while a reassignment opens its new replica keeps no replica
// open: place opened the replica on the broker it had seen online, after
// StopBroker had closed the broker's replicas, and the store's next StartBroker
// opened a second one on the same files (two logs appending to one directory:
// TestReplicatedProduceRacingBrokersAndTopicChanges in log lost acknowledged
// records that way, or waited for an ISR that the stale replica kept out).
func TestPlaceRacingStopBrokerLeavesNoReplicaOnTheStoppedBroker(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	p := sc.create("t-0", []BrokerID{0, 2}, Config{})
	sc.produce(p, AcksAll, "a")

	open := sc.c.opts.OpenLog
	stopped := false
	sc.c.opts.OpenLog = func(b BrokerID, name string, replicated bool) (*partition.Partition, error) {
		// While the reassignment opens broker 1's replica, a StopBroker of broker
		// 1 runs, if the broker's life may change meanwhile (lifeMu not held).
		if b == 1 && !stopped && sc.c.lifeMu.TryLock() {
			sc.c.lifeMu.Unlock()
			stopped = true
			require.NoError(t, sc.c.StopBroker(1))
		}
		return open(b, name, replicated)
	}
	_, err := sc.c.Reassign("t-0", []BrokerID{0, 1, 2})
	require.NoError(t, err)
	if !stopped {
		require.NoError(t, sc.c.StopBroker(1))
	}
	require.True(t, p.Replica(1) == nil, "broker 1 is stopped: no replica of it may stay open")

	require.NoError(t, sc.c.StartBroker(1))
	sc.replicate()
	require.Equal(t, []BrokerID{0, 1, 2}, p.State().ISR)
	require.Equal(t, []string{"0:a"}, sc.values(p.Replica(1)))
}
