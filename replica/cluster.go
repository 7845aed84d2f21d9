package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/stratalog/strata/partition"
)

// ClusterOptions configure a Cluster. OpenLog is required; the zero value of every
// other field means its default.
type ClusterOptions struct {
	// Controller decides leaders and ISRs. Default: a LocalController keeping its
	// state in memory, which suits logs that do not outlive the process (tests). The
	// controller's state must be as durable as the logs: a Cluster over logs that
	// survived a restart and a controller that forgot them starts every leader epoch
	// again below what the logs hold, and no replica can lead (AssignEpoch refuses a
	// lower epoch). Use a LocalController over a DirStorage, as package log does.
	Controller Controller
	// Transport carries follower fetches. Default: a Network. A Transport with a
	// Register(BrokerID, Handler) method (as Network has) is told which handler
	// serves each broker as brokers start and stop.
	Transport Transport
	// OpenLog opens the replica of a partition that broker holds; replicated says
	// whether the partition has more than one replica (open it with
	// partition.Options.Replicated then). The Cluster closes what it opened.
	OpenLog func(broker BrokerID, name string, replicated bool) (*partition.Partition, error)
	// ReplicaLagTime is Kafka's replica.lag.time.max.ms: a follower that has not
	// caught up with its leader for this long leaves the ISR. Default 30 s.
	ReplicaLagTime time.Duration
	// FetchMaxBytes is how many bytes of batches a follower fetches at a time
	// (Kafka's replica.fetch.max.bytes). Default 1 MiB.
	FetchMaxBytes int
	// FetchMaxWait is how long a leader holds a follower's fetch while it has
	// nothing new (Kafka's replica.fetch.wait.max.ms). Default 500 ms.
	FetchMaxWait time.Duration
	// RetryBackoff is how long a follower waits after a failed fetch (Kafka's
	// replica.fetch.backoff.ms). Default 10 ms: brokers in one process.
	RetryBackoff time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives leadership changes and failures. Default: discard.
	Logger *slog.Logger
	// LeaderRebalanceInterval is how often leadership moves back to each
	// partition's preferred replica where it is online and in sync (Kafka's
	// auto.leader.rebalance.enable with leader.imbalance.check.interval.seconds): after
	// a failover, leaders otherwise stay piled on the brokers that took over.
	// Default 5 minutes, Kafka's; negative: never (ElectPreferred does it on demand).
	LeaderRebalanceInterval time.Duration
	// BeforeTruncate, if not nil, is told before a follower's log loses its
	// records at and above end (truncated where it diverges from its leader, or
	// started over): an owner that records how far each log is durable
	// (partition.Options.RecoveryPoint) lowers its record there first, durably. An
	// error stops the truncation (the follower tries again later).
	BeforeTruncate func(broker BrokerID, name string, end int64) error
	// SetAside, if not nil, sets aside the files of broker's replica of a partition
	// found corrupt (the Cluster closed it first) and leaves an empty directory in
	// their place, for RebuildReplica.
	SetAside func(broker BrokerID, name string) error
	// RemoveLog, if not nil, removes the files of broker's replica of a partition
	// once a reassignment took that replica away (the Cluster closed it first).
	RemoveLog func(broker BrokerID, name string) error
	// Manual starts no goroutine: the caller drives followers and ISR checks (the
	// deterministic simulation does, through the package's tests).
	Manual bool
}

// DefaultLeaderRebalanceInterval is ClusterOptions.LeaderRebalanceInterval's
// default.
const DefaultLeaderRebalanceInterval = 5 * time.Minute

// DefaultRetryBackoff is ClusterOptions.RetryBackoff's default.
const DefaultRetryBackoff = 10 * time.Millisecond

// registry is a Transport that learns which handler serves each broker.
type registry interface {
	Register(BrokerID, Handler)
}

