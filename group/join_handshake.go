package group

import (
	"log/slog"
	"time"
)

// pendingMember is a member id handed out by the member-id handshake (Kafka's
// KIP-394) that has not joined yet.
type pendingMember struct {
	order    uint64    // the id's creation order, for choosing a leader; never 0
	deadline time.Time // forgotten then unless it joined: its session timeout
}

// addPendingMemberLocked gives a dynamic member joining with no id a member id it
// must join again with. The id is pending: not a member, so no rebalance starts,
// and a member that gives up its join leaves nothing in the group.
func (c *Coordinator) addPendingMemberLocked(g *groupMetadata, req JoinRequest, now time.Time) string {
	id, order := c.newMemberIDLocked(req.ClientID, "")
	g.pending[id] = pendingMember{order: order, deadline: now.Add(req.SessionTimeout)}
	return id
}

// admitPendingMemberLocked adds the member of a pending id, which joins with it.
func (c *Coordinator) admitPendingMemberLocked(g *groupMetadata, req JoinRequest, respond func(JoinResponse, error), now time.Time, out *outbox) {
	p := g.pending[req.MemberID]
	delete(g.pending, req.MemberID)
	if req.InstanceID != "" {
		// A pending id is a dynamic member's: the handshake is for them only.
		out.add(func() { respond(JoinResponse{}, ErrFencedInstanceID) })
		return
	}
	c.addMemberWithIDLocked(g, req, req.MemberID, p.order, respond, now, out)
}

// expirePendingLocked forgets the pending member ids whose deadline passed.
func (c *Coordinator) expirePendingLocked(g *groupMetadata, now time.Time) {
	for id, p := range g.pending {
		if !now.Before(p.deadline) {
			c.logger.Debug("strata/group: pending member id expired", slog.String("group", g.id), slog.String("member", id))
			delete(g.pending, id)
		}
	}
}
