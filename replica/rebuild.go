package replica

import (
	"errors"
	"slices"
)

// A replica whose records are found corrupt while it serves (a batch failing its
// CRC on the leader's disk, seen by a reader or by a follower copying it) is
// rebuilt from a replica that is in sync, beyond what Kafka does (it only fails
// the log directory): the damaged replica leaves the ISR and the ELR and gives up
// its leadership (Controller.ReplicaLost), closes, its files are set aside
// (ClusterOptions.SetAside: the owner keeps them for inspection), and it opens
// again, empty, and copies its leader. Readers meanwhile read another in-sync
// replica.

// RebuildReplica rebuilds broker's replica of a partition from its leader, as
// described above. It refuses (ErrInvalidArgument) when no other replica is in sync
// to copy from (the damaged copy is then the only one: it stays, and serves what it
// can), when the Cluster has no SetAside, and for a broker that holds no open
// replica of the partition.
func (c *Cluster) RebuildReplica(name string, broker BrokerID) error {
	if c.opts.SetAside == nil {
		return errorf("strata/replica: rebuild %s on broker %d: no ClusterOptions.SetAside: %w", name, broker, ErrInvalidArgument)
	}
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	p := c.Partition(name)
	if p == nil {
		return errorf("strata/replica: rebuild %s: %w", name, ErrUnknownPartition)
	}
	r := p.Replica(broker)
	if r == nil {
		return errorf("strata/replica: rebuild %s on broker %d: no open replica: %w", name, broker, ErrInvalidArgument)
	}
	s := p.State()
	if !slices.ContainsFunc(s.ISR, func(b BrokerID) bool { return b != broker }) {
		return errorf("strata/replica: rebuild %s on broker %d: no other replica in sync (ISR %s) to copy from: %w", name, broker, FormatBrokers(s.ISR), ErrInvalidArgument)
	}
	lost, err := c.opts.Controller.ReplicaLost(name, broker)
	if err != nil {
		return err
	}
	c.applyAll(map[string]State{name: lost})
	p.mu.Lock()
	if p.mu.replicas[broker] == r {
		delete(p.mu.replicas, broker)
	}
	p.mu.Unlock()
	r.close()
	closeErr := r.log.Close()
	if err := c.opts.SetAside(broker, name); err != nil {
		return errors.Join(errorf("strata/replica: rebuild %s on broker %d: setting the damaged files aside: %w", name, broker, err), closeErr)
	}
	c.mu.Lock()
	epoch := c.mu.brokerEpochs[broker]
	c.mu.Unlock()
	fresh, err := c.openReplica(p, broker, epoch, p.State())
	if err != nil {
		return errorf("strata/replica: rebuild %s on broker %d: %w", name, broker, err)
	}
	c.applyTo(fresh, p.State())
	c.startFollower(fresh)
	c.opts.Logger.Error("replica found corrupt: rebuilt from its leader", "partition", name, "broker", broker)
	return nil
}

// ReportCorrupt says that broker's replica of a partition was found corrupt while
// serving (a reader's CRC check failed on it): it is rebuilt (RebuildReplica) apart
// from the caller, which may hold the replica's locks: on a goroutine, or in Manual
// mode at the next handleCorruptions.
func (c *Cluster) ReportCorrupt(name string, broker BrokerID, damage error) {
	p := c.Partition(name)
	if p == nil {
		return
	}
	r := p.Replica(broker)
	if r == nil {
		return
	}
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	c.mu.pendingRebuilds = append(c.mu.pendingRebuilds, pendingRebuild{name: name, broker: broker, replica: r})
	c.mu.Unlock()
	c.opts.Logger.Error("replica found corrupt while serving", "partition", name, "broker", broker, "err", damage)
	if c.opts.Manual {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.handleCorruptions()
	}()
}

// pendingRebuild is a replica reported corrupt, not rebuilt yet.
type pendingRebuild struct {
	name    string
	broker  BrokerID
	replica *Replica
}

// handleCorruptions rebuilds the replicas reported corrupt that are still open.
func (c *Cluster) handleCorruptions() {
	c.mu.Lock()
	pending := c.mu.pendingRebuilds
	c.mu.pendingRebuilds = nil
	c.mu.Unlock()
	for _, pr := range pending {
		p := c.Partition(pr.name)
		if p == nil || p.Replica(pr.broker) != pr.replica {
			continue // already rebuilt, closed or reopened
		}
		if err := c.RebuildReplica(pr.name, pr.broker); err != nil {
			c.opts.Logger.Error("cannot rebuild a corrupt replica", "partition", pr.name, "broker", pr.broker, "err", err)
		}
	}
}
