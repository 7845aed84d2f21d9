package log

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// A store of several brokers (InitBrokers made it) keeps each partition as replicas
// on several broker directories, run by a replica.Cluster: topics.json and the
// controller's state have a copy in every broker directory, partition directories
// live in the directories of the brokers holding a replica, and producers and
// consumers reach each partition through its leader. A one-broker store (every
// store made before, and every store made without InitBrokers) does none of this:
// it is exactly what it was, with no replica layer in its way.

// brokerGroup is the replica layer of a store of several brokers.
type brokerGroup struct {
	set     brokerSet
	cluster *replica.Cluster
	// locks are the .lock files of the online broker directories other than the
	// root (whose lock is the store's).
	locks []io.Closer
	// sequence is that of the topics.json copies last written, or last tried:
	// under adminMu.
	sequence int64
	// points are the broker directories' recovery points (replicated_recovery.go).
	points brokerPoints
	// metadataInDoubt is set, under adminMu, while the copies of topics.json may
	// not list the store's current topics: a write failed, reaching a minority of
	// the broker directories maybe, and no write of the current topics reached a
	// majority since (see restoreMetadata).
	metadataInDoubt bool
	// pending are the replicas of deleted partitions left on brokers that were
	// offline (topics.json's "deleted", written with every copy); under adminMu.
	pending []deletedReplicas
	// configs maps a partition name to its topic's effective config, and topicIDs
	// to its topic's ID, for OpenLog; guarded by configsMu.
	configsMu sync.Mutex
	configs   map[string]TopicConfig
	topicIDs  map[string]TopicID
	// closing is closed when the store's Close begins: a produce waiting for a
	// partition's leader stops waiting (see replicatedAppender).
	closing     chan struct{}
	closingOnce sync.Once
}

// startClosing tells the produces waiting for a leader that the store closes.
func (g *brokerGroup) startClosing() { g.closingOnce.Do(func() { close(g.closing) }) }

// deleted reports whether rp is no longer the cluster's partition of its name:
// its topic was deleted (and maybe made again).
func (g *brokerGroup) deleted(rp *replica.Partition) bool {
	return g.cluster.Partition(rp.Name()) != rp
}

// topicDeletedError says that tp's topic was deleted under a call.
func topicDeletedError(tp TopicPartition) error {
	return errorf("strata/log: %s: topic deleted: %w", tp, ErrUnknownTopic)
}

// settleTimeout bounds how long Open waits for the followers to report to their
// leaders (see replica.Cluster.Settle).
const settleTimeout = 10 * time.Second

// brokerDirOf returns the directory of broker id.
func (g *brokerGroup) brokerDirOf(id replica.BrokerID) (brokerDir, bool) {
	for _, b := range g.set.brokers {
		if b.id == id {
			return b, true
		}
	}
	return brokerDir{}, false
}

// onlineDirs returns the directories of the brokers found online at Open.
func (g *brokerGroup) onlineDirs() []string {
	var dirs []string
	for _, b := range g.set.brokers {
		if b.offline == nil {
			dirs = append(dirs, b.dir)
		}
	}
	return dirs
}

// brokerIDs returns every broker's id, sorted.
func (g *brokerGroup) brokerIDs() []replica.BrokerID {
	ids := make([]replica.BrokerID, len(g.set.brokers))
	for i, b := range g.set.brokers {
		ids[i] = b.id
	}
	return ids
}

