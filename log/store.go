package log

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/txn"
	"github.com/stratalog/strata/vfs"
)

// Store is a directory of topics: what an application opens. It is safe for
// concurrent use. See the package documentation.
//
// Lock order: adminMu, then mu or recoveryPoints; never a partition's locks while
// holding mu.
type Store struct {
	dir    string
	opts   Options
	fsys   vfs.FS
	logger *slog.Logger
	lock   io.Closer

	// adminMu serializes the changes of topics (CreateTopic, DeleteTopic,
	// AddPartitions) and Close: whoever holds it owns topics.json and may publish a
	// new topics snapshot.
	adminMu sync.Mutex
	// topics is the current snapshot, read without locks.
	topics atomic.Pointer[topicSet]
	// closed is set by Close once producers are flushed: every call fails after it.
	closed atomic.Bool
	// topicIDs maps the topic IDs of a topics snapshot to their names, built for
	// the snapshot that TopicByID last met (topic_id.go).
	topicIDs atomic.Pointer[topicIDIndex]
	// incarnations numbers the topics this Store made or loaded (topic.incarnation).
	incarnations atomic.Uint64
	// retired holds the partitions closed because they went offline (a repair, a
	// replay that failed) while their topic lived on: a call that met one closed
	// says so, rather than "topic deleted".
	retired sync.Map // *partition.Partition -> struct{}
	// reopening holds, while AlterTopicConfig closes a partition and opens it again,
	// a channel closed once its replacement is published (or the partition went
	// offline): a consumer that met the closed one waits on it instead of failing.
	reopening sync.Map // *partition.Partition -> chan struct{}
	// carried holds the Stats counters of the partitions AlterTopicConfig closed
	// and opened again, which their replacements add (see carryStats).
	carried sync.Map // statsKey -> partition.Stats

	mu struct {
		sync.Mutex
		closing   bool // no new producers or consumers
		producers map[*Producer]struct{}
		consumers map[*Consumer]struct{}
		groups    map[*GroupConsumer]struct{}
	}

	// coordinator runs the consumer groups, with offsets in OffsetsTopic; nil until
	// the store first needs it. groupsMu serializes starting it. Lock order:
	// groupsMu, then adminMu.
	groupsMu     sync.Mutex
	groupsClosed bool // set by Close under groupsMu
	coordinator  atomic.Pointer[group.Coordinator]
	// offsetStore is the coordinator's offsets log, set before coordinator: the
	// transaction coordinator writes its markers through it.
	offsetStore atomic.Pointer[group.PartitionOffsetStore]
	// skippedOffsetsRecords counts the records of OffsetsTopic that the
	// coordinator's replay skipped (Stats.SkippedOffsetsRecords).
	skippedOffsetsRecords atomic.Int64

	// recoveryPoints is the store's record of how far each partition was fsynced,
	// and what recovery-points.checkpoint holds (see recovery_points.go). Lock
	// order: adminMu, then recoveryPoints, then a partition's locks.
	recoveryPoints struct {
		sync.Mutex
		hints  map[TopicPartition]recordedPoint // the point each partition opens with
		onDisk map[TopicPartition]recordedPoint // what the file holds; nil: unknown or damaged (rewrite it)
		closed bool                             // Close wrote it last
	}

	// brokers is the replica layer of a store of several brokers; nil for a
	// one-broker store (see replicated.go).
	brokers *brokerGroup

	// producerIDs hands out the ids of idempotent producers (producer_id.go).
	producerIDs producerIDs

	// txnCoordinator runs transactions, with its state in TransactionStateTopic;
	// nil until the store first needs it (txn_coordinator.go). txnMu serializes
	// starting it. Lock order: txnMu, then groupsMu, then adminMu.
	txnMu          sync.Mutex
	txnClosed      bool // set by Close under txnMu
	txnCoordinator atomic.Pointer[txn.Coordinator]

	stop      chan struct{} // closed by Close: background goroutines exit
	done      sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Open opens the store in dir, creating the directory if it does not exist; nil
// opts means the defaults. Only one Store may have a directory open at a time: Open
// locks dir/.lock, and a second Open, from this process or another, fails at once
// with an error matching ErrLocked.
//
// Open reads topics.json, finishes or undoes a change of topics that a crash
// interrupted (see the package documentation, "On disk"), and opens every
// partition (recovering it after a crash, checked against the recovery point
// recorded for it in recovery-points.checkpoint: see Sync). It never removes a
// directory that strata did not mark for removal. A partition that cannot be
// opened (corrupt, its directory missing or a symlink) is offline, and Open
// succeeds without it (see OfflinePartitions); Open fails only for the store as a
// whole: the lock, or a topics.json that is missing from a directory holding
// partitions, unreadable or corrupt (a damaged recovery-points.checkpoint is only
// logged: it is a hint). Invalid options are a *ConfigError naming every invalid
// field. An empty dir is ErrInvalidArgument: it would otherwise mean the working
// directory.
func Open(dir string, opts *Options) (*Store, error) {
	if dir == "" {
		return nil, errorf("strata/log: open: empty directory name (use \".\" for the working directory): %w", ErrInvalidArgument)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	s := &Store{dir: dir, opts: o, fsys: o.FS, logger: o.Logger, stop: make(chan struct{})}
	if err := vfs.MkdirAllSync(s.fsys, dir); err != nil {
		return nil, errorf("strata/log: open %s: %w", dir, err)
	}
	s.lock, err = s.fsys.Lock(filepath.Join(dir, lockFileName))
	if errors.Is(err, vfs.ErrLocked) {
		return nil, errorf("strata/log: open %s: %w (%w)", dir, ErrLocked, err)
	}
	if err != nil {
		return nil, errorf("strata/log: open %s: lock: %w", dir, err)
	}
	set, err := s.loadAll()
	if err != nil {
		return nil, errors.Join(errorf("strata/log: open %s: %w", dir, err), s.lock.Close())
	}
	s.topics.Store(&set)
	if err := s.openGroups(); err != nil {
		return nil, errors.Join(errorf("strata/log: open %s: %w", dir, err), s.closeTopics(set), s.lock.Close())
	}
	if err := s.openTransactions(); err != nil {
		s.closeTransactions()
		close(s.stop)
		s.done.Wait()
		var groupsErr error
		if c := s.currentCoordinator(); c != nil {
			groupsErr = c.Close()
		}
		return nil, errors.Join(errorf("strata/log: open %s: %w", dir, err), groupsErr, s.closeTopics(set), s.lock.Close())
	}
	if err := s.recordRecoveryPoints(); err != nil {
		s.logger.Error("recording the recovery points at open failed", "err", err)
	}
	if o.RetentionCheckInterval > 0 {
		s.done.Add(1)
		go s.retentionLoop(o.RetentionCheckInterval)
	}
	if o.RecoveryPointInterval > 0 {
		s.done.Add(1)
		go s.recoveryPointLoop(o.RecoveryPointInterval)
	}
	return s, nil
}

// loadAll finds the store's brokers and loads a one-broker store (load) or a store
// of several (loadBrokerGroup).
func (s *Store) loadAll() (topicSet, error) {
	brokers, err := loadBrokers(s.fsys, s.dir)
	if err != nil {
		return nil, err
	}
	for _, d := range brokers.leftovers {
		s.logger.Warn("a broker directory inside a one-broker store: an interrupted InitBrokers (run it again), or the root of a store of several brokers lost its brokers.json (open the store from another broker's directory)", "dir", d)
	}
	if brokers.legacy {
		return s.load()
	}
	return s.loadBrokerGroup(brokers)
}

// load reads topics.json (writing an empty one into a new store), settles what a
// crash interrupted (see partition_dirs.go) and opens every partition it lists. A
// partition that cannot be opened is offline, logged at Error: load fails only for
// the store as a whole (topics.json, the directory itself).
func (s *Store) load() (topicSet, error) {
	meta, found, err := readMetadata(s.fsys, s.dir)
	if err != nil {
		return nil, err
	}
	if err := s.loadRecoveryPoints(meta); err != nil {
		s.logger.Error("recovery points unreadable: after a power loss, recovery checks the newest segments only against their partitions' own checkpoints", "err", err)
	}
	names, err := s.fsys.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	if !found {
		// A store writes topics.json before its first partition directory, so
		// partition directories without it are not a store's: leave them alone.
		for _, name := range names {
			_, _, partitionDir := parsePartitionDirName(name)
			_, marked := parseMarkedDirName(name)
			if (partitionDir || marked) && s.isDir(name) {
				return nil, errs.Corruptf(filepath.Join(s.dir, metadataFileName), 0,
					"missing, but the directory holds partition directory %s: not a strata store, or its metadata was lost", name)
			}
		}
		if err := writeMetadata(s.fsys, s.dir, metadataFile{}); err != nil {
			return nil, err
		}
	}
	if err := s.removeMetadataTemp(names); err != nil {
		return nil, err
	}
	if assignMissingTopicIDs(&meta) {
		if err := writeMetadata(s.fsys, s.dir, meta); err != nil {
			return nil, fmt.Errorf("record the topic IDs given to the topics of a store made before topic IDs: %w", err)
		}
		s.logger.Info("gave topic IDs to the topics of a store made before topic IDs", "topics", len(meta.Topics))
	}
	s.warnUnlisted(meta, names)
	m, err := s.scanMarks()
	if err != nil {
		return nil, err
	}
	set := topicSet{}
	for _, tm := range meta.Topics {
		own, _ := tm.ownConfig() // checked by readMetadata
		config := own.inherit(s.opts.TopicDefaults)
		config.Partitions = tm.Partitions
		keys, _ := parseKeyHash(tm.Partitioner) // checked by readMetadata
		id, _ := parseTopicID(tm.TopicID)       // checked by readMetadata, given by assignMissingTopicIDs
		t := &topic{name: tm.Name, id: id, internal: tm.Internal, keyHash: keys, own: own, config: config, incarnation: s.newIncarnation()}
		parts, openErrs := s.openPartitions(tm.Name, id, config, 0, tm.Partitions, m)
		t.partitions = parts
		for i, err := range openErrs {
			if err != nil {
				t = t.withPartition(i, nil, err)
				s.logger.Error("partition offline: the rest of the store opens without it", "partition", TopicPartition{Topic: tm.Name, Partition: int32(i)}.String(), "err", err)
			}
		}
		set[tm.Name] = t
	}
	if err := s.removeUnclaimed(m); err != nil {
		return nil, errors.Join(err, s.closeTopics(set))
	}
	return set, nil
}

// removeMetadataTemp removes topics.json.tmp, recovery-points.checkpoint.tmp and
// producer-ids.json.tmp, the temporary files of replacements that a crash
// interrupted.
func (s *Store) removeMetadataTemp(names []string) error {
	removed := false
	for _, name := range []string{metadataFileName + ".tmp", recoveryPointsFileName + ".tmp", producerIDFileName + ".tmp"} {
		if !slices.Contains(names, name) {
			continue
		}
		if err := s.fsys.Remove(filepath.Join(s.dir, name)); err != nil {
			return err
		}
		removed = true
	}
	if !removed {
		return nil
	}
	return s.fsys.SyncDir(s.dir)
}

// warnUnlisted logs, at Warn, every directory named like a partition directory
// that topics.json does not list and strata did not mark: it is not strata's to
// remove (a user's backup-1/, the partition of a topic lost from topics.json), so
// it stays.
func (s *Store) warnUnlisted(meta metadataFile, names []string) {
	listed := map[string]bool{}
	for _, t := range meta.Topics {
		for i := range t.Partitions {
			listed[partitionDirName(t.Name, i)] = true
		}
	}
	for _, name := range names {
		if _, _, ok := parsePartitionDirName(name); ok && !listed[name] && s.isDir(name) {
			s.logger.Warn("leaving alone a directory named like a partition that topics.json does not list", "path", filepath.Join(s.dir, name))
		}
	}
}

// isDir reports whether the named entry of the store's directory is a directory.
func (s *Store) isDir(name string) bool {
	info, err := s.fsys.Stat(filepath.Join(s.dir, name))
	return err == nil && info.IsDir()
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// snapshot returns the current topics, or ErrClosed.
func (s *Store) snapshot() (topicSet, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return *s.topics.Load(), nil
}

// lookupTopic returns the named topic, ErrUnknownTopic or ErrClosed.
func (s *Store) lookupTopic(name string) (*topic, error) {
	set, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	t := set[name]
	if t == nil {
		return nil, errorf("strata/log: topic %q: %w", name, ErrUnknownTopic)
	}
	return t, nil
}

// lookupPartition returns the partition tp names, ErrUnknownTopic,
// ErrUnknownPartition, a *PartitionOfflineError or ErrClosed.
func (s *Store) lookupPartition(tp TopicPartition) (*partition.Partition, error) {
	_, p, err := s.lookupTopicPartition(tp)
	return p, err
}

// lookupTopicPartition is lookupPartition that also returns the topic, from the same
// snapshot.
func (s *Store) lookupTopicPartition(tp TopicPartition) (*topic, *partition.Partition, error) {
	t, err := s.lookupTopic(tp.Topic)
	if err != nil {
		return nil, nil, err
	}
	if tp.Partition < 0 || int(tp.Partition) >= len(t.partitions) {
		return nil, nil, errorf("strata/log: topic %q has %d partitions, no partition %d: %w", tp.Topic, len(t.partitions), tp.Partition, ErrUnknownPartition)
	}
	p, err := t.partitionAt(tp.Partition)
	return t, p, err
}

// newIncarnation returns a topic incarnation never returned before by s.
func (s *Store) newIncarnation() uint64 { return s.incarnations.Add(1) }

// partitionError adds the operation and partition to err, and reports a partition
// closed because its topic was deleted as ErrUnknownTopic rather than ErrClosed, and
// one closed because it went offline (a repair) as its *PartitionOfflineError.
func (s *Store) partitionError(op string, tp TopicPartition, p *partition.Partition, err error) error {
	if errors.Is(err, ErrClosed) && !s.closed.Load() && p != nil {
		current, lookupErr := s.lookupPartition(tp)
		if offline, ok := errors.AsType[*PartitionOfflineError](lookupErr); ok {
			return errorf("strata/log: %s %s: %w", op, tp, offline)
		}
		if _, retired := s.retired.Load(p); retired && lookupErr == nil {
			return errorf("strata/log: %s %s: the partition was taken offline and opened again meanwhile; retry: %w", op, tp, ErrPartitionOffline)
		}
		if lookupErr != nil || current != p {
			return errorf("strata/log: %s %s: topic deleted: %w", op, tp, ErrUnknownTopic)
		}
	}
	return errorf("strata/log: %s %s: %w", op, tp, err)
}

// reopened returns the partition that replaced p, a partition of tp's topic
// incarnation that was closed and opened again (RepairPartition, ReopenPartition),
// or in a store of several brokers the log of tp's new leader, or nil if there is
// none: tp is offline, its topic deleted, or p is current.
func (s *Store) reopened(tp TopicPartition, incarnation uint64, p *partition.Partition) *partition.Partition {
	t, err := s.lookupTopic(tp.Topic)
	if err != nil || t.incarnation != incarnation || tp.Partition < 0 || int(tp.Partition) >= len(t.partitions) {
		return nil
	}
	if t.replicas != nil {
		// In a store of several brokers: the log of the partition's leader, if the
		// leadership moved off p (its broker stopped).
		if current, err := t.partitionAt(tp.Partition); err == nil && current != p {
			return current
		}
		return nil
	}
	if current := t.partitions[tp.Partition]; current != p {
		return current
	}
	return nil
}

// reopeningOf returns the channel closed once p, which AlterTopicConfig is opening
// again, is replaced, or nil if p is not being reopened.
func (s *Store) reopeningOf(p *partition.Partition) <-chan struct{} {
	if ch, ok := s.reopening.Load(p); ok {
		return ch.(chan struct{})
	}
	return nil
}

// Close closes the store: it closes every Producer (flushing what they hold) and
// Consumer made from it, stops the background work, closes every partition (which
// fsyncs it and records a clean shutdown), records the recovery points and releases
// the directory's lock. Close is idempotent; after it every call returns ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	if s.brokers != nil {
		s.brokers.startClosing() // produces waiting for a leader give up
	}
	s.mu.Lock()
	s.mu.closing = true
	producers, consumers, groups := s.mu.producers, s.mu.consumers, s.mu.groups
	s.mu.Unlock()
	// Group consumers first: their handlers and OnRevoked may still produce.
	err := s.closeGroups(groups)
	for p := range producers {
		err = errors.Join(err, p.Close())
	}
	s.closed.Store(true)
	for c := range consumers {
		c.Close()
	}
	s.closeTransactions()
	close(s.stop)
	s.done.Wait()
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if g := s.brokers; g != nil && g.metadataInDoubt {
		// A failed topic change may be listed in a minority of the copies of
		// topics.json: they must not win at the next Open.
		if mdErr := g.writeMetadata(s, s.topics.Load().metadata()); mdErr != nil {
			err = errors.Join(err, errorf("strata/log: rewrite topics.json after a failed topic change: %w", mdErr))
		}
	}
	if s.brokers != nil {
		// The replicas' points and high watermarks, while their logs are open.
		if err := s.recordBrokerPoints(); err != nil {
			s.logger.Warn("recording the brokers' recovery points and high watermarks at close failed", "err", err)
		}
	}
	topicsErr := s.closeTopics(*s.topics.Load())
	err = errors.Join(err, topicsErr)
	// Closed cleanly, each partition's checkpoint records its end: the file is
	// brought up to date all the same, so that the next Open writes nothing. When
	// every partition closed cleanly, no Open consults it, so failing to write it
	// (a full disk) is logged, not an error of Close.
	if rpErr := s.closeRecoveryPoints(); rpErr != nil {
		if topicsErr != nil {
			err = errors.Join(err, rpErr)
		} else {
			s.logger.Warn("recording the recovery points at close failed; every partition closed cleanly, so nothing needs them", "err", rpErr)
		}
	}
	if lockErr := s.lock.Close(); lockErr != nil {
		err = errors.Join(err, errorf("strata/log: release lock: %w", lockErr))
	}
	return err
}

// closeTopics closes the partitions of every topic in set (in a store of several
// brokers, every replica, and the broker directories' locks).
func (s *Store) closeTopics(set topicSet) error {
	var err error
	for _, t := range set {
		err = errors.Join(err, closeAll(t.partitions))
	}
	if s.brokers != nil {
		err = errors.Join(err, s.brokers.close())
	}
	return err
}

// register records a producer or consumer that Close must close; it fails once
// Close has begun.
func (s *Store) register(p *Producer, c *Consumer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closing {
		return ErrClosed
	}
	if p != nil {
		if s.mu.producers == nil {
			s.mu.producers = map[*Producer]struct{}{}
		}
		s.mu.producers[p] = struct{}{}
	}
	if c != nil {
		if s.mu.consumers == nil {
			s.mu.consumers = map[*Consumer]struct{}{}
		}
		s.mu.consumers[c] = struct{}{}
	}
	return nil
}

// registerGroupConsumer records a group consumer that Close must close.
func (s *Store) registerGroupConsumer(g *GroupConsumer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closing {
		return ErrClosed
	}
	if s.mu.groups == nil {
		s.mu.groups = map[*GroupConsumer]struct{}{}
	}
	s.mu.groups[g] = struct{}{}
	return nil
}

// unregisterGroupConsumer forgets a closed group consumer.
func (s *Store) unregisterGroupConsumer(g *GroupConsumer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.closing {
		delete(s.mu.groups, g)
	}
}

// unregister forgets a closed producer or consumer.
func (s *Store) unregister(p *Producer, c *Consumer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closing {
		return // Close iterates the maps: leave them alone
	}
	delete(s.mu.producers, p)
	delete(s.mu.consumers, c)
}
