package replica

import (
	"errors"
	"fmt"
	"path"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stretchr/testify/require"
)

func TestReassignGrowsThenMovesReplicas(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2, 3}, partition.Options{})
	var removed []BrokerID
	sc.c.opts.RemoveLog = func(b BrokerID, name string) error {
		removed = append(removed, b)
		return nil
	}
	p := sc.create("t-0", []BrokerID{0}, Config{})
	sc.produce(p, AcksAll, "a", "b", "c")

	// One replica to three: the new ones copy the leader, then join.
	s, err := sc.c.Reassign("t-0", []BrokerID{0, 1, 2})
	require.NoError(t, err)
	require.Equal(t, []BrokerID{1, 2}, s.Adding)
	require.Equal(t, []BrokerID{0}, s.ISR)
	sc.replicate()
	s = p.State()
	require.Equal(t, []BrokerID{0, 1, 2}, s.Replicas)
	require.Equal(t, []BrokerID{0, 1, 2}, s.ISR)
	require.Empty(t, s.Adding)
	for _, b := range []BrokerID{1, 2} {
		require.Equal(t, []string{"0:a", "1:b", "2:c"}, sc.values(p.Replica(b)))
	}
	sc.produce(p, AcksAll, "d")

	// Away from the leader's broker: broker 3 joins, broker 0 leaves, and with it
	// the leadership.
	_, err = sc.c.Reassign("t-0", []BrokerID{3, 1, 2})
	require.NoError(t, err)
	require.Equal(t, BrokerID(0), p.State().Leader, "the leader stays until the target is in sync")
	sc.replicate()
	s = p.State()
	require.Equal(t, []BrokerID{3, 1, 2}, s.Replicas)
	require.NotEqual(t, BrokerID(0), s.Leader)
	require.Nil(t, p.Replica(0))
	require.Equal(t, []BrokerID{0}, removed)
	require.Equal(t, []string{"0:a", "1:b", "2:c", "3:d"}, sc.values(p.Replica(3)))
	sc.produce(p, AcksAll, "e")

	_, err = sc.c.Reassign("t-0", []BrokerID{1, 1})
	require.ErrorIs(t, err, ErrInvalidArgument)
}

func TestCorruptReplicaIsRebuiltFromItsLeader(t *testing.T) {
	sc := newScenario(t, []BrokerID{0, 1, 2}, partition.Options{})
	var asides []string
	sc.c.opts.SetAside = func(b BrokerID, name string) error {
		dir := path.Join(fmt.Sprintf("/broker-%d", b), name)
		asides = append(asides, dir)
		if err := sc.fs[b].Rename(dir, dir+".damaged"); err != nil {
			return err
		}
		return sc.fs[b].MkdirAll(dir, 0o755)
	}
	p := sc.create("t-0", []BrokerID{0, 1, 2}, Config{MinInsyncReplicas: 2})
	sc.produce(p, AcksAll, "a", "b", "c")
	sc.c.ReportCorrupt("t-0", 0, errors.New("a batch failed its CRC"))
	sc.c.handleCorruptions()
	require.Equal(t, []string{"/broker-0/t-0"}, asides)
	s := p.State()
	require.NotEqual(t, BrokerID(0), s.Leader, "the damaged replica gave up the leadership")
	require.NotContains(t, s.ISR, BrokerID(0))
	sc.replicate()
	require.Contains(t, p.State().ISR, BrokerID(0), "rebuilt, it rejoins")
	require.Equal(t, []string{"0:a", "1:b", "2:c"}, sc.values(p.Replica(0)))

	// With no other replica in sync, a damaged copy is the only one: it stays.
	sc2 := newScenario(t, []BrokerID{0}, partition.Options{})
	sc2.c.opts.SetAside = sc.c.opts.SetAside
	sc2.create("u-0", []BrokerID{0}, Config{})
	require.ErrorIs(t, sc2.c.RebuildReplica("u-0", 0), ErrInvalidArgument)
}
