package log

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// Topic changes in a store of several brokers. Order, for crash consistency:
//
//  1. make the new replicas' directories on their online brokers (an empty
//     directory of the name is taken over; one holding files is
//     ErrPartitionDirExists);
//  2. record the partitions in the controller's state (a majority of the broker
//     directories);
//  3. open the replicas;
//  4. write topics.json (a majority of the broker directories): the commit point.
//
// A crash before 4 leaves partitions the controller knows and no topic lists: Open
// deletes them, with their directories (settleController). A deletion writes
// topics.json first (its commit point), then marks each replica's directory
// deleted (replicaDeletedFileName), then forgets the partitions in the controller
// and removes their directories; Open finishes what a crash interrupted the same
// way, and removes the marked directories that the controller forgot
// (removeDeletedReplicas): unmarked, nothing would tell them from a user's.

// Format: the file that marks a replica's directory as that of a deleted
// partition, empty.
const replicaDeletedFileName = "partition.deleted"

// createReplicatedPartitions creates partitions [from, to) of a topic with
// effective config c in a store of several brokers; next is the topic set after
// the change (listing them), written as the commit point.
func (s *Store) createReplicatedPartitions(name string, c TopicConfig, from, to int, next topicSet) ([]*replica.Partition, error) {
	g := s.brokers
	if n := len(g.set.brokers); c.ReplicationFactor > n {
		return nil, &ConfigError{What: fmt.Sprintf("%q", name), Problems: []string{
			fmt.Sprintf("ReplicationFactor: %d, but the store has %d brokers", c.ReplicationFactor, n)}}
	}
	specs := make([]replica.PartitionSpec, 0, to-from)
	var made []string
	undoDirs := func() {
		for _, dir := range made {
			_ = s.fsys.RemoveAll(dir)
		}
	}
	for i := from; i < to; i++ {
		spec := s.partitionSpec(name, c, i)
		specs = append(specs, spec)
		for _, id := range spec.Replicas {
			b, _ := g.brokerDirOf(id)
			if b.offline != nil {
				continue // it makes the directory when it comes back, empty and not in sync
			}
			dir := filepath.Join(b.dir, spec.Name)
			if err := s.lowerPoint(id, spec.Name, 0); err != nil { // an earlier partition's of the name
				undoDirs()
				return nil, err
			}
			fresh, err := s.makeReplicaDir(dir)
			if err != nil {
				undoDirs()
				return nil, err
			}
			if fresh {
				made = append(made, dir)
			}
		}
	}
	g.configsMu.Lock()
	for i := from; i < to; i++ {
		g.configs[partitionDirName(name, i)] = c
		g.topicIDs[partitionDirName(name, i)] = next[name].id
	}
	g.configsMu.Unlock()
	created, err := g.cluster.CreatePartitions(specs)
	if err != nil {
		undoDirs()
		return nil, err
	}
	if err := g.writeMetadata(s, next.metadata()); err != nil {
		names := make([]string, len(specs))
		for i, spec := range specs {
			names[i] = spec.Name
		}
		// Not committed: forget the partitions again (a crash instead leaves that to
		// the next Open).
		deleteErr := g.cluster.DeletePartitions(names)
		undoDirs()
		g.restoreMetadata(s)
		return nil, errors.Join(fmt.Errorf("write metadata: %w", err), deleteErr)
	}
	return created, nil
}

// makeReplicaDir makes a replica's directory, durably, and reports whether it made
// it; an empty one that exists (a crash between the directory and the controller's
// state) is taken over, one that a deletion marked and failed to remove (the
// controller forgot its partition) is removed and made anew, one holding anything
// else is ErrPartitionDirExists.
func (s *Store) makeReplicaDir(dir string) (bool, error) {
	names, err := s.fsys.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, vfs.MkdirAllSync(s.fsys, dir)
	case err != nil:
		return false, err
	case slices.Contains(names, replicaDeletedFileName) && s.brokers.cluster.Partition(filepath.Base(dir)) == nil:
		if err := s.fsys.RemoveAll(dir); err != nil {
			return false, fmt.Errorf("remove what a deletion left: %w", err)
		}
		return true, vfs.MkdirAllSync(s.fsys, dir)
	case len(names) > 0:
		return false, fmt.Errorf("%s holds files strata does not know of: %w", dir, ErrPartitionDirExists)
	}
	return false, nil
}

// deleteReplicatedTopic deletes t from a store of several brokers: topics.json
// from next (the commit point), then it publishes next (producers and consumers
// stop finding the topic), then deletes the partitions in the controller and their
// replicas' directories. The caller holds adminMu.
func (s *Store) deleteReplicatedTopic(t *topic, next topicSet) error {
	g := s.brokers
	// The replicas on brokers offline since Open stay until those come back:
	// topics.json lists them, in the commit point's write.
	saved := g.pending
	g.pending = slices.Clone(g.pending)
	for i, rp := range t.replicas {
		var offline []replica.BrokerID
		for _, id := range rp.State().Replicas {
			if b, ok := g.brokerDirOf(id); ok && b.offline != nil {
				offline = append(offline, id)
			}
		}
		if len(offline) > 0 {
			g.pending = append(g.pending, deletedReplicas{Name: partitionDirName(t.name, i), Brokers: offline})
		}
	}
	if err := g.writeMetadata(s, next.metadata()); err != nil {
		g.pending = saved
		g.restoreMetadata(s)
		return err
	}
	s.topics.Store(&next)
	names := make([]string, len(t.replicas))
	replicas := make([][]replica.BrokerID, len(t.replicas))
	for i := range t.replicas {
		names[i] = partitionDirName(t.name, i)
		replicas[i] = t.replicas[i].State().Replicas
		s.markReplicaDirsDeleted(names[i], replicas[i])
	}
	if err := g.cluster.DeletePartitions(names); err != nil {
		s.logger.Warn("closing a deleted topic's replicas failed", "topic", t.name, "err", err)
	}
	for i, name := range names {
		s.removeReplicaDirs(name, replicas[i])
	}
	g.configsMu.Lock()
	for _, name := range names {
		delete(g.configs, name)
		delete(g.topicIDs, name)
	}
	g.configsMu.Unlock()
	return nil
}