// loadBrokerGroup opens a store of several brokers: it locks the online broker
// directories, reads the newest topics.json, starts the controller and the
// cluster, settles what a crash left between the two, opens every broker and waits
// for the followers to report to their leaders.
func (s *Store) loadBrokerGroup(set brokerSet) (topicSet, error) {
	g := &brokerGroup{set: set, configs: map[string]TopicConfig{}, topicIDs: map[string]TopicID{}, closing: make(chan struct{})}
	s.brokers = g
	root, err := filepath.Abs(s.dir)
	if err != nil {
		return nil, err
	}
	for _, b := range set.brokers {
		if b.offline != nil {
			s.logger.Error("broker offline: the store opens without it", "broker", b.id, "dir", b.dir, "err", b.offline.Err)
			continue
		}
		if b.dir == root {
			continue
		}
		lock, err := s.fsys.Lock(filepath.Join(b.dir, lockFileName))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("broker %d (%s): %w", b.id, b.dir, err), g.unlock())
		}
		g.locks = append(g.locks, lock)
	}
	meta, err := g.readMetadata(s)
	if err != nil {
		return nil, errors.Join(err, g.unlock())
	}
	// Before any write of meta (removePendingReplicas may write it): the current
	// version has every topic's ID.
	assigned := assignMissingTopicIDs(&meta)
	if err := s.removePendingReplicas(meta); err != nil {
		return nil, errors.Join(err, g.unlock())
	}
	if assigned {
		if err := g.writeMetadata(s, meta); err != nil {
			return nil, errors.Join(fmt.Errorf("record the topic IDs given to the topics of a store made before topic IDs: %w", err), g.unlock())
		}
		s.logger.Info("gave topic IDs to the topics of a store made before topic IDs", "topics", len(meta.Topics))
	}
	// The controller's state lives in the online broker directories only, as
	// topics.json does: an offline broker's directory may be another store's, or a
	// new disk, neither to be read nor written. Each save must still reach a
	// majority of all the brokers.
	ctl, err := replica.NewLocalController(&replica.DirStorage{FS: s.fsys, Dirs: g.onlineDirs(), Quorum: len(set.brokers)/2 + 1, Skipped: func(path string, err error) {
		s.logger.Error("skipping an unreadable copy of the controller state", "path", path, "err", err)
	}})
	if err != nil {
		return nil, errors.Join(err, g.unlock())
	}
	set2 := topicSet{}
	for _, tm := range meta.Topics {
		own, _ := tm.ownConfig() // checked by readMetadata
		config := own.inherit(s.opts.TopicDefaults)
		config.Partitions = tm.Partitions
		keys, _ := parseKeyHash(tm.Partitioner) // checked by readMetadata
		id, _ := parseTopicID(tm.TopicID)       // checked by readMetadata, given by assignMissingTopicIDs
		t := &topic{name: tm.Name, id: id, internal: tm.Internal, keyHash: keys, own: own, config: config, incarnation: s.newIncarnation()}
		set2[tm.Name] = t
		for i := range tm.Partitions {
			g.configs[partitionDirName(tm.Name, i)] = config
			g.topicIDs[partitionDirName(tm.Name, i)] = id
		}
	}
	s.loadBrokerPoints()
	if err := s.settleController(ctl, set2); err != nil {
		return nil, errors.Join(err, g.unlock())
	}
	s.removeDeletedReplicas(g.configs, ctl)
	cluster, err := replica.NewCluster(replica.ClusterOptions{
		Controller: ctl, OpenLog: s.openReplicaLog, Now: s.opts.Now, Logger: s.logger,
		RemoveLog: func(b replica.BrokerID, name string) error {
			s.removeReplicaDirs(name, []replica.BrokerID{b})
			return nil
		},
		SetAside:       s.setAsideReplica,
		BeforeTruncate: s.beforeTruncate,
	})
	if err != nil {
		return nil, errors.Join(err, g.unlock())
	}
	g.cluster = cluster
	s.restoreHighWatermarks(ctl)
	var online []replica.BrokerID
	for _, b := range set.brokers {
		if b.offline == nil {
			online = append(online, b.id)
		}
	}
	if err := cluster.StartBrokers(online...); err != nil {
		s.logger.Error("broker offline: a replica could not be opened", "err", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := cluster.Settle(ctx); err != nil {
		s.logger.Warn("followers did not all report to their leaders in time: some records acknowledged before the last close may read only once they do", "err", err)
	}
	for _, t := range set2 {
		t.group = g
		t.replicas = make([]*replica.Partition, t.config.Partitions)
		t.partitions = make([]*partition.Partition, t.config.Partitions)
		for i := range t.replicas {
			t.replicas[i] = cluster.Partition(partitionDirName(t.name, i))
		}
	}
	return set2, nil
}

// unlock releases the locks of the broker directories.
func (g *brokerGroup) unlock() error {
	var err error
	for _, l := range g.locks {
		err = errors.Join(err, l.Close())
	}
	g.locks = nil
	return err
}

// close stops the cluster (closing every replica) and releases the locks.
func (g *brokerGroup) close() error {
	var err error
	if g.cluster != nil {
		err = g.cluster.Close()
	}
	return errors.Join(err, g.unlock())
}

// readMetadata reads the copy of topics.json with the greatest sequence among the
// online broker directories; a store without any gets an empty one in each.
func (g *brokerGroup) readMetadata(s *Store) (metadataFile, error) {
	var best metadataFile
	found := false
	var failures []error
	for _, dir := range g.onlineDirs() {
		meta, ok, err := readMetadata(s.fsys, dir)
		if err != nil {
			s.logger.Error("skipping an unreadable copy of topics.json", "dir", dir, "err", err)
			failures = append(failures, err)
			continue
		}
		if ok && (!found || meta.Sequence > best.Sequence) {
			best, found = meta, true
		}
	}
	if !found && len(failures) > 0 {
		return metadataFile{}, fmt.Errorf("no readable copy of topics.json: %w", errors.Join(failures...))
	}
	g.sequence = best.Sequence
	if !found {
		return best, g.writeMetadata(s, metadataFile{})
	}
	return best, nil
}

// writeMetadata writes m, with the next sequence, to every online broker
// directory: it must reach a majority of the brokers. The caller holds adminMu.
//
// A failed write uses up its sequence too, and leaves the copies in doubt: a copy
// it left in a minority of the directories lists a change that did not happen, and
// must lose to the next write's, which the caller makes at once (restoreMetadata).
func (g *brokerGroup) writeMetadata(s *Store, m metadataFile) error {
	g.sequence++
	m.Sequence = g.sequence
	m.Deleted = g.pending
	written := 0
	var failures []error
	for _, dir := range g.onlineDirs() {
		if err := writeMetadata(s.fsys, dir, m); err != nil {
			failures = append(failures, err)
			continue
		}
		written++
	}
	if written < len(g.set.brokers)/2+1 {
		g.metadataInDoubt = true
		return fmt.Errorf("topics.json reached %d of %d brokers: %w", written, len(g.set.brokers), errors.Join(failures...))
	}
	g.metadataInDoubt = false
	return nil
}

// removePendingReplicas removes, from the brokers that are back online, the
// directories of the replicas of deleted partitions that topics.json says they
// still hold (their brokers were offline at the deletion), then writes topics.json
// without them: before any broker opens a replica, so that a partition made again
// under the name never opens the deleted one's. meta is what readMetadata read.
func (s *Store) removePendingReplicas(meta metadataFile) error {
	g := s.brokers
	g.pending = meta.Deleted
	var left []deletedReplicas
	changed := false
	for _, d := range meta.Deleted {
		var offline []replica.BrokerID
		for _, id := range d.Brokers {
			b, ok := g.brokerDirOf(id)
			if !ok { // no longer a broker of the store
				changed = true
				continue
			}
			if b.offline != nil {
				offline = append(offline, id)
				continue
			}
			dir := filepath.Join(b.dir, d.Name)
			if err := s.fsys.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove the replica of a deleted partition, left while its broker was offline: %w", err)
			}
			if err := s.fsys.SyncDir(b.dir); err != nil {
				return err
			}
			s.logger.Info("removed the replica of a partition deleted while its broker was offline", "dir", dir)
			changed = true
		}
		if len(offline) > 0 {
			left = append(left, deletedReplicas{Name: d.Name, Brokers: offline})
		}
	}
	if !changed {
		return nil
	}
	g.pending = left
	if err := g.writeMetadata(s, meta); err != nil {
		return fmt.Errorf("record the removal of deleted partitions' replicas: %w", err)
	}
	return nil
}

