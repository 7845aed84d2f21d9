package log

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
)

// AlterTopicConfig changes a topic's own settings after CreateTopic (Kafka's
// incremental AlterConfigs, kafka-configs --alter): every non-zero field of set
// replaces the topic's setting, and each config named in reset (ConfigRetentionMs,
// ConfigSync, ...; see TopicConfigNames) goes back to inheriting the store's
// TopicDefaults. Fields neither set nor reset keep their value. Setting Sync.Mode to
// a mode other than SyncPeriodic drops the topic's Sync.EveryRecords and Interval;
// resetting ConfigSync resets all three.
//
// Partitions and ReplicationFactor are not configs: AddPartitions and
// ReassignPartition change them. The change is checked as CreateTopic checks a
// config: a *ConfigError (ErrInvalidConfig) names every invalid field, every
// unknown name in reset, every config both set and reset (as Kafka refuses
// duplicate keys), and the checks against the store (MinInsyncReplicas above
// the ReplicationFactor); an unknown topic is ErrUnknownTopic, an internal one
// ErrInternalTopic. Nothing changes on these errors, nor when topics.json cannot
// be written. Once it is written the change is made: an error after that (a
// partition that fails to open again goes offline, as in ReopenPartition; a
// controller that does not take the replication settings, which it does at the
// next Open) says "altered, but".
//
// The change is durable when AlterTopicConfig returns: topics.json keeps it (in a
// store of several brokers, a majority of the broker directories, as CreateTopic
// writes it). It takes effect at once:
//   - CleanupPolicy's choice of compaction and retention, and the refusal of
//     records without a key to a compacted topic, everywhere;
//   - MinInsyncReplicas and UncleanLeaderElection, through the controller, in a
//     store of several brokers;
//   - the settings each partition applies itself (SegmentBytes, SegmentAge,
//     RetentionBytes, RetentionAge, Compression, MaxBatchBytes, Sync, and
//     compaction's DeleteRetention, MinCleanableDirtyRatio, MinCompactionLag): in
//     a one-broker store the topic's partitions are closed and opened again with
//     them, one at a time, as ReopenPartition does: consumers and producers
//     (Store.Produce, a Producer) that meet a partition being opened again wait
//     for the new one and go on with it, so that, as with Kafka, a config change
//     fails no produce. In a store of several brokers
//     each replica takes them when it is next opened: its broker started, the
//     partition reassigned, or the store opened again.
func (s *Store) AlterTopicConfig(ctx context.Context, name string, set TopicConfig, reset ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	what := strconv.Quote(name)
	if err := checkConfig(what, alterProblems(set, reset)); err != nil {
		return err
	}
	s.adminMu.Lock()
	reopened, err := s.alterTopicConfigLocked(name, set, reset)
	s.adminMu.Unlock()
	for _, tp := range reopened {
		s.partitionBackOnline(tp) // without adminMu: coordinatorFor takes groupsMu first
	}
	return err
}

// alterTopicConfigLocked is AlterTopicConfig once set and reset are checked; it
// returns the partitions it opened again. The caller holds adminMu.
func (s *Store) alterTopicConfigLocked(name string, set TopicConfig, reset []string) ([]TopicPartition, error) {
	what := strconv.Quote(name)
	topics, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	old := topics[name]
	switch {
	case old == nil:
		return nil, errorf("strata/log: alter config of topic %q: %w", name, ErrUnknownTopic)
	case old.internal:
		return nil, errorf("strata/log: alter config of topic %q: %w", name, ErrInternalTopic)
	}
	own := alteredConfig(old.own, set, reset)
	if err := checkConfig(what, own.problems("")); err != nil {
		return nil, err
	}
	effective := own.inherit(s.opts.TopicDefaults)
	effective.Partitions = old.config.Partitions
	effective.ReplicationFactor = old.config.ReplicationFactor
	if err := s.checkReplication(name, effective); err != nil {
		return nil, err
	}
	altered := *old
	altered.own, altered.config = own, effective
	next := topics.with(&altered)
	if s.brokers != nil {
		committed, err := s.alterReplicatedConfig(&altered, next)
		if committed { // topics.json has it: the change is made, whatever followed
			s.topics.Store(&next)
			s.logger.Info("altered topic config", "topic", name)
		}
		if err != nil {
			return nil, errorf("strata/log: alter config of topic %q: %w", name, err)
		}
		return nil, nil
	}
	if err := writeMetadata(s.fsys, s.dir, next.metadata()); err != nil {
		// Not changed: topics.json may be the new one already (its rename done, the
		// directory fsync failed), so the old one is written back.
		return nil, errors.Join(errorf("strata/log: alter config of topic %q: write metadata: %w", name, err), s.rollBack(topics))
	}
	s.topics.Store(&next)
	s.logger.Info("altered topic config", "topic", name)
	if samePartitionOptions(s, old.config, effective) {
		return nil, nil
	}
	return s.reopenWithConfigLocked(name)
}