// markReplicaDirsDeleted marks the directories of a deleted partition's replicas
// on the online brokers among replicas, durably, before the controller forgets
// the partition: a crash before their removal leaves them for Open to remove
// (removeDeletedReplicas). A directory it cannot mark is logged; a crash may then
// leave it.
func (s *Store) markReplicaDirsDeleted(name string, replicas []replica.BrokerID) {
	for _, id := range replicas {
		b, ok := s.brokers.brokerDirOf(id)
		if !ok || b.offline != nil {
			continue
		}
		dir := filepath.Join(b.dir, name)
		if _, err := s.fsys.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := vfs.WriteFileAtomic(s.fsys, filepath.Join(dir, replicaDeletedFileName), nil); err != nil {
			s.logger.Error("cannot mark a deleted partition's replica: a crash before its removal would leave it", "dir", dir, "err", err)
		}
	}
}

// removeDeletedReplicas removes, from the online broker directories, the
// directories of replicas that a deletion marked (replicaDeletedFileName) and that
// neither topics.json (listed) nor the controller knows: a crash interrupted their
// removal. Anything else named like a partition is left alone.
func (s *Store) removeDeletedReplicas(listed map[string]TopicConfig, ctl replica.Controller) {
	for _, b := range s.brokers.set.brokers {
		if b.offline != nil {
			continue
		}
		names, err := s.fsys.ReadDir(b.dir)
		if err != nil {
			s.logger.Error("cannot read a broker directory", "dir", b.dir, "err", err)
			continue
		}
		removed := false
		for _, name := range names {
			if _, _, ok := parsePartitionDirName(name); !ok {
				continue
			}
			if _, ok := listed[name]; ok {
				continue
			}
			if _, err := ctl.State(name); !errors.Is(err, replica.ErrUnknownPartition) {
				continue
			}
			dir := filepath.Join(b.dir, name)
			if info, err := s.fsys.Lstat(dir); err != nil || !info.IsDir() {
				continue
			}
			if _, err := s.fsys.Lstat(filepath.Join(dir, replicaDeletedFileName)); err != nil {
				continue
			}
			if err := s.fsys.RemoveAll(dir); err != nil {
				s.logger.Error("cannot remove a deleted partition's replica", "dir", dir, "err", err)
				continue
			}
			removed = true
			s.logger.Info("removed the replica of a deleted partition that a crash left", "dir", dir)
		}
		if removed {
			if err := s.fsys.SyncDir(b.dir); err != nil {
				s.logger.Error("cannot sync a broker directory", "dir", b.dir, "err", err)
			}
		}
	}
}

// replicatedInfo fills in a partition's leader, replicas and ISR, and the figures
// of its leader's log.
func replicatedInfo(tp TopicPartition, rp *replica.Partition) PartitionInfo {
	st := rp.State()
	info := PartitionInfo{Partition: tp.Partition, Leader: st.Leader, Replicas: st.Replicas, ISR: st.ISR, ELR: st.ELR, LeaderEpoch: st.LeaderEpoch}
	p, err := leaderLog(tp, rp)
	if err != nil {
		info.Offline = err.(*PartitionOfflineError)
		return info
	}
	fillInfo(&info, p)
	return info
}

// fillInfo fills in the figures of a partition's log.
func fillInfo(info *PartitionInfo, p *partition.Partition) {
	st := p.Stats()
	info.StartOffset, info.EndOffset, info.Bytes, info.Segments = st.StartOffset, st.EndOffset, st.Bytes, st.Segments
}

// brokerCount returns how many brokers the store has: 1 for a one-broker store.
func (s *Store) brokerCount() int {
	if s.brokers == nil {
		return 1
	}
	return len(s.brokers.set.brokers)
}

// checkReplication checks a topic's effective replication settings against the
// store's brokers: a *ConfigError naming each problem.
func (s *Store) checkReplication(name string, c TopicConfig) error {
	var problems []string
	if n := s.brokerCount(); c.ReplicationFactor > n {
		problems = append(problems, fmt.Sprintf("ReplicationFactor: %d, but the store has %d broker(s)", c.ReplicationFactor, n))
	}
	if c.MinInsyncReplicas > c.ReplicationFactor {
		problems = append(problems, fmt.Sprintf("MinInsyncReplicas: %d, above the ReplicationFactor %d", c.MinInsyncReplicas, c.ReplicationFactor))
	}
	return checkConfig(fmt.Sprintf("%q", name), problems)
}

// severalBrokersError refuses, in a store of several brokers, an operation on a
// partition's files that only a one-broker store offers yet: a damaged replica is
// rebuilt from its leader instead (stop its broker, remove the replica's
// directory, start the broker).
func severalBrokersError(op string, tp TopicPartition) error {
	return errorf("strata/log: %s %s: %w (%w)", op, tp, ErrSeveralBrokers, ErrInvalidArgument)
}