// restoreMetadata writes the store's current topics to topics.json again, with a
// new sequence, after a change failed to write it: a copy the change left in a
// minority of the broker directories would otherwise win at the next Open (its
// sequence the greatest), and list a change that did not happen: a topic whose
// DeleteTopic failed, and that took records since, deleted there. If this write
// fails too, the copies stay in doubt until a later change or Close writes them.
// The caller holds adminMu.
func (g *brokerGroup) restoreMetadata(s *Store) {
	if err := g.writeMetadata(s, s.topics.Load().metadata()); err != nil {
		s.logger.Error("a failed topic change may be listed in some copies of topics.json; rewritten at the next change or at Close", "err", err)
	}
}

// settleController makes the controller's partitions those topics.json lists:
// partitions it knows that no topic lists (a CreateTopic or DeleteTopic that a crash
// interrupted: topics.json is their commit point) are deleted, with their replicas'
// directories; listed partitions it does not know get replicas again (logged: the
// controller's state was lost).
func (s *Store) settleController(ctl *replica.LocalController, set topicSet) error {
	listed := map[string]bool{}
	var missing []replica.PartitionSpec
	for _, t := range set {
		for i := range t.config.Partitions {
			name := partitionDirName(t.name, i)
			listed[name] = true
			if _, err := ctl.State(name); errors.Is(err, replica.ErrUnknownPartition) {
				missing = append(missing, s.partitionSpec(t.name, t.config, i))
			}
		}
	}
	var unlisted []string
	for _, name := range ctl.Partitions() {
		if !listed[name] {
			unlisted = append(unlisted, name)
		}
	}
	if len(unlisted) > 0 {
		states := map[string]replica.State{}
		for _, name := range unlisted {
			states[name], _ = ctl.State(name)
		}
		if err := ctl.Delete(unlisted); err != nil {
			return err
		}
		for _, name := range unlisted {
			s.removeReplicaDirs(name, states[name].Replicas)
		}
		s.logger.Info("removed the partitions of an interrupted topic change", "partitions", strings.Join(unlisted, ","))
	}
	if len(missing) > 0 {
		s.logger.Error("partitions listed in topics.json unknown to the controller: assigning replicas again", "partitions", len(missing))
		if _, err := ctl.Create(missing); err != nil {
			return err
		}
	}
	return nil
}

