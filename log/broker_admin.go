package log

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// BrokerInfo describes one broker of a store.
type BrokerInfo struct {
	ID replica.BrokerID
	// Dir is the broker's directory, absolute.
	Dir string
	// Online is false for a broker whose directory Open could not use (Offline says
	// why), that StopBroker stopped, or whose disk failed.
	Online  bool
	Offline error
	// Leads and Follows count the partitions whose replica on the broker leads, and
	// the others it holds.
	Leads, Follows int
}

// Brokers describes the store's brokers, by id: a one-broker store has broker 0,
// its directory.
func (s *Store) Brokers() ([]BrokerInfo, error) {
	set, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if s.brokers == nil {
		info := BrokerInfo{ID: 0, Dir: absDir(s.dir), Online: true}
		for _, t := range set {
			for i := range t.partitions {
				if t.partitions[i] != nil {
					info.Leads++
				}
			}
		}
		return []BrokerInfo{info}, nil
	}
	g := s.brokers
	out := make([]BrokerInfo, len(g.set.brokers))
	for i, b := range g.set.brokers {
		out[i] = BrokerInfo{ID: b.id, Dir: b.dir, Online: g.cluster.Online(b.id)}
		switch {
		case b.offline != nil:
			out[i].Offline = b.offline
		case g.cluster.Failed(b.id):
			out[i].Offline = fmt.Errorf("broker %d: its disk failed: %w", b.id, ErrBrokerOffline)
		case !out[i].Online:
			out[i].Offline = fmt.Errorf("broker %d: stopped: %w", b.id, ErrBrokerOffline)
		}
	}
	for _, t := range set {
		for _, rp := range t.replicas {
			st := rp.State()
			for i := range out {
				switch {
				case st.Leader == out[i].ID:
					out[i].Leads++
				case st.Hosts(out[i].ID):
					out[i].Follows++
				}
			}
		}
	}
	return out, nil
}

// StopBroker takes a broker of a store of several brokers offline, as a stopped
// broker or a crash would (to replace its disk, say): its replicas close, it leaves
// every ISR, and the partitions it led elect other leaders. StartBroker brings it
// back. A one-broker store, or an unknown broker, is ErrInvalidArgument.
func (s *Store) StopBroker(id replica.BrokerID) error {
	g, err := s.brokerOf("stop broker", id)
	if err != nil {
		return err
	}
	return g.cluster.StopBroker(id)
}

// StartBroker brings a broker that StopBroker stopped, or whose disk failed, back
// online: its replicas open, catch up from their leaders and rejoin the ISRs. A
// directory that is no longer the broker's (replaced, while it was stopped, by an
// empty or another store's one) is refused with a *BrokerOfflineError
// (ErrBrokerDirEmpty, ErrBrokerDirForeign), as Open would find it.
func (s *Store) StartBroker(id replica.BrokerID) error {
	g, err := s.brokerOf("start broker", id)
	if err != nil {
		return err
	}
	b, _ := g.brokerDirOf(id)
	if b.offline != nil {
		return errorf("strata/log: start broker %d: %w (reopen the store once its directory is back)", id, b.offline)
	}
	// Its directory may have been replaced while it was stopped: an empty or
	// foreign one is not this broker's, and its files are not replicas.
	if err := g.identity(s.fsys, b); err != nil {
		return errorf("strata/log: start broker %d: %w", id, &BrokerOfflineError{Broker: id, Dir: b.dir, Err: err})
	}
	if g.cluster.Failed(id) {
		if err := g.cluster.StopBroker(id); err != nil {
			return err
		}
	}
	return g.cluster.StartBroker(id)
}

// identity returns nil if b's directory is still b's (meta.properties of this
// store, broker and directory), else why not (see brokerDirStatus).
func (g *brokerGroup) identity(fsys vfs.FS, b brokerDir) error {
	list := brokerListFile{ClusterID: g.set.clusterID}
	for _, other := range g.set.brokers {
		list.Brokers = append(list.Brokers, brokerListEntry{ID: other.id, Dir: other.dir, DirectoryID: other.directoryID})
	}
	return brokerDirStatus(fsys, &list, brokerListEntry{ID: b.id, Dir: b.dir, DirectoryID: b.directoryID})
}

// ElectPreferredLeaders moves the leadership of the partitions of the named topics
// (every topic if none) back to their preferred replicas where those are online and
// in sync (Kafka's preferred leader election), and returns how many moved.
func (s *Store) ElectPreferredLeaders(topics ...string) (int, error) {
	set, err := s.snapshot()
	if err != nil {
		return 0, err
	}
	if s.brokers == nil {
		return 0, nil
	}
	var names []string
	for _, name := range topics {
		t := set[name]
		if t == nil {
			return 0, errorf("strata/log: elect leaders of %q: %w", name, ErrUnknownTopic)
		}
		for i := range t.replicas {
			names = append(names, partitionDirName(name, i))
		}
	}
	if len(topics) > 0 && len(names) == 0 {
		return 0, nil
	}
	return s.brokers.cluster.ElectPreferred(names...)
}

// brokerOf returns the broker group if it has broker id.
func (s *Store) brokerOf(op string, id replica.BrokerID) (*brokerGroup, error) {
	if _, err := s.snapshot(); err != nil {
		return nil, err
	}
	if s.brokers == nil {
		return nil, errorf("strata/log: %s %d: a one-broker store: %w", op, id, ErrInvalidArgument)
	}
	if !slices.Contains(s.brokers.brokerIDs(), id) {
		return nil, errorf("strata/log: %s %d: no such broker: %w", op, id, ErrInvalidArgument)
	}
	return s.brokers, nil
}

// absDir returns dir made absolute, or dir itself if it cannot be.
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// ReassignPartition moves the replicas of tp to the given brokers, the preferred
// leader first (Kafka's kafka-reassign-partitions): the new replicas copy the
// leader and, once all of them are in sync, the others leave and their directories
// are removed. It returns at once, with the reassignment under way; DescribeTopic
// shows it done when Replicas is the target. A one-broker store, an unknown
// broker, or fewer brokers than the topic's MinInsyncReplicas is
// ErrInvalidArgument.
func (s *Store) ReassignPartition(tp TopicPartition, brokers []replica.BrokerID) error {
	t, err := s.lookupTopic(tp.Topic)
	if err != nil {
		return err
	}
	if tp.Partition < 0 || int(tp.Partition) >= len(t.partitions) {
		return errorf("strata/log: reassign %s: %w", tp, ErrUnknownPartition)
	}
	if s.brokers == nil {
		return errorf("strata/log: reassign %s: a one-broker store: %w", tp, ErrInvalidArgument)
	}
	for _, b := range brokers {
		if !slices.Contains(s.brokers.brokerIDs(), b) {
			return errorf("strata/log: reassign %s: no broker %d: %w", tp, b, ErrInvalidArgument)
		}
	}
	if _, err := s.brokers.cluster.Reassign(partitionDirName(tp.Topic, int(tp.Partition)), brokers); err != nil {
		return errorf("strata/log: reassign %s: %w", tp, err)
	}
	return nil
}

// AwaitInSync waits until every replica on an online broker is in sync (a broker
// that StartBroker brought back has caught up), or ctx ends. A one-broker store is
// always in sync.
func (s *Store) AwaitInSync(ctx context.Context) error {
	if _, err := s.snapshot(); err != nil {
		return err
	}
	if s.brokers == nil {
		return nil
	}
	return s.brokers.cluster.AwaitInSync(ctx)
}