// alterProblems returns what is wrong with an AlterTopicConfig's set and reset on
// their own.
func alterProblems(set TopicConfig, reset []string) []string {
	var problems []string
	if set.Partitions != 0 {
		problems = append(problems, fmt.Sprintf("Partitions: %d: not a config; AddPartitions adds partitions", set.Partitions))
	}
	if set.ReplicationFactor != 0 {
		problems = append(problems, fmt.Sprintf("ReplicationFactor: %d: fixed at CreateTopic; ReassignPartition moves replicas", set.ReplicationFactor))
	}
	check := set
	check.Sync = SyncPolicy{} // checked once merged: sync.interval.ms alone may alter a periodic topic
	problems = append(problems, check.problems("")...)
	if set.Sync.Mode < SyncDefault || set.Sync.Mode > SyncNone {
		problems = append(problems, fmt.Sprintf("Sync.Mode: %v is not a sync mode", set.Sync.Mode))
	}
	setNames := set.Configs()
	for _, key := range reset {
		if _, ok := topicConfigFields[key]; !ok {
			problems = append(problems, fmt.Sprintf("%s: no such config to reset (known: %v)", key, TopicConfigNames()))
			continue
		}
		_, both := setNames[key]
		if key == ConfigSync {
			both = set.Sync != SyncPolicy{} // resetting sync resets its interval and records too
		}
		if both {
			problems = append(problems, fmt.Sprintf("%s: both set and reset; give it once", key))
		}
	}
	return problems
}

// alteredConfig returns own with set's non-zero fields over it and the configs
// in reset cleared.
func alteredConfig(own, set TopicConfig, reset []string) TopicConfig {
	out := set.inherit(own)
	out.UncleanLeaderElection = set.UncleanLeaderElection || own.UncleanLeaderElection
	out.Sync = own.Sync
	switch set.Sync.Mode {
	case SyncDefault:
	case SyncPeriodic:
		out.Sync.Mode = SyncPeriodic
	default:
		out.Sync = SyncPolicy{Mode: set.Sync.Mode}
	}
	if set.Sync.Interval != 0 {
		out.Sync.Interval = set.Sync.Interval
	}
	if set.Sync.EveryRecords != 0 {
		out.Sync.EveryRecords = set.Sync.EveryRecords
	}
	for _, key := range reset {
		switch key {
		case ConfigCleanupPolicy:
			out.CleanupPolicy = ""
		case ConfigCompressionType:
			out.Compression = ""
		case ConfigDeleteRetentionMs:
			out.DeleteRetention = 0
		case ConfigMaxMessageBytes:
			out.MaxBatchBytes = 0
		case ConfigMinCleanableDirtyRatio:
			out.MinCleanableDirtyRatio = 0
		case ConfigMinCompactionLagMs:
			out.MinCompactionLag = 0
		case ConfigMinInsyncReplicas:
			out.MinInsyncReplicas = 0
		case ConfigRetentionBytes:
			out.RetentionBytes = 0
		case ConfigRetentionMs:
			out.RetentionAge = 0
		case ConfigSegmentBytes:
			out.SegmentBytes = 0
		case ConfigSegmentMs:
			out.SegmentAge = 0
		case ConfigSync:
			out.Sync = SyncPolicy{}
		case ConfigSyncIntervalMs:
			out.Sync.Interval = 0
		case ConfigSyncRecords:
			out.Sync.EveryRecords = 0
		case ConfigUncleanLeaderElection:
			out.UncleanLeaderElection = false
		}
	}
	return out
}

// samePartitionOptions reports whether configs a and b give a partition the same
// options: if so, the partitions need not be opened again.
func samePartitionOptions(s *Store, a, b TopicConfig) bool {
	tp := TopicPartition{}
	oa, ob := s.partitionOptions(a, tp), s.partitionOptions(b, tp)
	for _, o := range []*partition.Options{oa, ob} {
		o.Logger, o.FS, o.Hooks, o.Now = nil, nil, partition.Hooks{}, nil
		o.RecoveryPoint, o.RecoveryPointSegment = 0, nil
	}
	return reflect.DeepEqual(oa, ob)
}

