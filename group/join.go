package group

import (
	"fmt"
	"log/slog"
	"time"
)

// JoinRequest is a JoinGroup: a member asks to join, or rejoin, a group.
type JoinRequest struct {
	Group string
	// MemberID is "" for a member joining for the first time (the coordinator gives
	// it an id), or the id it was given.
	MemberID string
	// InstanceID, if set, makes the member static (Kafka's group.instance.id): a
	// member that rejoins with the same instance id and no member id takes the old
	// member's place, without a rebalance if nothing else changed, and the old
	// member id is fenced (ErrFencedInstanceID).
	InstanceID string
	ClientID   string
	// ProtocolType is ProtocolTypeConsumer for consumers; every member of a group
	// must use the same.
	ProtocolType string
	// Protocols are the protocols (for consumers: assignors, each with the member's
	// subscription) the member supports, in order of preference; at least one.
	Protocols []Protocol
	// SessionTimeout removes the member if it does not heartbeat for that long.
	// 0 means DefaultSessionTimeout; it must lie within the coordinator's
	// [MinSessionTimeout, MaxSessionTimeout] (ErrInvalidSessionTimeout).
	SessionTimeout time.Duration
	// RebalanceTimeout is how long a rebalance waits for the member to rejoin; 0
	// means DefaultRebalanceTimeout.
	RebalanceTimeout time.Duration
	// RequireMemberID asks for the member-id handshake (Kafka's KIP-394, JoinGroup
	// v4 and later): a dynamic member joining with no member id is answered at once
	// with ErrMemberIDRequired and a member id, with which it joins again. So a
	// member always knows its id before it is in the group, and one that gives up
	// its join can leave with it instead of staying behind until its session
	// timeout. Static members (InstanceID set) skip the handshake, as in Kafka.
	RequireMemberID bool
	// OnRebalance, if set, is called when the group starts a rebalance the member
	// must rejoin for, so that an in-process member rejoins at once instead of at
	// its next heartbeat. It is called without the coordinator's lock and must
	// not block.
	OnRebalance func()
}

// JoinResponse tells a member the generation it joined.
type JoinResponse struct {
	Generation   int32
	ProtocolType string
	Protocol     string // the selected protocol (assignor) of the generation
	LeaderID     string
	MemberID     string // the member's id, new if it joined with none
	// Members is set for the leader only: every member of the generation (sorted
	// by member id) with its metadata for Protocol, from which the leader computes
	// the assignment it sends in its SyncGroup.
	Members []JoinedMember
}

// JoinedMember is one member in the leader's JoinResponse.
type JoinedMember struct {
	MemberID   string
	InstanceID string
	Metadata   []byte
}

// JoinGroup adds a member to a group or rejoins it, and calls respond once the
// group's next generation is formed: when every member has (re)joined, or when the
// rebalance timeout has passed and Tick removes those that did not. A new member
// or a changed subscription starts a rebalance; a follower of a stable group that
// rejoins with unchanged protocols gets the current generation back at once.
//
// Errors (through respond): ErrUnknownMemberID for a member id the group does not
// know, ErrFencedInstanceID, ErrInconsistentProtocol, ErrInvalidSessionTimeout,
// ErrInvalidGroupID, ErrInvalidArgument, ErrCoordinatorClosed; a JoinGroup replaced
// by a newer one of the same member gets ErrRebalanceInProgress.
func (c *Coordinator) JoinGroup(req JoinRequest, respond func(JoinResponse, error)) {
	var out outbox
	c.mu.Lock()
	c.joinGroupLocked(req, respond, &out)
	c.mu.Unlock()
	c.finish(&out)
}

