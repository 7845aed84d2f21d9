package replica

import (
	"context"
	"maps"
	"slices"

	"github.com/stratalog/strata/partition"
)

// Name returns the partition's name.
func (p *Partition) Name() string { return p.name }

// State returns the partition's state as last applied.
func (p *Partition) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.state.Clone()
}

// Replica returns the partition's replica on broker id, or nil if that broker is
// offline or holds none.
func (p *Partition) Replica(id BrokerID) *Replica {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.replicas[id]
}

// Replicas returns the open replicas, by broker.
func (p *Partition) Replicas() map[BrokerID]*Replica {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.mu.replicas)
}

// Leader returns the leader's replica: ErrNoLeader if the partition has none.
func (p *Partition) Leader() (*Replica, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.mu.state
	if s.Leader == NoBroker {
		return nil, errorf("strata/replica: %s (replicas %s, ISR %s, ELR %s): %w", p.name, FormatBrokers(s.Replicas), FormatBrokers(s.ISR), FormatBrokers(s.ELR), ErrNoLeader)
	}
	r := p.mu.replicas[s.Leader]
	if r == nil {
		return nil, errorf("strata/replica: %s: leader %d not open: %w", p.name, s.Leader, ErrNoLeader)
	}
	return r, nil
}

// Produce appends records through the leader: see Replica.Produce.
func (p *Partition) Produce(ctx context.Context, records []partition.Record, acks Acks) (int64, error) {
	r, err := p.Leader()
	if err != nil {
		return 0, err
	}
	return r.Produce(ctx, records, acks)
}

// ProduceWith appends records with a producer's identity through the leader: see
// Replica.ProduceWith.
func (p *Partition) ProduceWith(ctx context.Context, records []partition.Record, acks Acks, producer *partition.Producer) (int64, error) {
	r, err := p.Leader()
	if err != nil {
		return 0, err
	}
	return r.ProduceWith(ctx, records, acks, producer)
}

// HighWatermark returns the leader's high watermark.
func (p *Partition) HighWatermark() (int64, error) {
	r, err := p.Leader()
	if err != nil {
		return 0, err
	}
	return r.log.HighWatermark(), nil
}

// UnderReplicated reports whether the ISR is smaller than the replicas.
func (p *Partition) UnderReplicated() bool {
	s := p.State()
	return len(s.ISR) < len(s.Replicas)
}

// sortedReplicas returns the open replicas in broker order.
func (p *Partition) sortedReplicas() []*Replica {
	rs := slices.Collect(maps.Values(p.Replicas()))
	slices.SortFunc(rs, func(a, b *Replica) int { return int(a.broker) - int(b.broker) })
	return rs
}
