package group

import (
	"maps"
	"slices"
	"time"
)

// GroupListing is one group in ListGroups.
type GroupListing struct {
	Group        string
	State        State
	ProtocolType string // "" for a group of consumers outside any group
}

// ListGroups returns every group the coordinator knows, with members or committed
// offsets, sorted by name.
func (c *Coordinator) ListGroups() ([]GroupListing, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return nil, ErrCoordinatorClosed
	}
	out := make([]GroupListing, 0, len(c.mu.groups))
	for _, id := range slices.Sorted(maps.Keys(c.mu.groups)) {
		g := c.mu.groups[id]
		out = append(out, GroupListing{Group: id, State: g.state, ProtocolType: g.protocolType})
	}
	return out, nil
}

// GroupDescription is a group's state, members and progress, as Kafka's
// kafka-consumer-groups --describe shows it.
type GroupDescription struct {
	Group        string
	State        State
	StateTime    time.Time // when the group entered State
	ProtocolType string
	Protocol     string // the assignor of the current generation
	Generation   int32
	Leader       string
	Members      []MemberDescription // sorted by member id
	// Partitions lists every partition with a committed offset or an owner, sorted.
	Partitions []PartitionLag
}

// MemberDescription is one member of a described group. Topics and Assignment are
// decoded from the consumer protocol; for other protocol types they are empty and
// Metadata and AssignmentBytes hold the raw bytes.
type MemberDescription struct {
	MemberID        string
	InstanceID      string
	ClientID        string
	Topics          []string
	Assignment      []TopicPartition
	Metadata        []byte
	AssignmentBytes []byte
}

// PartitionLag is one partition of a described group: who owns it, what was
// committed, where the partition ends, and the difference.
type PartitionLag struct {
	TopicPartition
	Owner      string // member id of the member assigned it; "" if none
	Committed  int64  // committed offset; -1 if none
	Metadata   string // the commit's metadata
	CommitTime time.Time
	EndOffset  int64 // the partition's end offset (high watermark); -1 if unknown
	Lag        int64 // EndOffset - Committed; -1 if either is unknown
}

// Describe returns a snapshot of the group. Errors: ErrGroupNotFound,
// ErrCoordinatorClosed.
func (c *Coordinator) Describe(group string) (GroupDescription, error) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return GroupDescription{}, ErrCoordinatorClosed
	}
	g := c.mu.groups[group]
	if g == nil {
		c.mu.Unlock()
		return GroupDescription{}, ErrGroupNotFound
	}
	d := GroupDescription{
		Group:        g.id,
		State:        g.state,
		StateTime:    g.stateTime,
		ProtocolType: g.protocolType,
		Protocol:     g.protocol,
		Generation:   g.generation,
		Leader:       g.leaderID,
	}
	for _, m := range g.sortedMembers() {
		d.Members = append(d.Members, MemberDescription{
			MemberID:        m.id,
			InstanceID:      m.instanceID,
			ClientID:        m.clientID,
			Metadata:        m.protocolMetadata(g.protocol),
			AssignmentBytes: m.assignment,
		})
	}
	c.mu.Unlock()

	// Decoding, the store and Metadata: outside the coordinator's lock.
	owners := make(map[TopicPartition]string)
	if d.ProtocolType == ProtocolTypeConsumer {
		for i := range d.Members {
			m := &d.Members[i]
			if s, err := DecodeSubscription(m.Metadata); err == nil {
				m.Topics = s.Topics
			}
			if a, err := DecodeAssignment(m.AssignmentBytes); err == nil {
				m.Assignment = a.Partitions
				for _, tp := range a.Partitions {
					owners[tp] = m.MemberID
				}
			}
		}
	}
	offsets := c.store.Offsets(group)
	partitions := make(map[TopicPartition]struct{}, len(offsets)+len(owners))
	for tp := range offsets {
		partitions[tp] = struct{}{}
	}
	for tp := range owners {
		partitions[tp] = struct{}{}
	}
	for _, tp := range sortedTopicPartitions(partitions) {
		lag := PartitionLag{TopicPartition: tp, Owner: owners[tp], Committed: -1, EndOffset: -1, Lag: -1}
		if o, ok := offsets[tp]; ok {
			lag.Committed, lag.Metadata, lag.CommitTime = o.Offset, o.Metadata, o.CommitTime
		}
		if end, ok := c.metadata.EndOffset(tp); ok {
			lag.EndOffset = end
		}
		if lag.Committed >= 0 && lag.EndOffset >= 0 {
			lag.Lag = max(0, lag.EndOffset-lag.Committed)
		}
		d.Partitions = append(d.Partitions, lag)
	}
	return d, nil
}