func (c *Coordinator) joinGroupLocked(req JoinRequest, respond func(JoinResponse, error), out *outbox) {
	fail := func(err error) { out.add(func() { respond(JoinResponse{}, err) }) }
	if c.mu.closed {
		fail(ErrCoordinatorClosed)
		return
	}
	if err := c.normalizeJoin(&req); err != nil {
		fail(err)
		return
	}
	now := c.now()
	g := c.mu.groups[req.Group]
	if g == nil {
		if req.MemberID != "" {
			fail(ErrUnknownMemberID)
			return
		}
		g = newGroupMetadata(req.Group, now)
		c.mu.groups[req.Group] = g
	}
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		fail(ErrInconsistentProtocol)
		return
	}
	switch {
	case req.MemberID == "" && req.InstanceID != "" && g.static[req.InstanceID] != "":
		c.replaceStaticMemberLocked(g, req, respond, now, out)
	case req.MemberID == "" && req.RequireMemberID && req.InstanceID == "":
		id := c.addPendingMemberLocked(g, req, now)
		out.add(func() { respond(JoinResponse{MemberID: id}, ErrMemberIDRequired) })
		return
	case req.MemberID == "":
		c.addMemberLocked(g, req, respond, now, out)
	case g.pending[req.MemberID].order != 0 && g.members[req.MemberID] == nil:
		c.admitPendingMemberLocked(g, req, respond, now, out)
	default:
		m := g.members[req.MemberID]
		if err := g.checkMember(req.MemberID, req.InstanceID); err != nil {
			fail(err)
			return
		}
		switch g.state {
		case PreparingRebalance:
			c.updateMemberLocked(m, req, respond, out)
		case CompletingRebalance:
			if m.sameProtocols(req.ProtocolType, req.Protocols) {
				// A resent JoinGroup: answer with the generation being formed.
				m.sessionDeadline = now.Add(m.sessionTimeout)
				resp := g.joinResponse(m)
				out.add(func() { respond(resp, nil) })
				return
			}
			c.updateMemberLocked(m, req, respond, out)
			c.prepareRebalanceLocked(g, "member changed its protocols", now, out)
		case Stable:
			if m.id != g.leaderID && m.sameProtocols(req.ProtocolType, req.Protocols) {
				// Nothing changed: the follower gets the current generation back.
				m.sessionDeadline = now.Add(m.sessionTimeout)
				resp := g.joinResponse(m)
				out.add(func() { respond(resp, nil) })
				return
			}
			c.updateMemberLocked(m, req, respond, out)
			c.prepareRebalanceLocked(g, "member rejoined", now, out)
		default: // Empty, Dead: no members
			fail(ErrUnknownMemberID)
			return
		}
	}
	c.tryCompleteJoinLocked(g, now, out)
}

// normalizeJoin validates req and fills in default timeouts.
func (c *Coordinator) normalizeJoin(req *JoinRequest) error {
	if err := validateGroupID(req.Group); err != nil {
		return err
	}
	for _, check := range []struct{ what, name string }{
		{"member id", req.MemberID}, {"instance id", req.InstanceID}, {"client id", req.ClientID},
	} {
		if err := validateName(check.what, check.name, true); err != nil {
			return err
		}
	}
	if err := validateName("protocol type", req.ProtocolType, false); err != nil {
		return err
	}
	if len(req.Protocols) == 0 {
		return fmt.Errorf("%w: no protocols", ErrInvalidArgument)
	}
	seen := make(map[string]bool, len(req.Protocols))
	for _, p := range req.Protocols {
		if err := validateName("protocol name", p.Name, false); err != nil {
			return err
		}
		if seen[p.Name] {
			return fmt.Errorf("%w: protocol %q listed twice", ErrInvalidArgument, p.Name)
		}
		seen[p.Name] = true
	}
	if req.SessionTimeout == 0 {
		req.SessionTimeout = DefaultSessionTimeout
	}
	if req.SessionTimeout < c.opts.MinSessionTimeout || req.SessionTimeout > c.opts.MaxSessionTimeout {
		return fmt.Errorf("%w: %v not in [%v, %v]", ErrInvalidSessionTimeout, req.SessionTimeout, c.opts.MinSessionTimeout, c.opts.MaxSessionTimeout)
	}
	if req.RebalanceTimeout == 0 {
		req.RebalanceTimeout = DefaultRebalanceTimeout
	}
	if req.RebalanceTimeout < 0 {
		return fmt.Errorf("%w: negative rebalance timeout %v", ErrInvalidArgument, req.RebalanceTimeout)
	}
	return nil
}

// checkMember returns the error for a request naming memberID and instanceID, or nil
// if memberID is a member and the instance id is its own.
func (g *groupMetadata) checkMember(memberID, instanceID string) error {
	if instanceID != "" {
		if current, ok := g.static[instanceID]; ok && current != memberID {
			return ErrFencedInstanceID
		}
	}
	m := g.members[memberID]
	if m == nil {
		return ErrUnknownMemberID
	}
	if m.instanceID != instanceID {
		return ErrFencedInstanceID
	}
	return nil
}

// addMemberLocked adds a new member, waiting to join, and starts a rebalance.
func (c *Coordinator) addMemberLocked(g *groupMetadata, req JoinRequest, respond func(JoinResponse, error), now time.Time, out *outbox) {
	id, order := c.newMemberIDLocked(req.ClientID, req.InstanceID)
	c.addMemberWithIDLocked(g, req, id, order, respond, now, out)
}

