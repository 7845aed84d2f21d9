package replica

import (
	"fmt"
	"slices"
	"time"
)

// BrokerID names a broker: one directory (in practice one disk) of a store, holding
// one replica of each partition assigned to it. Ids are small and never negative.
type BrokerID int32

// NoBroker is the leader of a partition that has none (Kafka's -1).
const NoBroker BrokerID = -1

// Defaults of Config and ClusterOptions fields left at zero.
const (
	DefaultReplicaLagTime = 30 * time.Second // Kafka's replica.lag.time.max.ms
	DefaultFetchMaxBytes  = 1 << 20          // Kafka's replica.fetch.max.bytes
	DefaultFetchMaxWait   = 500 * time.Millisecond
)

// Config is a partition's replication configuration (its topic's).
type Config struct {
	// MinInsyncReplicas is Kafka's min.insync.replicas: an acks=all produce needs
	// this many in-sync replicas, and the high watermark advances only while there
	// are at least this many (KIP-966). Default 1.
	MinInsyncReplicas int
	// UncleanLeaderElection is Kafka's unclean.leader.election.enable: when no
	// in-sync or eligible replica is online, elect any online replica, accepting the
	// loss of every record it lacks (acknowledged ones included). Default false:
	// the partition stays without a leader until one that holds everything comes
	// back.
	UncleanLeaderElection bool
}

func (c Config) withDefaults() Config {
	if c.MinInsyncReplicas == 0 {
		c.MinInsyncReplicas = 1
	}
	return c
}

// State is the controller's record of one partition: who holds it, who leads, who is
// in sync. Every change makes a new State with a greater PartitionEpoch; a change of
// leader also bumps LeaderEpoch.
type State struct {
	// Replicas are the brokers assigned a replica, the preferred leader first.
	Replicas []BrokerID
	// Leader is the broker whose replica takes produces and serves fetches, or
	// NoBroker.
	Leader BrokerID
	// LeaderEpoch numbers the leaderships of the partition; the leader stamps it in
	// every batch it writes.
	LeaderEpoch int32
	// ISR are the in-sync replicas, the leader included: every record below the
	// high watermark is durable on each of them.
	ISR []BrokerID
	// ELR are the eligible leader replicas (KIP-966): replicas that left the ISR
	// while it was below MinInsyncReplicas, when the high watermark could no longer
	// advance, and so still hold every committed record. A clean election takes
	// them after the ISR.
	ELR []BrokerID
	// Adding and Removing, during a reassignment (Reassign), are the replicas the
	// partition gains, which join Replicas at once and must catch up, and those it
	// gives up once every target replica is in sync (KIP-455).
	Adding, Removing []BrokerID
	// LeaderRecovering is set by an unclean election (Kafka's LeaderRecoveryState):
	// the leader may lack records the partition had committed, so its high
	// watermark starts from its own log, not from what earlier leaders committed.
	// The next change of leader clears it.
	LeaderRecovering bool
	// PartitionEpoch numbers the states of the partition.
	PartitionEpoch int32
	// Config is the partition's replication configuration.
	Config Config
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	s.Replicas = slices.Clone(s.Replicas)
	s.ISR = slices.Clone(s.ISR)
	s.ELR = slices.Clone(s.ELR)
	s.Adding = slices.Clone(s.Adding)
	s.Removing = slices.Clone(s.Removing)
	return s
}

// Target returns the replicas the partition is to have: Replicas without Removing.
func (s *State) Target() []BrokerID {
	return slices.DeleteFunc(slices.Clone(s.Replicas), func(b BrokerID) bool { return slices.Contains(s.Removing, b) })
}

// InSync reports whether b is in the ISR.
func (s *State) InSync(b BrokerID) bool { return slices.Contains(s.ISR, b) }

// Hosts reports whether b holds a replica.
func (s *State) Hosts(b BrokerID) bool { return slices.Contains(s.Replicas, b) }

// PreferredLeader returns the first assigned replica.
func (s *State) PreferredLeader() BrokerID {
	if len(s.Replicas) == 0 {
		return NoBroker
	}
	return s.Replicas[0]
}

// String formats s as Kafka's topic description does.
func (s State) String() string {
	return fmt.Sprintf("Leader: %d\tReplicas: %s\tIsr: %s\tElr: %s\tLeaderEpoch: %d", s.Leader, FormatBrokers(s.Replicas), FormatBrokers(s.ISR), FormatBrokers(s.ELR), s.LeaderEpoch)
}

// FormatBrokers formats ids as Kafka does: "1,2,0".
func FormatBrokers(ids []BrokerID) string {
	b := make([]byte, 0, 4*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", id)
	}
	return string(b)
}

// validateReplicas checks an assignment: non-empty, no duplicates, no negative id.
func validateReplicas(replicas []BrokerID) error {
	if len(replicas) == 0 {
		return errorf("strata/replica: no replicas: %w", ErrInvalidArgument)
	}
	for i, b := range replicas {
		if b < 0 {
			return errorf("strata/replica: broker id %d is negative: %w", b, ErrInvalidArgument)
		}
		if slices.Contains(replicas[:i], b) {
			return errorf("strata/replica: broker %d assigned twice: %w", b, ErrInvalidArgument)
		}
	}
	return nil
}
