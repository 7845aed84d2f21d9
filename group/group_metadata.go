package group

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// memberMetadata is the coordinator's view of one member (Kafka's MemberMetadata).
type memberMetadata struct {
	id         string
	instanceID string // "" for a dynamic member
	clientID   string

	protocolType     string
	protocols        []Protocol // in the member's order of preference
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration

	assignment []byte // from the leader's SyncGroup of the current generation
	joinOrder  uint64 // when the member was added, for choosing a leader

	// awaitingJoin and awaitingSync hold the response callbacks of a JoinGroup or
	// SyncGroup that waits for the rebalance; a member with one is not expired by
	// its session timeout (the rebalance timeout covers it).
	awaitingJoin func(JoinResponse, error)
	awaitingSync func(SyncResponse, error)
	// onRebalance is the member's JoinRequest.OnRebalance.
	onRebalance func()
	// sessionDeadline is when the member is removed unless it heartbeats (or joins,
	// syncs or commits) before.
	sessionDeadline time.Time
}

// protocolMetadata returns the member's metadata for the named protocol.
func (m *memberMetadata) protocolMetadata(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

// sameProtocols reports whether protocols equal the member's, metadata included: a
// member rejoining with the same ones changes nothing.
func (m *memberMetadata) sameProtocols(protocolType string, protocols []Protocol) bool {
	return protocolType == m.protocolType && slices.EqualFunc(m.protocols, protocols, func(a, b Protocol) bool {
		return a.Name == b.Name && string(a.Metadata) == string(b.Metadata)
	})
}

// groupMetadata is the coordinator's state of one group (Kafka's GroupMetadata).
type groupMetadata struct {
	id        string
	state     State
	stateTime time.Time // when the group entered state

	protocolType string // set by the first member; kept while the group is Empty
	protocol     string // the selected protocol of the current generation
	generation   int32
	leaderID     string

	members map[string]*memberMetadata
	static  map[string]string // instance id -> member id
	// pending holds the member ids handed out by the member-id handshake
	// (ErrMemberIDRequired) whose members have not joined with them yet; they are
	// not members, and are forgotten at their deadline.
	pending map[string]pendingMember

	// rebalanceDeadline is when a PreparingRebalance completes without the members
	// that have not rejoined.
	rebalanceDeadline time.Time
	// pendingSync holds the members of the current generation that have not sent
	// their SyncGroup; at syncDeadline they are removed and the group rebalances.
	pendingSync  map[string]struct{}
	syncDeadline time.Time

	// assignedCounts are the partition counts an in-process leader assigned with in
	// generation assignedGeneration; NotifyMetadataChanged rebalances when they
	// change.
	assignedCounts     map[string]int
	assignedGeneration int32

	// dirty says the group's record must be written (see Coordinator.Flush).
	dirty bool
}

func newGroupMetadata(id string, now time.Time) *groupMetadata {
	return &groupMetadata{
		id:        id,
		state:     Empty,
		stateTime: now,
		members:   make(map[string]*memberMetadata),
		static:    make(map[string]string),
		pending:   make(map[string]pendingMember),
	}
}

// transition moves the group to state s. An invalid transition is a bug of the
// coordinator, so it panics, as Kafka's assertion does.
func (g *groupMetadata) transition(s State, now time.Time) {
	if !s.canFollow(g.state) {
		panic(fmt.Sprintf("strata/group: bug: group %q cannot move from %v to %v", g.id, g.state, s))
	}
	g.state = s
	g.stateTime = now
	g.dirty = true
}

// sortedMembers returns the members ordered by member id.
func (g *groupMetadata) sortedMembers() []*memberMetadata {
	out := slices.Collect(maps.Values(g.members))
	slices.SortFunc(out, func(a, b *memberMetadata) int { return cmp.Compare(a.id, b.id) })
	return out
}

// candidateProtocols returns the protocols every member supports.
func (g *groupMetadata) candidateProtocols() map[string]struct{} {
	var out map[string]struct{}
	for _, m := range g.members {
		names := make(map[string]struct{}, len(m.protocols))
		for _, p := range m.protocols {
			if _, ok := out[p.Name]; out == nil || ok {
				names[p.Name] = struct{}{}
			}
		}
		out = names
	}
	return out
}

// supportsProtocols reports whether a member with this protocol type and these
// protocols may join: any may join an empty group; otherwise the type must match and
// one of the protocols must be supported by every member.
func (g *groupMetadata) supportsProtocols(protocolType string, protocols []Protocol) bool {
	if len(g.members) == 0 {
		return true
	}
	if protocolType != g.protocolType {
		return false
	}
	candidates := g.candidateProtocols()
	for _, p := range protocols {
		if _, ok := candidates[p.Name]; ok {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol of a new generation as Kafka does: among the
// protocols every member supports, each member votes for the first in its own order
// of preference; the most votes win, a tie goes to the leader's preference.
func (g *groupMetadata) selectProtocol() string {
	candidates := g.candidateProtocols()
	votes := make(map[string]int)
	for _, m := range g.members {
		for _, p := range m.protocols {
			if _, ok := candidates[p.Name]; ok {
				votes[p.Name]++
				break
			}
		}
	}
	best, bestVotes := "", -1
	for _, p := range g.members[g.leaderID].protocols {
		if _, ok := candidates[p.Name]; ok && votes[p.Name] > bestVotes {
			best, bestVotes = p.Name, votes[p.Name]
		}
	}
	return best
}

// allJoined reports whether every member waits in a JoinGroup.
func (g *groupMetadata) allJoined() bool {
	for _, m := range g.members {
		if m.awaitingJoin == nil {
			return false
		}
	}
	return true
}

// maxRebalanceTimeout returns the longest rebalance timeout among the members.
func (g *groupMetadata) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// record returns the group's record for the offset store.
func (g *groupMetadata) record() GroupRecord {
	r := GroupRecord{
		ProtocolType: g.protocolType,
		Generation:   g.generation,
		Protocol:     g.protocol,
		Leader:       g.leaderID,
		StateTime:    g.stateTime,
	}
	for _, m := range g.sortedMembers() {
		r.Members = append(r.Members, MemberRecord{
			MemberID:         m.id,
			InstanceID:       m.instanceID,
			ClientID:         m.clientID,
			RebalanceTimeout: m.rebalanceTimeout,
			SessionTimeout:   m.sessionTimeout,
			Subscription:     m.protocolMetadata(g.protocol),
			Assignment:       m.assignment,
		})
	}
	return r
}