// partitionSpec returns the replicas of partition i of a topic with config c, as
// Kafka assigns them over the store's brokers.
func (s *Store) partitionSpec(name string, c TopicConfig, i int) replica.PartitionSpec {
	ids := s.brokers.brokerIDs()
	rf := min(c.ReplicationFactor, len(ids))
	assigned, _ := replica.AssignReplicas(ids, 1, rf, i) // validated: rf within [1, brokers]
	return replica.PartitionSpec{Name: partitionDirName(name, i), Replicas: assigned[0], Config: replicaConfig(c)}
}

// replicaConfig returns the replication settings of a topic's config.
func replicaConfig(c TopicConfig) replica.Config {
	return replica.Config{MinInsyncReplicas: c.MinInsyncReplicas, UncleanLeaderElection: c.UncleanLeaderElection}
}

// removeReplicaDirs removes the directories of a partition's replicas on the
// online brokers among replicas, logging what it cannot remove.
func (s *Store) removeReplicaDirs(name string, replicas []replica.BrokerID) {
	for _, id := range replicas {
		b, ok := s.brokers.brokerDirOf(id)
		if !ok || b.offline != nil {
			continue
		}
		dir := filepath.Join(b.dir, name)
		if err := s.lowerPoint(id, name, 0); err != nil {
			s.logger.Error("cannot forget a deleted partition's recovery point: its replica stays", "dir", dir, "err", err)
			continue
		}
		if err := s.fsys.RemoveAll(dir); err != nil {
			s.logger.Error("cannot remove a deleted partition's replica", "dir", dir, "err", err)
			continue
		}
		if err := s.fsys.SyncDir(b.dir); err != nil {
			s.logger.Error("cannot sync a broker directory", "dir", b.dir, "err", err)
		}
	}
}

// openReplicaLog is the cluster's OpenLog: it opens broker id's replica of the
// named partition with its topic's options. A replica whose directory is missing
// starts empty and catches up from its leader; if the controller counted it in sync
// (in the ISR or the ELR), its records are lost: it is first taken out of both
// (replica.Cluster.ReplicaLost), so that it never leads, nor counts toward the high
// watermark, before it caught up.
func (s *Store) openReplicaLog(id replica.BrokerID, name string, replicated bool) (*partition.Partition, error) {
	g := s.brokers
	b, ok := g.brokerDirOf(id)
	if !ok {
		return nil, fmt.Errorf("broker %d: %w", id, replica.ErrUnknownBroker)
	}
	g.configsMu.Lock()
	config, ok := g.configs[name]
	topicID := g.topicIDs[name]
	g.configsMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("partition %s: no topic lists it: %w", name, ErrUnknownTopic)
	}
	topicName, index, _ := parsePartitionDirName(name)
	dir := filepath.Join(b.dir, name)
	info, err := s.fsys.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st, stateErr := g.cluster.Controller().State(name)
		if stateErr == nil && (st.InSync(id) || slices.Contains(st.ELR, id)) {
			s.logger.Error("replica directory missing: its records are lost; it starts empty and copies its leader", "dir", dir, "broker", id)
			if err := g.cluster.ReplicaLost(name, id); err != nil {
				return nil, fmt.Errorf("%s: missing, and the controller cannot record its loss: %w", dir, err)
			}
		}
		if err := s.lowerPoint(id, name, 0); err != nil {
			return nil, err
		}
		if err := vfs.MkdirAllSync(s.fsys, dir); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !info.IsDir():
		return nil, fmt.Errorf("%s: not a directory (or a symlink): %w", dir, ErrCorrupt)
	}
	o := s.partitionOptions(config, TopicPartition{Topic: topicName, Partition: int32(index)})
	o.FS, o.Replicated = s.fsys, replicated
	o.RecoveryPoint, o.RecoveryPointSegment = g.pointHint(id, name)
	// A partition.metadata naming another topic, or damaged, is damage as a
	// corrupt segment is: the replica is rebuilt from an in-sync one.
	damage := checkPartitionMetadata(s.fsys, dir, topicID)
	if damage == nil {
		p, err := partition.Open(dir, o)
		if err == nil || !errors.Is(err, ErrCorrupt) {
			return p, err
		}
		damage = err
	} else if !errors.Is(damage, ErrCorrupt) {
		return nil, damage
	}
	p, err := s.rebuildReplica(id, name, dir, o, damage)
	if err != nil {
		return nil, err
	}
	if err := checkPartitionMetadata(s.fsys, dir, topicID); err != nil { // the new, empty directory's
		return nil, errors.Join(err, p.Close())
	}
	return p, nil
}

