package replica

import (
	"maps"
	"slices"
	"sort"
	"sync"
)

// Controller decides, for every partition, its replicas, leader, leader epoch and
// ISR, and keeps that state durable: Kafka's controller, reduced to what one process
// needs. strata has one implementation, LocalController; the interface is the seam
// where an existing consensus engine could take its place.
//
// Every method returns the states it changed, for the caller (the Cluster) to apply
// to the replicas. Implementations must be safe for concurrent use.
type Controller interface {
	// Create registers partitions with their replicas (preferred leader first) and
	// elects a leader among the online ones of each, all in one change: all or
	// nothing. A partition that exists, or named twice, is ErrInvalidArgument.
	Create(specs []PartitionSpec) (map[string]State, error)
	// Delete forgets partitions, all in one change.
	Delete(names []string) error
	// State returns a partition's state (ErrUnknownPartition if there is none).
	State(name string) (State, error)
	// Partitions returns the names of every partition, sorted.
	Partitions() []string
	// AlterISR is a leader's request to change its partition's ISR (Kafka's
	// AlterPartition): refused with ErrFencedLeaderEpoch when leaderEpoch is not the
	// partition's, and ErrStaleState when partitionEpoch is not. The ISR must hold
	// the leader and only assigned replicas.
	AlterISR(name string, leaderEpoch, partitionEpoch int32, isr []BrokerID) (State, error)
	// SetBrokersOnline records whether brokers are online: an offline one leaves
	// every ISR at once and its leaderships move; an online one may take a
	// leaderless partition. Brokers that start together (a store opening) are
	// recorded together, so that none is taken out of an ISR for not being up yet.
	// It returns the states that changed.
	SetBrokersOnline(ids []BrokerID, online bool) (map[string]State, error)
	// LeaveELR takes broker id out of the ELR of the named partitions: its
	// replicas of them restarted after an unclean shutdown that may have lost
	// committed records (they acknowledge before fsyncing), so they may lead only
	// once back in the ISR, while another replica may still come back holding every
	// committed record (KIP-966: a broker registering after an unclean shutdown
	// leaves every ELR). The last member of an empty ISR and the ELR stays: no
	// replica is known to hold more, and it is KIP-966's last known leader. Call it
	// before SetBrokersOnline, so that no election takes them meanwhile. It returns
	// the states that changed.
	LeaveELR(id BrokerID, names []string) (map[string]State, error)
	// ElectPreferred moves the leadership of each named partition (every partition
	// if names is empty) to its preferred replica where that replica is online and
	// in sync. It returns the states that changed.
	ElectPreferred(names []string) (map[string]State, error)
	// SetConfig changes a partition's replication configuration and re-elects if
	// that allows a leader (an unclean election newly enabled). A MinInsyncReplicas
	// that the ISR now reaches empties the ELR (the high watermark can advance
	// without its members from then on).
	SetConfig(name string, cfg Config) (State, error)
	// Reassign moves a partition's replicas to target (Kafka's
	// kafka-reassign-partitions, KIP-455): the new replicas join and copy the
	// leader; once every target replica is in sync, the others leave (and the
	// leadership, if it was theirs). A target of unknown or repeated brokers is
	// ErrInvalidArgument.
	Reassign(name string, target []BrokerID) (State, error)
	// ReplicaLost records that broker's replica of a partition lost its records
	// (its directory is gone): it leaves the ISR and the ELR, without becoming
	// eligible, and gives up the leadership, so that it never leads before it
	// caught up again.
	ReplicaLost(name string, broker BrokerID) (State, error)
}

// Storage keeps the controller's state durable: one opaque document, replaced
// whole.
type Storage interface {
	// Load returns the last document saved, or nil if none was.
	Load() ([]byte, error)
	// Save replaces the document, durably, before it returns.
	Save(doc []byte) error
}

// MemoryStorage is a Storage in memory, for tests and for stores that keep nothing.
type MemoryStorage struct {
	mu  sync.Mutex
	doc []byte
}

// Load implements Storage.
func (m *MemoryStorage) Load() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.doc), nil
}

// Save implements Storage.
func (m *MemoryStorage) Save(doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.doc = slices.Clone(doc)
	return nil
}

// LocalController is the in-process Controller. Its state lives in memory and, at
// every change before the change is returned, in its Storage.
type LocalController struct {
	storage Storage
	mu      struct {
		sync.Mutex
		partitions map[string]State
		online     map[BrokerID]bool
		sequence   int64 // saves tried so far, failed ones included: the newest document wins (DirStorage)
	}
}

// NewLocalController returns a controller whose state is loaded from storage (nil:
// a MemoryStorage). Every broker starts offline: the Cluster says which are online.
func NewLocalController(storage Storage) (*LocalController, error) {
	if storage == nil {
		storage = &MemoryStorage{}
	}
	c := &LocalController{storage: storage}
	c.mu.partitions = map[string]State{}
	c.mu.online = map[BrokerID]bool{}
	doc, err := storage.Load()
	if err != nil {
		return nil, err
	}
	if doc != nil {
		sequence, partitions, err := decodeControllerState("controller state", doc)
		if err != nil {
			return nil, err
		}
		c.mu.partitions, c.mu.sequence = partitions, sequence
	}
	return c, nil
}

