package group

// SyncRequest is a SyncGroup: after its JoinGroup, each member of a generation asks
// for its assignment; the leader's request carries everyone's.
type SyncRequest struct {
	Group      string
	MemberID   string
	InstanceID string
	Generation int32
	// ProtocolType and Protocol, if set, must be the generation's
	// (ErrInconsistentProtocol otherwise).
	ProtocolType string
	Protocol     string
	// Assignments, from the leader only: each member's assignment by member id (for
	// consumers, encoded with EncodeAssignment). A member missing from it gets an
	// empty assignment. The coordinator keeps the byte slices: the caller must not
	// modify them afterwards.
	Assignments map[string][]byte
}

// SyncResponse hands a member its assignment.
type SyncResponse struct {
	ProtocolType string
	Protocol     string
	Assignment   []byte
}

// SyncGroup asks for the member's assignment in the generation it joined, and calls
// respond once the leader has sent the assignments (at once if it already has, or if
// this is the leader's request): the group is then Stable.
//
// Errors (through respond): ErrUnknownMemberID, ErrFencedInstanceID,
// ErrIllegalGeneration for a generation other than the group's,
// ErrRebalanceInProgress if a new rebalance started first (the member must rejoin),
// ErrInconsistentProtocol, ErrCoordinatorClosed.
func (c *Coordinator) SyncGroup(req SyncRequest, respond func(SyncResponse, error)) {
	var out outbox
	c.mu.Lock()
	c.syncGroupLocked(req, respond, &out)
	c.mu.Unlock()
	c.finish(&out)
}

func (c *Coordinator) syncGroupLocked(req SyncRequest, respond func(SyncResponse, error), out *outbox) {
	fail := func(err error) { out.add(func() { respond(SyncResponse{}, err) }) }
	if c.mu.closed {
		fail(ErrCoordinatorClosed)
		return
	}
	g := c.mu.groups[req.Group]
	if g == nil {
		fail(ErrUnknownMemberID)
		return
	}
	if err := g.checkMember(req.MemberID, req.InstanceID); err != nil {
		fail(err)
		return
	}
	if req.Generation != g.generation {
		fail(ErrIllegalGeneration)
		return
	}
	if (req.ProtocolType != "" && req.ProtocolType != g.protocolType) || (req.Protocol != "" && req.Protocol != g.protocol) {
		fail(ErrInconsistentProtocol)
		return
	}
	now := c.now()
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		fail(ErrRebalanceInProgress)
	case CompletingRebalance:
		if previous := m.awaitingSync; previous != nil {
			out.add(func() { previous(SyncResponse{}, ErrRebalanceInProgress) })
		}
		m.awaitingSync = respond
		m.sessionDeadline = now.Add(m.sessionTimeout)
		delete(g.pendingSync, m.id)
		if m.id != g.leaderID {
			return
		}
		for _, member := range g.members {
			member.assignment = req.Assignments[member.id]
		}
		g.transition(Stable, now)
		for _, member := range g.members {
			if r := member.awaitingSync; r != nil {
				member.awaitingSync = nil
				member.sessionDeadline = now.Add(member.sessionTimeout)
				resp := SyncResponse{ProtocolType: g.protocolType, Protocol: g.protocol, Assignment: member.assignment}
				out.add(func() { r(resp, nil) })
			}
		}
	case Stable:
		// The assignment was handed out already: a resent or late SyncGroup.
		m.sessionDeadline = now.Add(m.sessionTimeout)
		delete(g.pendingSync, m.id)
		resp := SyncResponse{ProtocolType: g.protocolType, Protocol: g.protocol, Assignment: m.assignment}
		out.add(func() { respond(resp, nil) })
	default: // Empty, Dead
		fail(ErrUnknownMemberID)
	}
}
