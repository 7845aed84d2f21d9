package group

// withdrawJoin takes back the JoinGroup that the member (by memberID, or by
// instanceID alone for a static member that has not learnt its id) waits in,
// unanswered: the group forms its next generation without counting it, and
// waits for the member to join again or leave, as for any member that has not
// rejoined yet. Its session starts again now, as wherever a wait ends. It reports
// false if the member waits in no JoinGroup: its JoinGroup was answered (the
// answer reaches its respond callback, if it has not already), or the member is
// gone, which answered it too.
func (c *Coordinator) withdrawJoin(group, memberID, instanceID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.mu.groups[group]
	if g == nil {
		return false
	}
	if memberID == "" && instanceID != "" {
		memberID = g.static[instanceID]
	}
	m := g.members[memberID]
	if m == nil || m.awaitingJoin == nil {
		return false
	}
	m.awaitingJoin = nil
	m.sessionDeadline = c.now().Add(m.sessionTimeout)
	return true
}