func (c *LocalController) onlineLocked(b BrokerID) bool { return c.mu.online[b] }

// saveLocked makes changed durable and current. Nothing changes if the save fails.
func (c *LocalController) saveLocked(changed map[string]State, deleted []string) error {
	next := maps.Clone(c.mu.partitions)
	maps.Copy(next, changed)
	for _, name := range deleted {
		delete(next, name)
	}
	doc, err := encodeControllerState(c.mu.sequence+1, next)
	if err != nil {
		return err
	}
	// A failed save uses up its sequence too: a copy it left in some directory
	// (DirStorage) must lose to the next save's, which starts from the old state.
	c.mu.sequence++
	if err := c.storage.Save(doc); err != nil {
		return errorf("strata/replica: saving the controller state: %w", err)
	}
	c.mu.partitions = next
	return nil
}

// PartitionSpec describes a partition to create.
type PartitionSpec struct {
	Name     string
	Replicas []BrokerID // the preferred leader first
	Config   Config
}

// Create implements Controller.
func (c *LocalController) Create(specs []PartitionSpec) (map[string]State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	created := make(map[string]State, len(specs))
	for _, spec := range specs {
		if err := validateReplicas(spec.Replicas); err != nil {
			return nil, errorf("strata/replica: partition %s: %w", spec.Name, err)
		}
		cfg := spec.Config.withDefaults()
		if cfg.MinInsyncReplicas < 1 {
			return nil, errorf("strata/replica: partition %s: min.insync.replicas %d: %w", spec.Name, cfg.MinInsyncReplicas, ErrInvalidArgument)
		}
		_, exists := c.mu.partitions[spec.Name]
		if _, twice := created[spec.Name]; exists || twice || spec.Name == "" {
			return nil, errorf("strata/replica: partition %q exists, is named twice, or has no name: %w", spec.Name, ErrInvalidArgument)
		}
		// A new partition's replicas are all empty, so all in sync; the offline ones
		// leave at once. Its first leader has epoch 0, as in Kafka.
		s := State{Replicas: slices.Clone(spec.Replicas), Leader: NoBroker, LeaderEpoch: -1, ISR: slices.Clone(spec.Replicas), Config: cfg}
		s, _ = reconcile(s, c.onlineLocked)
		s.LeaderEpoch = max(s.LeaderEpoch, 0)
		s.PartitionEpoch = 0
		created[spec.Name] = s
	}
	if err := c.saveLocked(created, nil); err != nil {
		return nil, err
	}
	return cloneStates(created), nil
}

// Delete implements Controller.
func (c *LocalController) Delete(names []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range names {
		if _, ok := c.mu.partitions[name]; !ok {
			return errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
		}
	}
	return c.saveLocked(nil, names)
}

// State implements Controller.
func (c *LocalController) State(name string) (State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.mu.partitions[name]
	if !ok {
		return State{}, errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
	}
	return s.Clone(), nil
}

// Partitions implements Controller.
func (c *LocalController) Partitions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := slices.Collect(maps.Keys(c.mu.partitions))
	sort.Strings(names)
	return names
}

// AlterISR implements Controller.
func (c *LocalController) AlterISR(name string, leaderEpoch, partitionEpoch int32, isr []BrokerID) (State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.mu.partitions[name]
	switch {
	case !ok:
		return State{}, errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
	case leaderEpoch != s.LeaderEpoch:
		return s.Clone(), errorf("strata/replica: %s: ISR change at leader epoch %d, the partition is at %d: %w", name, leaderEpoch, s.LeaderEpoch, ErrFencedLeaderEpoch)
	case partitionEpoch != s.PartitionEpoch:
		return s.Clone(), errorf("strata/replica: %s: ISR change at partition epoch %d, the partition is at %d: %w", name, partitionEpoch, s.PartitionEpoch, ErrStaleState)
	case !slices.Contains(isr, s.Leader):
		return s.Clone(), errorf("strata/replica: %s: ISR %v without its leader %d: %w", name, isr, s.Leader, ErrInvalidArgument)
	}
	for i, b := range isr {
		if !s.Hosts(b) || slices.Contains(isr[:i], b) {
			return s.Clone(), errorf("strata/replica: %s: ISR %v: broker %d is not an assigned replica, or twice: %w", name, isr, b, ErrInvalidArgument)
		}
		if !c.onlineLocked(b) && !s.InSync(b) {
			return s.Clone(), errorf("strata/replica: %s: ISR %v: broker %d is offline: %w", name, isr, b, ErrBrokerOffline)
		}
	}
	next, changed := bump(s, completeReassignment(withISR(s, sortedLike(s.Replicas, isr))))
	if !changed {
		return s.Clone(), nil
	}
	if err := c.saveLocked(map[string]State{name: next}, nil); err != nil {
		return s.Clone(), err
	}
	return next.Clone(), nil
}

