package group

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The member-id handshake (KIP-394): a JoinGroup with no member id that asks for it
// gets an id and ErrMemberIDRequired at once, without joining or starting a
// rebalance; the member joins with the id; an id given up before that is not a
// member, leaves without error, and expires at its session timeout.
func TestJoinMemberIDHandshake(t *testing.T) {
	c := newTestCoordinator(t, nil)
	req := consumerJoin("g", "", []string{"orders"})
	req.RequireMemberID = true

	first := c.join(req)
	resp, err := first.result(t)
	require.ErrorIs(t, err, ErrMemberIDRequired)
	require.NotEmpty(t, resp.MemberID)
	d, err := c.Describe("g")
	require.NoError(t, err)
	require.Empty(t, d.Members, "a pending id is not a member")
	require.Equal(t, Empty, d.State)

	req.MemberID = resp.MemberID
	joined, err := c.join(req).result(t)
	require.NoError(t, err)
	require.Equal(t, resp.MemberID, joined.MemberID)
	require.Equal(t, resp.MemberID, joined.LeaderID)

	// A second member takes an id and gives its join up: it leaves nothing behind.
	req.MemberID = ""
	resp2, err := c.join(req).result(t)
	require.ErrorIs(t, err, ErrMemberIDRequired)
	require.NoError(t, c.LeaveGroup("g", resp2.MemberID, ""))
	req.MemberID = resp2.MemberID
	_, err = c.join(req).result(t)
	require.ErrorIs(t, err, ErrUnknownMemberID, "a pending id that left is forgotten")

	// A third takes an id and never comes back: the id expires.
	req.MemberID = ""
	resp3, err := c.join(req).result(t)
	require.ErrorIs(t, err, ErrMemberIDRequired)
	c.clock.Advance(req.SessionTimeout)
	c.Tick()
	req.MemberID = resp3.MemberID
	_, err = c.join(req).result(t)
	require.ErrorIs(t, err, ErrUnknownMemberID, "an expired pending id is forgotten")
}