// Cluster is the replicas of a set of partitions over a set of brokers, in one
// process: it opens each broker's replicas, applies the controller's decisions to
// them, runs each follower's fetch loop and each leader's ISR checks, and reacts to
// brokers that stop, start or whose disk fails. See the package documentation.
//
// Lock order: lifeMu, then applyMu, then Cluster.mu, then a Partition's mu, then a
// Replica's locks.
type Cluster struct {
	opts   ClusterOptions
	env    *environment
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// lifeMu serializes the changes of a broker's life (StartBroker, StopBroker,
	// the handling of a disk failure, the check of a joining follower's broker
	// epoch), CreatePartitions, DeletePartitions, the placing of replicas (place)
	// and the start of Close: one incarnation's failure is never applied to the
	// next, a partition created while a broker starts has its replica opened
	// there, one deleted meanwhile none left open, a replica is never opened on a
	// broker stopping, and nothing is opened once Close has begun.
	lifeMu sync.Mutex
	// applyMu serializes the application of controller decisions, so that replicas
	// see the states of a partition in order.
	applyMu sync.Mutex
	// placeMu serializes the opening and removal of replicas that a reassignment
	// asks for (place).
	placeMu sync.Mutex
	// commit holds, by partition, the greatest high watermark its leaders reached
	// since its last unclean election (committed, SetCommitted). Its mutex is a
	// leaf: replicas take it holding their own locks.
	commit struct {
		sync.Mutex
		hw map[string]int64
	}
	mu struct {
		sync.Mutex
		online map[BrokerID]bool
		failed map[BrokerID]bool // offline after a disk failure, replicas still open
		// brokerEpochs numbers the starts of each broker (Kafka's broker epoch): a
		// fetch carries its replica's, so that what a former incarnation said of
		// its log, before a power loss took part of it, is not taken as true.
		brokerEpochs map[BrokerID]int64
		// pendingFailures are failed brokers the controller was not told of yet.
		pendingFailures []BrokerID
		// applied is closed and replaced whenever a state is applied (AwaitInSync).
		applied chan struct{}
		// pendingRebuilds are replicas reported corrupt, not rebuilt yet.
		pendingRebuilds []pendingRebuild
		partitions      map[string]*Partition
		closed          bool
	}
}

// Partition is a replicated partition of a Cluster: its replicas on the online
// brokers that hold it, and the state the controller gave it.
type Partition struct {
	name string
	c    *Cluster
	mu   struct {
		sync.Mutex
		replicas map[BrokerID]*Replica
		state    State
	}
}

