package group

import (
	"log/slog"
	"maps"
	"slices"
	"time"
)

// HeartbeatRequest is a Heartbeat: a member of a generation says it is alive.
type HeartbeatRequest struct {
	Group      string
	MemberID   string
	InstanceID string
	Generation int32
}

// Heartbeat keeps the member's session alive (so does any JoinGroup, SyncGroup or
// CommitOffsets of it). It returns nil while the group is stable or completing a
// rebalance, ErrRebalanceInProgress while it prepares one (the member must rejoin:
// an eager member revokes its partitions first, a cooperative one keeps them),
// ErrUnknownMemberID if the member was removed (its partitions are lost),
// ErrIllegalGeneration for a stale generation, ErrFencedInstanceID,
// ErrCoordinatorClosed.
func (c *Coordinator) Heartbeat(req HeartbeatRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return ErrCoordinatorClosed
	}
	g := c.mu.groups[req.Group]
	if g == nil {
		return ErrUnknownMemberID
	}
	if err := g.checkMember(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return ErrIllegalGeneration
	}
	m := g.members[req.MemberID]
	m.sessionDeadline = c.now().Add(m.sessionTimeout)
	if g.state == PreparingRebalance {
		return ErrRebalanceInProgress
	}
	return nil
}

// LeaveGroup removes a member (named by its member id, or by its instance id alone
// for a static member) and rebalances the rest of the group. A member leaving
// should revoke its partitions first. Errors: ErrUnknownMemberID,
// ErrFencedInstanceID, ErrCoordinatorClosed.
func (c *Coordinator) LeaveGroup(group, memberID, instanceID string) error {
	var out outbox
	err := func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.mu.closed {
			return ErrCoordinatorClosed
		}
		g := c.mu.groups[group]
		if g == nil {
			return ErrUnknownMemberID
		}
		if memberID == "" && instanceID != "" {
			memberID = g.static[instanceID]
		}
		if _, ok := g.pending[memberID]; ok && g.members[memberID] == nil && instanceID == "" {
			delete(g.pending, memberID) // gave its join up after the handshake
			return nil
		}
		if err := g.checkMember(memberID, instanceID); err != nil {
			return err
		}
		c.removeMemberAndRebalanceLocked(g, g.members[memberID], "member left: "+memberID, c.now(), &out)
		return nil
	}()
	c.finish(&out)
	return err
}

// Tick applies the timeouts that have passed by the clock's now: members whose
// session expired are removed and their group rebalances; a rebalance whose timeout
// passed completes without the members that did not rejoin; members that did not
// send their SyncGroup within the rebalance timeout are removed and their group
// rebalances again. Start's goroutine calls it at every deadline; tests call it
// after moving their clock.
func (c *Coordinator) Tick() {
	c.tick()
	c.wakeBackground()
}

// tick is Tick without waking the background goroutine (which calls it).
func (c *Coordinator) tick() {
	var out outbox
	c.mu.Lock()
	if !c.mu.closed {
		now := c.now()
		for _, id := range slices.Sorted(maps.Keys(c.mu.groups)) {
			c.tickGroupLocked(c.mu.groups[id], now, &out)
		}
	}
	c.mu.Unlock()
	out.deliver()
}

func (c *Coordinator) tickGroupLocked(g *groupMetadata, now time.Time, out *outbox) {
	c.expirePendingLocked(g, now)
	for _, m := range g.sortedMembers() {
		if g.members[m.id] != m { // removed by an earlier expiry's rebalance
			continue
		}
		if m.awaitingJoin == nil && m.awaitingSync == nil && !now.Before(m.sessionDeadline) {
			c.logger.Info("strata/group: member removed: session timed out", slog.String("group", g.id), slog.String("member", m.id))
			c.removeMemberAndRebalanceLocked(g, m, "session timeout: "+m.id, now, out)
		}
	}
	if g.state == PreparingRebalance && !now.Before(g.rebalanceDeadline) {
		c.completeJoinLocked(g, now, out)
	}
	if (g.state == CompletingRebalance || g.state == Stable) && len(g.pendingSync) > 0 && !now.Before(g.syncDeadline) {
		for _, id := range slices.Sorted(maps.Keys(g.pendingSync)) {
			c.logger.Info("strata/group: member removed: no SyncGroup in time", slog.String("group", g.id), slog.String("member", id))
			c.removeMemberLocked(g, g.members[id], out)
		}
		c.prepareRebalanceLocked(g, "members did not sync in time", now, out)
		c.tryCompleteJoinLocked(g, now, out)
	}
}

// NextDeadline returns the earliest time at which Tick has something to do, and
// false if no timeout is pending.
func (c *Coordinator) NextDeadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, g := range c.mu.groups {
		for _, p := range g.pending {
			consider(p.deadline)
		}
		for _, m := range g.members {
			if m.awaitingJoin == nil && m.awaitingSync == nil {
				consider(m.sessionDeadline)
			}
		}
		if g.state == PreparingRebalance {
			consider(g.rebalanceDeadline)
		}
		if (g.state == CompletingRebalance || g.state == Stable) && len(g.pendingSync) > 0 {
			consider(g.syncDeadline)
		}
	}
	return next, !next.IsZero()
}