// reopenWithConfigLocked closes each online partition of the named topic and opens
// it again with the topic's current config, one at a time, and returns those it
// opened. A partition that fails to open goes offline, as in ReopenPartition, and
// its error is returned. The caller holds adminMu.
func (s *Store) reopenWithConfigLocked(name string) ([]TopicPartition, error) {
	t, err := s.lookupTopic(name)
	if err != nil {
		return nil, err
	}
	var reopened []TopicPartition
	var failed []error
	for i, p := range t.partitions {
		if p == nil {
			continue // offline: ReopenPartition opens it with the new config
		}
		tp := TopicPartition{Topic: name, Partition: int32(i)}
		if err := s.reopenLocked(tp, p); err != nil {
			failed = append(failed, err)
			continue
		}
		reopened = append(reopened, tp)
	}
	if failed != nil {
		return reopened, errorf("strata/log: alter config of topic %q: altered, but reopening partitions failed: %w", name, errors.Join(failed...))
	}
	return reopened, nil
}

// reopenLocked closes p, partition tp, and opens it again with its topic's current
// config; if that fails, tp is offline with the error. Until the new partition is
// published, consumers and produces wait for the new one (Store.reopeningOf) and
// move to it (Store.reopened); other operations on p fail with ErrPartitionOffline
// ("retry"). The caller holds adminMu.
func (s *Store) reopenLocked(tp TopicPartition, p *partition.Partition) error {
	replaced := make(chan struct{})
	s.reopening.Store(p, replaced)
	defer func() { // after the new partition (or the offline one) is published
		s.reopening.Delete(p)
		close(replaced)
	}()
	s.retired.Store(p, struct{}{})
	if err := p.Close(); err != nil {
		s.logger.Warn("closing a partition to reopen it with a new config failed", "partition", tp.String(), "err", err)
	}
	var point recordedPoint
	point.offset, point.mark, point.marked = p.DurablePoint()
	s.rememberRecoveryPoint(tp, point)
	topics, err := s.snapshot()
	if err != nil {
		return err
	}
	t := topics[tp.Topic]
	s.carryStats(t.incarnation, tp.Partition, p.Stats())
	m, err := s.scanMarks()
	var opened *partition.Partition
	if err == nil {
		opened, err = s.openPartition(tp, t.id, t.config, m)
	}
	next := topics.with(t.withPartition(int(tp.Partition), opened, err))
	s.topics.Store(&next)
	if err != nil {
		s.logger.Error("partition offline after reopening it with a new config", "partition", tp.String(), "err", err)
		return next[tp.Topic].offline[tp.Partition]
	}
	return nil
}

// alterReplicatedConfig makes the config change of t, in a store of several
// brokers: the replica logs opened from now on take t's config, topics.json lists
// next (the commit point), and the controller takes the replication settings.
// committed says whether topics.json took the change: an error after that does
// not undo it.
func (s *Store) alterReplicatedConfig(t *topic, next topicSet) (committed bool, err error) {
	g := s.brokers
	g.configsMu.Lock()
	previous := map[string]TopicConfig{}
	for i := range t.config.Partitions {
		key := partitionDirName(t.name, i)
		previous[key] = g.configs[key]
		g.configs[key] = t.config
	}
	g.configsMu.Unlock()
	if err := g.writeMetadata(s, next.metadata()); err != nil {
		g.configsMu.Lock()
		for key, c := range previous {
			g.configs[key] = c
		}
		g.configsMu.Unlock()
		g.restoreMetadata(s)
		return false, fmt.Errorf("write metadata: %w", err)
	}
	var failed []error
	for i := range t.config.Partitions {
		key := partitionDirName(t.name, i)
		cfg := replica.Config{MinInsyncReplicas: t.config.MinInsyncReplicas, UncleanLeaderElection: t.config.UncleanLeaderElection}
		if _, err := g.cluster.SetConfig(key, cfg); err != nil {
			failed = append(failed, fmt.Errorf("partition %d: %w", i, err))
		}
	}
	if failed != nil {
		return true, fmt.Errorf("altered, but the controller did not take the replication settings of every partition (it does at the next Open): %w", errors.Join(failed...))
	}
	return true, nil
}