// rebuildReplica handles a replica found corrupt at open: if another replica is in
// sync to copy from, the damaged directory is set aside (renamed
// <name>.<time>-damaged, kept for inspection, never deleted by strata), the replica is
// recorded lost (out of the ISR and the ELR, no longer leading) and starts empty, and
// copies its leader; otherwise it stays corrupt (its broker offline), for no copy
// could rebuild it.
func (s *Store) rebuildReplica(id replica.BrokerID, name, dir string, o *partition.Options, damage error) (*partition.Partition, error) {
	g := s.brokers
	st, err := g.cluster.Controller().State(name)
	if err != nil {
		return nil, errors.Join(damage, err)
	}
	others := slices.DeleteFunc(slices.Clone(st.ISR), func(b replica.BrokerID) bool { return b == id })
	if len(others) == 0 {
		return nil, fmt.Errorf("%w (no other in-sync replica to rebuild it from)", damage)
	}
	s.logger.Error("replica corrupt: set aside, rebuilt from an in-sync replica", "dir", dir, "broker", id, "in-sync", replica.FormatBrokers(others), "err", damage)
	if err := g.cluster.ReplicaLost(name, id); err != nil {
		return nil, errors.Join(damage, err)
	}
	if err := s.setAsideReplica(id, name); err != nil {
		return nil, errors.Join(damage, err)
	}
	o.RecoveryPoint, o.RecoveryPointSegment = 0, nil
	return partition.Open(dir, o)
}

// setAsideReplica renames broker id's replica directory of a partition
// <name>.<unix nanoseconds>-damaged (kept for inspection: strata never removes it)
// and makes an empty one in its place, durably: the replica is rebuilt from its
// leader.
func (s *Store) setAsideReplica(id replica.BrokerID, name string) error {
	b, ok := s.brokers.brokerDirOf(id)
	if !ok {
		return fmt.Errorf("broker %d: %w", id, replica.ErrUnknownBroker)
	}
	dir := filepath.Join(b.dir, name)
	if err := s.lowerPoint(id, name, 0); err != nil {
		return err
	}
	aside := fmt.Sprintf("%s.%d-damaged", dir, s.opts.Now().UnixNano())
	if err := s.fsys.Rename(dir, aside); err != nil {
		return err
	}
	if err := s.fsys.SyncDir(b.dir); err != nil {
		return err
	}
	s.logger.Error("damaged replica set aside", "dir", dir, "aside", aside)
	return vfs.MkdirAllSync(s.fsys, dir)
}

// readAround returns, for a consumer of tp whose read of damaged (a replica's log)
// at offset found corruption, the log of another in-sync replica holding offset,
// after rebuilding the damaged replica from its leader (replica.Cluster.
// RebuildReplica: it sets the damaged files aside and copies the leader); nil
// outside a store of several brokers, or when no other replica can serve.
func (s *Store) readAround(tp TopicPartition, damaged *partition.Partition, offset int64, damage error) *partition.Partition {
	t, err := s.lookupTopic(tp.Topic)
	if err != nil || t.replicas == nil || tp.Partition < 0 || int(tp.Partition) >= len(t.replicas) {
		return nil
	}
	rp := t.replicas[tp.Partition]
	st := rp.State()
	// What the leader's high watermark covers is committed: an in-sync replica that
	// holds it may let readers see it before its next fetch would tell it.
	hw, _ := rp.HighWatermark()
	var healthy *partition.Partition
	for id, r := range rp.Replicas() {
		switch {
		case r.Log() == damaged:
			s.logger.Error("replica found corrupt by a reader: rebuilding it from its leader", "partition", tp.String(), "broker", id, "err", damage)
			if err := s.brokers.cluster.RebuildReplica(rp.Name(), id); err != nil {
				s.logger.Error("cannot rebuild a corrupt replica", "partition", tp.String(), "broker", id, "err", err)
			}
		case healthy == nil && st.InSync(id):
			if r.Log().Replicated() {
				_, _ = r.Log().SetHighWatermark(hw)
			}
			if r.Log().HighWatermark() > offset {
				healthy = r.Log()
			}
		}
	}
	return healthy
}