// addMemberWithIDLocked adds a member of the given id, waiting to join, and
// starts a rebalance.
func (c *Coordinator) addMemberWithIDLocked(g *groupMetadata, req JoinRequest, id string, order uint64, respond func(JoinResponse, error), now time.Time, out *outbox) {
	if len(g.members) == 0 {
		g.protocolType = req.ProtocolType
	}
	m := &memberMetadata{id: id, instanceID: req.InstanceID, joinOrder: order}
	g.members[id] = m
	if req.InstanceID != "" {
		g.static[req.InstanceID] = id
	}
	c.updateMemberLocked(m, req, respond, out)
	if g.state != PreparingRebalance {
		c.prepareRebalanceLocked(g, "member joined: "+id, now, out)
	}
}

// replaceStaticMemberLocked gives a static member that rejoined without its member
// id a new one, in place of the old member (which is fenced from now on). In a
// stable group, a follower whose protocols did not change gets the current
// generation back and, by its SyncGroup, its old assignment: no rebalance.
func (c *Coordinator) replaceStaticMemberLocked(g *groupMetadata, req JoinRequest, respond func(JoinResponse, error), now time.Time, out *outbox) {
	old := g.members[g.static[req.InstanceID]]
	if r := old.awaitingJoin; r != nil {
		out.add(func() { r(JoinResponse{}, ErrFencedInstanceID) })
	}
	if r := old.awaitingSync; r != nil {
		out.add(func() { r(SyncResponse{}, ErrFencedInstanceID) })
	}
	id, _ := c.newMemberIDLocked(req.ClientID, req.InstanceID)
	m := &memberMetadata{id: id, instanceID: req.InstanceID, joinOrder: old.joinOrder, assignment: old.assignment}
	unchanged := old.sameProtocols(req.ProtocolType, req.Protocols)
	wasLeader := g.leaderID == old.id
	delete(g.members, old.id)
	g.members[id] = m
	g.static[req.InstanceID] = id
	if wasLeader {
		g.leaderID = id
	}
	if _, ok := g.pendingSync[old.id]; ok {
		delete(g.pendingSync, old.id)
		g.pendingSync[id] = struct{}{}
	}
	g.dirty = true
	c.logger.Info("strata/group: static member replaced", slog.String("group", g.id),
		slog.String("instance", req.InstanceID), slog.String("old", old.id), slog.String("new", id))
	if g.state == Stable && unchanged && !wasLeader {
		m.protocolType, m.protocols = req.ProtocolType, req.Protocols
		m.clientID = req.ClientID
		m.sessionTimeout, m.rebalanceTimeout = req.SessionTimeout, req.RebalanceTimeout
		m.sessionDeadline = now.Add(m.sessionTimeout)
		resp := g.joinResponse(m)
		out.add(func() { respond(resp, nil) })
		return
	}
	c.updateMemberLocked(m, req, respond, out)
	if g.state != PreparingRebalance {
		c.prepareRebalanceLocked(g, "static member rejoined: "+id, now, out)
	}
}

// updateMemberLocked records the member's protocols and timeouts from req and makes
// it wait for the rebalance with respond. A JoinGroup of the member that was already
// waiting is answered with ErrRebalanceInProgress.
func (c *Coordinator) updateMemberLocked(m *memberMetadata, req JoinRequest, respond func(JoinResponse, error), out *outbox) {
	if previous := m.awaitingJoin; previous != nil {
		out.add(func() { previous(JoinResponse{}, ErrRebalanceInProgress) })
	}
	m.clientID = req.ClientID
	m.protocolType = req.ProtocolType
	m.protocols = req.Protocols
	m.sessionTimeout = req.SessionTimeout
	m.rebalanceTimeout = req.RebalanceTimeout
	m.onRebalance = req.OnRebalance
	m.awaitingJoin = respond
}

// prepareRebalanceLocked starts a rebalance: members waiting for an assignment are
// told to rejoin, and every member has until the rebalance deadline to rejoin.
func (c *Coordinator) prepareRebalanceLocked(g *groupMetadata, reason string, now time.Time, out *outbox) {
	for _, m := range g.members {
		if notify := m.onRebalance; notify != nil && m.awaitingJoin == nil {
			out.add(notify)
		}
		if respond := m.awaitingSync; respond != nil {
			// A member that waited in SyncGroup could not heartbeat: its session
			// starts again now that it is answered (as everywhere a wait ends).
			m.awaitingSync = nil
			m.sessionDeadline = now.Add(m.sessionTimeout)
			out.add(func() { respond(SyncResponse{}, ErrRebalanceInProgress) })
		}
	}
	g.pendingSync = nil
	g.rebalanceDeadline = now.Add(g.maxRebalanceTimeout())
	g.transition(PreparingRebalance, now)
	c.logger.Info("strata/group: preparing rebalance", slog.String("group", g.id),
		slog.Int("generation", int(g.generation)), slog.String("reason", reason))
}