// sortedLike returns the members of set in the order of order.
func sortedLike(order, set []BrokerID) []BrokerID {
	out := make([]BrokerID, 0, len(set))
	for _, b := range order {
		if slices.Contains(set, b) {
			out = append(out, b)
		}
	}
	return out
}

// SetBrokersOnline implements Controller.
func (c *LocalController) SetBrokersOnline(ids []BrokerID, online bool) (map[string]State, error) {
	for _, id := range ids {
		if id < 0 {
			return nil, errorf("strata/replica: broker id %d: %w", id, ErrInvalidArgument)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	was := maps.Clone(c.mu.online)
	for _, id := range ids {
		c.mu.online[id] = online
	}
	changed := map[string]State{}
	for name, s := range c.mu.partitions {
		if !slices.ContainsFunc(ids, s.Hosts) {
			continue
		}
		if next, ok := reconcile(s, c.onlineLocked); ok {
			changed[name] = next
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := c.saveLocked(changed, nil); err != nil {
		c.mu.online = was
		return nil, err
	}
	return cloneStates(changed), nil
}

// LeaveELR implements Controller.
func (c *LocalController) LeaveELR(id BrokerID, names []string) (map[string]State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := map[string]State{}
	for _, name := range names {
		s, ok := c.mu.partitions[name]
		if !ok {
			return nil, errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
		}
		if !slices.Contains(s.ELR, id) || (len(s.ISR) == 0 && len(s.ELR) == 1) {
			continue
		}
		next := s.Clone()
		next.ELR = slices.DeleteFunc(next.ELR, func(b BrokerID) bool { return b == id })
		changed[name], _ = bump(s, next)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := c.saveLocked(changed, nil); err != nil {
		return nil, err
	}
	return cloneStates(changed), nil
}

// ElectPreferred implements Controller.
func (c *LocalController) ElectPreferred(names []string) (map[string]State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(names) == 0 {
		names = slices.Collect(maps.Keys(c.mu.partitions))
	}
	changed := map[string]State{}
	for _, name := range names {
		s, ok := c.mu.partitions[name]
		if !ok {
			return nil, errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
		}
		if next, ok := electPreferred(s, c.onlineLocked); ok {
			changed[name] = next
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := c.saveLocked(changed, nil); err != nil {
		return nil, err
	}
	return cloneStates(changed), nil
}

// SetConfig implements Controller.
func (c *LocalController) SetConfig(name string, cfg Config) (State, error) {
	cfg = cfg.withDefaults()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.mu.partitions[name]
	if !ok {
		return State{}, errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
	}
	if cfg.MinInsyncReplicas < 1 {
		return s.Clone(), errorf("strata/replica: min.insync.replicas %d: %w", cfg.MinInsyncReplicas, ErrInvalidArgument)
	}
	next := s.Clone()
	next.Config = cfg
	// The ELR holds every committed record only while the ISR is below
	// MinInsyncReplicas (the high watermark cannot advance then): a lower minimum
	// that the ISR reaches empties it, as an ISR growing back does.
	next = withISR(next, next.ISR)
	next, _ = reconcile(next, c.onlineLocked)
	next.PartitionEpoch = s.PartitionEpoch + 1
	if err := c.saveLocked(map[string]State{name: next}, nil); err != nil {
		return s.Clone(), err
	}
	return next.Clone(), nil
}

// Reassign implements Controller.
func (c *LocalController) Reassign(name string, target []BrokerID) (State, error) {
	if err := validateReplicas(target); err != nil {
		return State{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.mu.partitions[name]
	if !ok {
		return State{}, errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
	}
	if len(target) < s.Config.MinInsyncReplicas {
		return s.Clone(), errorf("strata/replica: %s: %d replicas, below min.insync.replicas %d: %w", name, len(target), s.Config.MinInsyncReplicas, ErrInvalidArgument)
	}
	next, changed := bump(s, reassigned(s, target))
	if !changed {
		return s.Clone(), nil
	}
	if err := c.saveLocked(map[string]State{name: next}, nil); err != nil {
		return s.Clone(), err
	}
	return next.Clone(), nil
}

// ReplicaLost implements Controller.
func (c *LocalController) ReplicaLost(name string, broker BrokerID) (State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.mu.partitions[name]
	if !ok {
		return State{}, errorf("strata/replica: %s: %w", name, ErrUnknownPartition)
	}
	next, changed := bump(s, withoutReplicaData(s, broker, c.onlineLocked))
	if !changed {
		return s.Clone(), nil
	}
	if err := c.saveLocked(map[string]State{name: next}, nil); err != nil {
		return s.Clone(), err
	}
	return next.Clone(), nil
}

func cloneStates(m map[string]State) map[string]State {
	out := make(map[string]State, len(m))
	for k, v := range m {
		out[k] = v.Clone()
	}
	return out
}
