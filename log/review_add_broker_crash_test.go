package log_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// AddBroker stopped after each of its filesystem operations, then a power loss:
// the store opens with its records, with the broker added or not, and AddBroker
// run again adds it.
func TestAddBrokerCrashEveryStep(t *testing.T) {
	for _, brokerDir := range []string{"", "/disk9"} {
		for limit := int64(0); ; limit++ {
			base := vfs.NewCrashable()
			require.NoError(t, vfs.MkdirAllSync(base, "/data"))
			require.NoError(t, log.InitBrokers(base, "/data", map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
			s, err := log.Open("/data", &log.Options{FS: base, RetentionCheckInterval: -1})
			require.NoError(t, err)
			createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
			produce(t, s, "orders", 0, 5)
			require.NoError(t, s.Close())
			stop := &stopAfter{limit: limit}
			_, err = log.AddBroker(vfs.NewFaulty(base, stop.inject), "/data", brokerDir)
			finished := err == nil && stop.count.Load() <= limit
			after := base.Crash(vfs.DropUnsynced, limit)
			t.Run(fmt.Sprintf("dir=%q/stop-after-%d", brokerDir, limit), func(t *testing.T) {
				s := openStore(t, after, &log.Options{RetentionCheckInterval: -1})
				brokers, err := s.Brokers()
				require.NoError(t, err)
				require.Contains(t, []int{3, 4}, len(brokers))
				for _, b := range brokers {
					require.True(t, b.Online, "broker %d: %v", b.ID, b.Offline)
				}
				require.Equal(t, int64(5), describe(t, s, "orders").Partitions[0].EndOffset)
				require.NoError(t, s.Close())
				if len(brokers) == 3 {
					id, err := log.AddBroker(after, "/data", brokerDir)
					require.NoError(t, err)
					require.Equal(t, replica.BrokerID(3), id)
				}
				s = openStore(t, after, &log.Options{RetentionCheckInterval: -1})
				brokers, err = s.Brokers()
				require.NoError(t, err)
				require.Len(t, brokers, 4)
				require.True(t, brokers[3].Online, "%v", brokers[3].Offline)
				require.NoError(t, s.ReassignPartition(tp("orders", 0), []replica.BrokerID{3, 0, 1}))
				require.NoError(t, s.AwaitInSync(testContext(t)))
				require.Len(t, consumeValues(t, s, "orders", 0), 5)
			})
			if finished {
				break
			}
		}
	}
}