// replicaAcks returns the replica layer's acks for a producer's.
func replicaAcks(a Acks) replica.Acks {
	switch a {
	case AcksLeader:
		return replica.AcksLeader
	case AcksNone:
		return replica.AcksNone
	}
	return replica.AcksAll
}

// produceRetries bounds how many times a produce is retried after its leader moved
// or failed (Kafka's producer retries until delivery.timeout.ms; an in-process
// failover takes milliseconds).
const produceRetries = 8

// replicatedAppender returns the appendFunc that produces to rp through its leader
// at acks. A produce refused because the leadership moved (ErrNotLeader), because
// the partition has no leader yet (ErrNoLeader), because its leader closed under it
// (its broker stopped, a reassignment took it away) or because the leader's disk
// failed before the records were written is retried once the controller changed
// something, as a Kafka producer retries; records the leader wrote but could not
// get acknowledged (replica.ErrOutcomeUnknown) are not retried, so that they are
// never written twice. A produce to a partition deleted meanwhile fails with
// ErrUnknownTopic, and one still waiting when the store closes fails with its last
// error: neither waits for a leader that will not come.
func (g *brokerGroup) replicatedAppender(rp *replica.Partition, acks Acks) appendFunc {
	produce := g.replicatedProducerAppender(rp, acks)
	return func(ctx context.Context, records []partition.Record) (int64, error) {
		return produce(ctx, records, nil)
	}
}

// replicatedProducerAppender is replicatedAppender with an idempotent producer's
// identity written in the batch (nil: none). With an identity, records whose
// outcome is unknown are retried too, with the same identity: the leader,
// the same or a new one (followers keep every producer's sequences), recognises
// them if it holds them and answers with their offsets, as Kafka's idempotent
// producer retries.
func (g *brokerGroup) replicatedProducerAppender(rp *replica.Partition, acks Acks) producerAppendFunc {
	level := replicaAcks(acks)
	return func(ctx context.Context, records []partition.Record, producer *partition.Producer) (int64, error) {
		return g.throughLeader(ctx, rp, producer != nil, func() (int64, error) {
			return rp.ProduceWith(ctx, records, level, producer)
		})
	}
}

// throughLeader calls produce, which writes to rp through its leader, and retries it
// as replicatedAppender says; identity says that the batch carries an idempotent
// producer's identity, so that a batch whose outcome is unknown may be retried too.
func (g *brokerGroup) throughLeader(ctx context.Context, rp *replica.Partition, identity bool, produce func() (int64, error)) (int64, error) {
	for attempt := 0; ; attempt++ {
		changed := g.cluster.StateApplied()
		leader, _ := rp.Leader()
		offset, err := produce()
		failedLeader := leader != nil && leader.Log().Err() != nil
		// A leader closed under the produce: its broker stopped, or a
		// reassignment took it away.
		closedLeader := errors.Is(err, replica.ErrClosed) && !g.cluster.Closed()
		retriable := (errors.Is(err, replica.ErrNotLeader) || errors.Is(err, replica.ErrNoLeader) || closedLeader || (err != nil && failedLeader)) &&
			(identity || !errors.Is(err, replica.ErrOutcomeUnknown)) // written: without an identity, a retry could write it twice
		if err != nil && g.deleted(rp) {
			return offset, fmt.Errorf("%w (%w)", ErrUnknownTopic, err)
		}
		if !retriable || attempt == produceRetries {
			return offset, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return offset, err
		case <-g.closing:
			return offset, err
		}
	}
}

// leaderLog returns the log of rp's leader, or a *PartitionOfflineError wrapping
// replica.ErrNoLeader.
func leaderLog(tp TopicPartition, rp *replica.Partition) (*partition.Partition, error) {
	r, err := rp.Leader()
	if err != nil {
		return nil, &PartitionOfflineError{TopicPartition: tp, Err: err}
	}
	return r.Log(), nil
}