// NewCluster returns a Cluster with no broker online; StartBroker brings them up.
func NewCluster(opts ClusterOptions) (*Cluster, error) {
	if opts.OpenLog == nil {
		return nil, errorf("strata/replica: ClusterOptions.OpenLog is required: %w", ErrInvalidArgument)
	}
	if opts.Controller == nil {
		c, err := NewLocalController(nil)
		if err != nil {
			return nil, err
		}
		opts.Controller = c
	}
	if opts.Transport == nil {
		opts.Transport = NewNetwork(nil)
	}
	if opts.ReplicaLagTime <= 0 {
		opts.ReplicaLagTime = DefaultReplicaLagTime
	}
	if opts.FetchMaxBytes <= 0 {
		opts.FetchMaxBytes = DefaultFetchMaxBytes
	}
	if opts.FetchMaxWait <= 0 {
		opts.FetchMaxWait = DefaultFetchMaxWait
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	if opts.LeaderRebalanceInterval == 0 {
		opts.LeaderRebalanceInterval = DefaultLeaderRebalanceInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{opts: opts}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.mu.online = map[BrokerID]bool{}
	c.mu.failed = map[BrokerID]bool{}
	c.mu.applied = make(chan struct{})
	c.commit.hw = map[string]int64{}
	c.mu.brokerEpochs = map[BrokerID]int64{}
	c.mu.partitions = map[string]*Partition{}
	c.env = &environment{
		transport: opts.Transport, controller: opts.Controller, now: opts.Now, logger: opts.Logger,
		lagTime: opts.ReplicaLagTime, fetchBytes: opts.FetchMaxBytes,
		alterISR: c.alterISR, diskFailed: c.diskFailed, corrupt: c.ReportCorrupt, committed: c.committed,
		beforeTruncate: opts.BeforeTruncate,
	}
	for _, name := range opts.Controller.Partitions() {
		p := c.newPartition(name)
		if s, err := opts.Controller.State(name); err == nil {
			p.mu.state = s // what Partition.State shows until a change is applied
		}
		c.mu.partitions[name] = p
	}
	if !opts.Manual {
		c.wg.Add(1)
		go c.isrLoop()
		if opts.LeaderRebalanceInterval > 0 {
			c.wg.Add(1)
			go c.rebalanceLoop()
		}
	}
	return c, nil
}

func (c *Cluster) newPartition(name string) *Partition {
	p := &Partition{name: name, c: c}
	p.mu.replicas = map[BrokerID]*Replica{}
	p.mu.state.Leader = NoBroker
	return p
}

// Controller returns the cluster's controller.
func (c *Cluster) Controller() Controller { return c.opts.Controller }

// Online reports whether broker id is online.
func (c *Cluster) Online(id BrokerID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.online[id]
}

// StartBroker brings broker id online: see StartBrokers.
func (c *Cluster) StartBroker(id BrokerID) error { return c.StartBrokers(id) }

// StartBrokers brings brokers online: it opens each one's replica of every
// partition assigned to it, serves fetches for them, and tells the controller, all
// of them at once (so that a store opening does not take a broker out of an ISR for
// not being up yet), whose decisions (leaderships a broker may take back) are
// applied. A broker whose replicas cannot all be opened stays offline, with its
// replicas closed: StartBrokers returns the errors of those and starts the others.
func (c *Cluster) StartBrokers(ids ...BrokerID) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	var starting []BrokerID
	var failures []error
	for _, id := range ids {
		switch {
		case id < 0:
			failures = append(failures, errorf("strata/replica: broker id %d: %w", id, ErrInvalidArgument))
		case c.mu.online[id] || slices.Contains(starting, id):
		case c.mu.failed[id]:
			failures = append(failures, errorf("strata/replica: broker %d failed: stop it before starting it again: %w", id, ErrInvalidArgument))
		default:
			starting = append(starting, id)
		}
	}
	partitions := slices.Collect(maps.Values(c.mu.partitions))
	brokerEpochs := map[BrokerID]int64{}
	for _, id := range starting {
		c.mu.brokerEpochs[id]++
		brokerEpochs[id] = c.mu.brokerEpochs[id]
	}
	c.mu.Unlock()
	opened := map[BrokerID][]*Replica{}
	var started []BrokerID
	for _, id := range starting {
		rs, err := c.openReplicasOf(id, brokerEpochs[id], partitions)
		if err == nil {
			if err = c.leaveELR(id, rs); err != nil {
				err = errors.Join(err, c.dropReplicas(id, rs))
			}
		}
		if err != nil {
			failures = append(failures, errorf("strata/replica: starting broker %d: %w", id, err))
			continue
		}
		opened[id] = rs
		started = append(started, id)
	}
	if len(started) == 0 {
		return errors.Join(failures...)
	}
	for _, id := range started {
		if reg, ok := c.opts.Transport.(registry); ok {
			reg.Register(id, brokerHandler{c: c, id: id})
		}
	}
	c.mu.Lock()
	for _, id := range started {
		c.mu.online[id] = true
	}
	c.mu.Unlock()
	changed, err := c.opts.Controller.SetBrokersOnline(started, true)
	if err != nil {
		// The controller cannot record them: they stay offline.
		for _, id := range started {
			err = errors.Join(err, c.stopBroker(id))
		}
		return errors.Join(append(failures, err)...)
	}
	c.applyAll(changed)
	current := map[string]State{}
	for _, id := range started {
		for _, r := range opened[id] {
			if s, err := c.opts.Controller.State(r.name); err == nil {
				current[r.name] = s
			}
		}
	}
	c.applyAll(current) // to the partitions that had no state yet
	for _, id := range started {
		for _, r := range opened[id] {
			if s, ok := current[r.name]; ok {
				c.applyTo(r, s)
			}
			c.startFollower(r)
		}
	}
	return errors.Join(failures...)
}

// openWorkers is how many replicas a starting broker opens at once: each open
// reads a directory and a few headers, or recovers segments, waiting on the disk.
const openWorkers = 8

// openReplicasOf opens broker id's replica of each of partitions that it holds, in
// the broker's incarnation brokerEpoch, a few at a time. If one fails, it closes the
// others and returns the error.
func (c *Cluster) openReplicasOf(id BrokerID, brokerEpoch int64, partitions []*Partition) ([]*Replica, error) {
	var mu sync.Mutex
	var opened []*Replica
	var failures []error
	next := make(chan *Partition, len(partitions))
	for _, p := range partitions {
		next <- p
	}
	close(next)
	var wg sync.WaitGroup
	for range min(openWorkers, len(partitions)) {
		wg.Go(func() {
			for p := range next {
				s, err := c.opts.Controller.State(p.name)
				if err == nil && !s.Hosts(id) {
					continue
				}
				var r *Replica
				if err == nil {
					r, err = c.openReplica(p, id, brokerEpoch, s)
				}
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Errorf("%s: %w", p.name, err))
				} else {
					opened = append(opened, r)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failures != nil {
		// Closing the replicas opened marks their logs clean: what they may have
		// lost must reach the controller first.
		failures = append(failures, c.leaveELR(id, opened))
		return nil, errors.Join(append(failures, c.dropReplicas(id, opened))...)
	}
	return opened, nil
}

// dropReplicas takes broker id's replicas rs, just opened, out of their
// partitions and closes them.
func (c *Cluster) dropReplicas(id BrokerID, rs []*Replica) error {
	for _, r := range rs {
		if p := c.Partition(r.name); p != nil {
			p.mu.Lock()
			delete(p.mu.replicas, id)
			p.mu.Unlock()
		}
	}
	return c.closeReplicas(rs)
}

// leaveELR takes broker id out of the ELR of the partitions whose replica,
// just opened, may have lost committed records in an unclean shutdown.
func (c *Cluster) leaveELR(id BrokerID, opened []*Replica) error {
	lost := mayHaveLostCommitted(opened)
	if len(lost) == 0 {
		return nil
	}
	changed, err := c.opts.Controller.LeaveELR(id, lost)
	c.applyAll(changed)
	return err
}

// mayHaveLostCommitted returns the partitions of the replicas whose log, after an
// unclean shutdown, may lack records it acknowledged: under SyncPeriodic and
// SyncNone a log acknowledges what it wrote to the OS, and a power loss takes what
// was not fsynced yet. Under SyncEveryAppend it acknowledged only what it fsynced.
func mayHaveLostCommitted(rs []*Replica) []string {
	var names []string
	for _, r := range rs {
		report := r.log.RecoveryReport()
		if !report.CleanShutdown && !report.Created && r.log.SyncPolicy().Mode != partition.SyncEveryAppend {
			names = append(names, r.name)
		}
	}
	return names
}

// openReplica opens broker id's replica of p, in the broker's incarnation
// brokerEpoch, and adds it to p.
func (c *Cluster) openReplica(p *Partition, id BrokerID, brokerEpoch int64, s State) (*Replica, error) {
	log, err := c.opts.OpenLog(id, p.name, len(s.Replicas) > 1)
	if err != nil {
		return nil, err
	}
	r := newReplica(p.name, id, log, c.env)
	r.brokerEpoch = brokerEpoch
	p.mu.Lock()
	open := p.mu.replicas[id]
	if open == nil {
		p.mu.replicas[id] = r
	}
	p.mu.Unlock()
	if open != nil {
		// Never two replicas of one broker on the same files: a caller that did
		// not serialize with the broker's life (lifeMu) is a bug.
		return nil, errors.Join(errorf("strata/replica: %s: broker %d already has its replica open (broker epoch %d): %w", p.name, id, open.brokerEpoch, ErrInvalidArgument), log.Close())
	}
	return r, nil
}

// startFollower starts the fetch loop of a replica of a partition with followers,
// once.
func (c *Cluster) startFollower(r *Replica) {
	if c.opts.Manual || !r.log.Replicated() || r.following.Swap(true) {
		return
	}
	c.wg.Add(1)
	go c.followLoop(r)
}

// StopBroker takes broker id offline, as a stopped broker or a crash: the controller
// moves its leaderships and drops it from every ISR, then its replicas are closed.
func (c *Cluster) StopBroker(id BrokerID) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	return c.stopBroker(id)
}

// stopBroker is StopBroker for a caller holding lifeMu.
func (c *Cluster) stopBroker(id BrokerID) error {
	c.mu.Lock()
	if !c.mu.online[id] && !c.mu.failed[id] {
		c.mu.Unlock()
		return nil
	}
	c.mu.online[id], c.mu.failed[id] = false, false
	partitions := slices.Collect(maps.Values(c.mu.partitions))
	c.mu.Unlock()
	if reg, ok := c.opts.Transport.(registry); ok {
		reg.Register(id, nil)
	}
	changed, err := c.opts.Controller.SetBrokersOnline([]BrokerID{id}, false)
	c.applyAll(changed)
	var closing []*Replica
	for _, p := range partitions {
		p.mu.Lock()
		if r := p.mu.replicas[id]; r != nil {
			closing = append(closing, r)
			delete(p.mu.replicas, id)
		}
		p.mu.Unlock()
	}
	return errors.Join(err, c.closeReplicas(closing))
}

// closeReplicas ends the replicas' roles and closes their logs.
func (c *Cluster) closeReplicas(rs []*Replica) error {
	var err error
	for _, r := range rs {
		r.close()
		err = errors.Join(err, r.log.Close())
	}
	return err
}

// diskFailed takes the broker of r, whose log failed a write, out of every ISR and
// every leadership; its replicas stay open, so that what they hold stays readable.
// A replica of a former incarnation of the broker (stopped since, and maybe started
// again) changes nothing. The caller holds r's locks, so the controller is told
// apart: by a goroutine, or in Manual mode by the caller's next handleDiskFailures.
func (c *Cluster) diskFailed(r *Replica, failure error) {
	id := r.broker
	c.mu.Lock()
	p := c.mu.partitions[r.name]
	if c.mu.closed || !c.mu.online[id] || p == nil || p.Replica(id) != r {
		c.mu.Unlock()
		return
	}
	c.mu.online[id] = false
	c.mu.failed[id] = true
	c.mu.pendingFailures = append(c.mu.pendingFailures, id)
	if !c.opts.Manual {
		c.wg.Add(1) // under mu, before Close can wait
	}
	c.mu.Unlock()
	c.opts.Logger.Error("broker disk failed: the broker goes offline", "broker", id, "err", failure)
	if c.opts.Manual {
		return
	}
	go func() {
		defer c.wg.Done()
		c.handleDiskFailures()
	}()
}

// handleDiskFailures tells the controller of the brokers whose disk failed, unless
// they were stopped since.
func (c *Cluster) handleDiskFailures() {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	c.mu.Lock()
	var ids []BrokerID
	for _, id := range c.mu.pendingFailures {
		if c.mu.failed[id] && !c.mu.closed {
			ids = append(ids, id)
		}
	}
	c.mu.pendingFailures = nil
	c.mu.Unlock()
	for _, id := range ids {
		if reg, ok := c.opts.Transport.(registry); ok {
			reg.Register(id, nil)
		}
		changed, err := c.opts.Controller.SetBrokersOnline([]BrokerID{id}, false)
		if err != nil {
			c.opts.Logger.Error("cannot record a failed broker offline", "broker", id, "err", err)
		}
		c.applyAll(changed)
	}
}

// Failed reports whether broker id went offline because its disk failed (until
// StopBroker).
func (c *Cluster) Failed(id BrokerID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.failed[id]
}

// CreatePartition creates one partition: see CreatePartitions.
func (c *Cluster) CreatePartition(name string, replicas []BrokerID, cfg Config) (*Partition, error) {
	created, err := c.CreatePartitions([]PartitionSpec{{Name: name, Replicas: replicas, Config: cfg}})
	if err != nil {
		return nil, err
	}
	return created[0], nil
}

// CreatePartitions creates partitions with their replicas on the given brokers (the
// preferred leader first), in one change of the controller's state, and opens the
// replicas on the online brokers. If a replica cannot be opened, the partitions are
// deleted again and the error returned.
func (c *Cluster) CreatePartitions(specs []PartitionSpec) ([]*Partition, error) {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	for _, spec := range specs {
		if _, ok := c.mu.partitions[spec.Name]; ok {
			c.mu.Unlock()
			return nil, errorf("strata/replica: partition %s exists: %w", spec.Name, ErrInvalidArgument)
		}
	}
	online, brokerEpochs := maps.Clone(c.mu.online), maps.Clone(c.mu.brokerEpochs)
	c.mu.Unlock()
	states, err := c.opts.Controller.Create(specs)
	if err != nil {
		return nil, err
	}
	created := make([]*Partition, len(specs))
	var opened []*Replica
	for i, spec := range specs {
		p := c.newPartition(spec.Name)
		s := states[spec.Name]
		for _, b := range s.Replicas {
			if !online[b] {
				continue
			}
			r, err := c.openReplica(p, b, brokerEpochs[b], s)
			if err != nil {
				names := make([]string, len(specs))
				for i, spec := range specs {
					names[i] = spec.Name
				}
				return nil, errors.Join(err, c.closeReplicas(opened), c.opts.Controller.Delete(names))
			}
			opened = append(opened, r)
		}
		created[i] = p
	}
	c.mu.Lock()
	for _, p := range created {
		c.mu.partitions[p.name] = p
	}
	c.mu.Unlock()
	c.applyAll(states)
	for _, r := range opened {
		c.startFollower(r)
	}
	return created, nil
}

// DeletePartitions forgets partitions, in one change of the controller's state,
// and closes their replicas; the caller removes their directories.
func (c *Cluster) DeletePartitions(names []string) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if err := c.opts.Controller.Delete(names); err != nil {
		return err
	}
	var closing []*Replica
	c.mu.Lock()
	for _, name := range names {
		if p := c.mu.partitions[name]; p != nil {
			delete(c.mu.partitions, name)
			p.mu.Lock()
			closing = append(closing, slices.Collect(maps.Values(p.mu.replicas))...)
			p.mu.replicas = map[BrokerID]*Replica{}
			p.mu.Unlock()
		}
	}
	c.mu.Unlock()
	return c.closeReplicas(closing)
}

// Partition returns the named partition, or nil.
func (c *Cluster) Partition(name string) *Partition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.partitions[name]
}

// ElectPreferred moves the leadership of the named partitions (all if none) to
// their preferred replicas where those are online and in sync (Kafka's preferred
// leader election), and returns how many moved.
func (c *Cluster) ElectPreferred(names ...string) (int, error) {
	changed, err := c.opts.Controller.ElectPreferred(names)
	c.applyAll(changed)
	return len(changed), err
}

// SetConfig changes a partition's replication configuration (Controller.SetConfig)
// and applies the resulting state: the leader checks acks=all against the new
// MinInsyncReplicas, and an unclean election newly allowed gives the partition a
// leader.
func (c *Cluster) SetConfig(name string, cfg Config) (State, error) {
	s, err := c.opts.Controller.SetConfig(name, cfg)
	if err != nil {
		return s, err
	}
	c.applyAll(map[string]State{name: s})
	return s, nil
}

// alterISR asks the controller for an ISR change and applies the answer: the new
// state, or, if the request was made against an older one, the current one, so that
// a leader behind the controller catches up. joining, if not NoBroker, is the
// follower the change adds, in its broker's incarnation joiningEpoch: a former
// incarnation is refused (ErrStaleBrokerEpoch, KIP-903).
func (c *Cluster) alterISR(name string, leaderEpoch, partitionEpoch int32, isr []BrokerID, joining BrokerID, joiningEpoch int64) error {
	s, err := c.askAlterISR(name, leaderEpoch, partitionEpoch, isr, joining, joiningEpoch)
	if err == nil || errors.Is(err, ErrStaleState) || errors.Is(err, ErrFencedLeaderEpoch) {
		if s.Replicas != nil {
			c.applyAll(map[string]State{name: s})
			c.place(name) // a reassignment may have completed
		}
	}
	return err
}

// askAlterISR is alterISR's request to the controller, after the check of a
// joining follower's broker epoch.
func (c *Cluster) askAlterISR(name string, leaderEpoch, partitionEpoch int32, isr []BrokerID, joining BrokerID, joiningEpoch int64) (State, error) {
	if joining != NoBroker {
		// The broker must not start again between the check and the change.
		c.lifeMu.Lock()
		defer c.lifeMu.Unlock()
		c.mu.Lock()
		current, online := c.mu.brokerEpochs[joining], c.mu.online[joining]
		c.mu.Unlock()
		if !online || current != joiningEpoch {
			return State{}, errorf("strata/replica: %s: broker %d joins the ISR at broker epoch %d, it is at %d (online: %v): %w", name, joining, joiningEpoch, current, online, ErrStaleBrokerEpoch)
		}
	}
	return c.opts.Controller.AlterISR(name, leaderEpoch, partitionEpoch, isr)
}

// Reassign moves a partition's replicas to target (see Controller.Reassign): the
// new replicas open on their online brokers and copy the leader; once all of them
// are in sync the old ones close and their files go (ClusterOptions.RemoveLog).
func (c *Cluster) Reassign(name string, target []BrokerID) (State, error) {
	s, err := c.opts.Controller.Reassign(name, target)
	if err != nil {
		return s, err
	}
	c.applyAll(map[string]State{name: s})
	c.place(name)
	return s, nil
}

// place opens the replicas a partition's state gives to online brokers that hold
// none, closes and removes those it no longer gives, and tells each replica whether
// it has others (partition.SetReplicated).
func (c *Cluster) place(name string) {
	// Under lifeMu, so that the brokers seen online stay online until their
	// replicas are placed: a StopBroker in between would close the broker's
	// replicas before place opens one of them, left open on a stopped broker
	// (and a second one opened by the next StartBroker on the same files).
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	p := c.Partition(name)
	if p == nil {
		return
	}
	c.placeMu.Lock()
	defer c.placeMu.Unlock()
	s := p.State()
	c.mu.Lock()
	online, brokerEpochs := maps.Clone(c.mu.online), maps.Clone(c.mu.brokerEpochs)
	closed := c.mu.closed
	c.mu.Unlock()
	if closed {
		return
	}
	for _, r := range p.Replicas() {
		if !r.log.Replicated() && r.IsLeader() {
			// The high watermark of a leader alone moved with its own acknowledgements:
			// record it before others count toward it.
			c.committed(name, r.log.HighWatermark(), false)
		}
		r.log.SetReplicated(len(s.Replicas) > 1)
	}
	for _, b := range s.Replicas {
		if !online[b] || p.Replica(b) != nil {
			continue
		}
		r, err := c.openReplica(p, b, brokerEpochs[b], s)
		if err != nil {
			c.opts.Logger.Error("cannot open a replica a reassignment added", "partition", name, "broker", b, "err", err)
			continue
		}
		c.applyTo(r, p.State())
	}
	for b, r := range p.Replicas() {
		if s.Hosts(b) {
			c.startFollower(r)
			continue
		}
		p.mu.Lock()
		delete(p.mu.replicas, b)
		p.mu.Unlock()
		r.close()
		err := r.log.Close()
		if c.opts.RemoveLog != nil {
			err = errors.Join(err, c.opts.RemoveLog(b, name))
		}
		if err != nil {
			c.opts.Logger.Error("removing a replica a reassignment took away", "partition", name, "broker", b, "err", err)
		}
	}
}

// ReplicaLost records that broker's replica of a partition lost its records (see
// Controller.ReplicaLost) and applies the new state. A store calls it when it finds
// a replica's directory missing, before the replica is opened, empty.
func (c *Cluster) ReplicaLost(name string, broker BrokerID) error {
	s, err := c.opts.Controller.ReplicaLost(name, broker)
	if err != nil {
		return err
	}
	c.applyAll(map[string]State{name: s})
	return nil
}

// applyAll applies changed states to the replicas of their partitions.
func (c *Cluster) applyAll(changed map[string]State) {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	for name, s := range changed {
		p := c.Partition(name)
		if p == nil {
			continue
		}
		p.mu.Lock()
		if p.mu.state.Replicas != nil && s.PartitionEpoch <= p.mu.state.PartitionEpoch {
			p.mu.Unlock()
			continue
		}
		p.mu.state = s.Clone()
		replicas := slices.Collect(maps.Values(p.mu.replicas))
		p.mu.Unlock()
		if s.Leader != NoBroker {
			c.opts.Logger.Debug("partition state", "partition", name, "state", s.String())
		}
		for _, r := range replicas {
			c.applyTo(r, s)
		}
	}
	if len(changed) > 0 {
		c.mu.Lock()
		close(c.mu.applied)
		c.mu.applied = make(chan struct{})
		c.mu.Unlock()
	}
}

// AwaitInSync waits until every replica on an online broker is in its partition's
// ISR (followers that were behind caught up), or ctx ends (its error is
// returned): what a test, or an operator replacing a disk, waits for.
func (c *Cluster) AwaitInSync(ctx context.Context) error {
	for {
		c.mu.Lock()
		applied, closed := c.mu.applied, c.mu.closed
		online := maps.Clone(c.mu.online)
		partitions := slices.Collect(maps.Values(c.mu.partitions))
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}
		behind := false
		for _, p := range partitions {
			s := p.State()
			for _, b := range s.Replicas {
				if online[b] && !s.InSync(b) {
					behind = true
				}
			}
		}
		if !behind {
			return nil
		}
		select {
		case <-applied:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// applyTo applies s to one replica, logging a failure (a replica that cannot take
// its leader epoch has a failed log: its broker goes offline).
func (c *Cluster) applyTo(r *Replica, s State) {
	if err := r.apply(s); err != nil && !errors.Is(err, ErrClosed) {
		c.opts.Logger.Error("replica cannot apply its partition state", "partition", r.name, "broker", r.broker, "err", err)
		r.checkDisk(err)
	}
}

// Close stops every goroutine and closes every replica's log.
func (c *Cluster) Close() error {
	c.lifeMu.Lock() // not across the wait: the goroutines may take it
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		c.lifeMu.Unlock()
		return nil
	}
	c.mu.closed = true
	partitions := slices.Collect(maps.Values(c.mu.partitions))
	c.mu.Unlock()
	c.lifeMu.Unlock()
	c.cancel()
	var all []*Replica
	for _, p := range partitions {
		p.mu.Lock()
		all = append(all, slices.Collect(maps.Values(p.mu.replicas))...)
		p.mu.replicas = map[BrokerID]*Replica{}
		p.mu.Unlock()
	}
	for _, r := range all {
		r.close()
	}
	c.wg.Wait()
	var err error
	for _, r := range all {
		err = errors.Join(err, r.log.Close())
	}
	return err
}

// brokerHandler serves the fetches sent to one broker.
type brokerHandler struct {
	c  *Cluster
	id BrokerID
}

// HandleFetch implements Handler.
func (h brokerHandler) HandleFetch(ctx context.Context, req *FetchRequest) (*FetchResponse, error) {
	p := h.c.Partition(req.Partition)
	if p == nil {
		return nil, errorf("strata/replica: %s: %w", req.Partition, ErrUnknownPartition)
	}
	r := p.Replica(h.id)
	if r == nil {
		return nil, errorf("strata/replica: %s has no replica on broker %d: %w", req.Partition, h.id, ErrNotLeader)
	}
	return r.HandleFetch(ctx, req)
}

// Settle waits until the high watermark of every partition that has a leader
// covers what the leader held when Settle was called, unless its ISR is below
// MinInsyncReplicas (then it cannot move), or ctx ends (its error is returned). A
// store calls it after opening its brokers, so that records acknowledged before a
// crash are readable when Open returns.
func (c *Cluster) Settle(ctx context.Context) error {
	c.mu.Lock()
	partitions := slices.Collect(maps.Values(c.mu.partitions))
	c.mu.Unlock()
	for _, p := range partitions {
		r, err := p.Leader()
		if err != nil {
			continue
		}
		if err := r.settle(ctx, r.log.WrittenOffset()); err != nil {
			return err
		}
	}
	return nil
}

// committed records hw as reached by a leader of the partition and returns the
// greatest recorded; reset replaces what was recorded (an unclean election began
// another history).
func (c *Cluster) committed(name string, hw int64, reset bool) int64 {
	c.commit.Lock()
	defer c.commit.Unlock()
	if reset || hw > c.commit.hw[name] {
		c.commit.hw[name] = hw
	}
	return c.commit.hw[name]
}

// SetCommitted tells the Cluster a high watermark a partition's leaders reached
// before (a store's Open, from what it recorded): its next clean leader starts
// there. Call it before StartBrokers.
func (c *Cluster) SetCommitted(name string, hw int64) { c.committed(name, hw, false) }

// Committed returns the greatest high watermark the partition's leaders reached
// that the Cluster knows of.
func (c *Cluster) Committed(name string) int64 { return c.committed(name, 0, false) }

// StateApplied returns a channel closed when the Cluster next applies a state
// change (a leader elected, an ISR changed): what a producer retrying after
// ErrNotLeader or ErrNoLeader waits for.
func (c *Cluster) StateApplied() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.applied
}

// Closed reports whether Close has begun.
func (c *Cluster) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.closed
}