// tryCompleteJoinLocked completes the rebalance if every member has rejoined.
func (c *Coordinator) tryCompleteJoinLocked(g *groupMetadata, now time.Time, out *outbox) {
	if g.state == PreparingRebalance && g.allJoined() {
		c.completeJoinLocked(g, now, out)
	}
}

// completeJoinLocked forms the next generation from the members that rejoined
// (removing the others), selects its protocol and leader, and answers every
// JoinGroup; the group then waits for the leader's assignment. With no member left
// the group becomes Empty (and the generation is bumped all the same, as in Kafka).
func (c *Coordinator) completeJoinLocked(g *groupMetadata, now time.Time, out *outbox) {
	for _, m := range g.sortedMembers() {
		if m.awaitingJoin == nil {
			c.logger.Info("strata/group: member removed: did not rejoin in time", slog.String("group", g.id), slog.String("member", m.id))
			c.removeMemberLocked(g, m, out)
		}
	}
	g.generation++
	g.assignedCounts = nil
	if len(g.members) == 0 {
		g.protocol, g.leaderID = "", ""
		g.transition(Empty, now)
		c.logger.Info("strata/group: group is empty", slog.String("group", g.id), slog.Int("generation", int(g.generation)))
		return
	}
	if g.members[g.leaderID] == nil {
		var leader *memberMetadata
		for _, m := range g.members {
			if leader == nil || m.joinOrder < leader.joinOrder {
				leader = m
			}
		}
		g.leaderID = leader.id
	}
	g.protocol = g.selectProtocol()
	g.transition(CompletingRebalance, now)
	g.pendingSync = make(map[string]struct{}, len(g.members))
	g.syncDeadline = now.Add(g.maxRebalanceTimeout())
	for _, m := range g.sortedMembers() {
		g.pendingSync[m.id] = struct{}{}
		m.assignment = nil
		m.sessionDeadline = now.Add(m.sessionTimeout)
		respond, resp := m.awaitingJoin, g.joinResponse(m)
		m.awaitingJoin = nil
		out.add(func() { respond(resp, nil) })
	}
	c.logger.Info("strata/group: generation formed", slog.String("group", g.id), slog.Int("generation", int(g.generation)),
		slog.String("protocol", g.protocol), slog.String("leader", g.leaderID), slog.Int("members", len(g.members)))
}

// joinResponse is m's JoinResponse for the current generation.
func (g *groupMetadata) joinResponse(m *memberMetadata) JoinResponse {
	resp := JoinResponse{
		Generation:   g.generation,
		ProtocolType: g.protocolType,
		Protocol:     g.protocol,
		LeaderID:     g.leaderID,
		MemberID:     m.id,
	}
	if m.id == g.leaderID {
		for _, other := range g.sortedMembers() {
			resp.Members = append(resp.Members, JoinedMember{
				MemberID:   other.id,
				InstanceID: other.instanceID,
				Metadata:   other.protocolMetadata(g.protocol),
			})
		}
	}
	return resp
}

// removeMemberLocked removes m from the group, failing its waiting calls with
// ErrUnknownMemberID. The caller decides what the group does next.
func (c *Coordinator) removeMemberLocked(g *groupMetadata, m *memberMetadata, out *outbox) {
	if respond := m.awaitingJoin; respond != nil {
		m.awaitingJoin = nil
		out.add(func() { respond(JoinResponse{}, ErrUnknownMemberID) })
	}
	if respond := m.awaitingSync; respond != nil {
		m.awaitingSync = nil
		out.add(func() { respond(SyncResponse{}, ErrUnknownMemberID) })
	}
	delete(g.members, m.id)
	if m.instanceID != "" && g.static[m.instanceID] == m.id {
		delete(g.static, m.instanceID)
	}
	delete(g.pendingSync, m.id)
	if g.leaderID == m.id {
		g.leaderID = ""
	}
	g.dirty = true
}

// removeMemberAndRebalanceLocked removes m and rebalances the rest of the group.
func (c *Coordinator) removeMemberAndRebalanceLocked(g *groupMetadata, m *memberMetadata, reason string, now time.Time, out *outbox) {
	c.removeMemberLocked(g, m, out)
	switch g.state {
	case Stable, CompletingRebalance:
		c.prepareRebalanceLocked(g, reason, now, out)
	}
	c.tryCompleteJoinLocked(g, now, out)
}
