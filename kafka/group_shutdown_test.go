package kafka

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupJoinWaitingEndsOnShutdown shuts the server down while a JoinGroup
// waits for a member that never rejoins: the waiting request is answered
// NOT_COORDINATOR (as by a Kafka broker that resigns as coordinator, so the
// client looks for the coordinator again) instead of holding the graceful
// shutdown until the rebalance timeout.
func TestGroupJoinWaitingEndsOnShutdown(t *testing.T) {
	joins := make(chan struct{}, 8)
	ts := startServer(t, nil, func(s *Server) {
		s.beforeHandle = func(key int16) {
			if key == kmsg.JoinGroup.Int16() {
				joins <- struct{}{}
			}
		}
	})
	createTestTopic(t, ts.store, "orders", 1)
	a, b := ts.dial(t), ts.dial(t)
	idA := joinHandshake(t, a, "stuck", "orders")
	joined := a.roundTrip(joinGroupRequest(9, "stuck", idA, "orders")).(*kmsg.JoinGroupResponse)
	a.roundTrip(syncGroupRequest("stuck", idA, joined.Generation, "orders", map[string][]int32{idA: {0}}))
	idB := joinHandshake(t, b, "stuck", "orders")
	joinB := b.start(joinGroupRequest(9, "stuck", idB, "orders"))
	for range 4 { // A's two JoinGroups, B's two: B's last is being handled
		<-joins
	}
	if err := ts.server.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp := joinB().(*kmsg.JoinGroupResponse); resp.ErrorCode != kerr.NotCoordinator.Code {
		t.Errorf("the waiting JoinGroup: %s, want NOT_COORDINATOR", kerr.ErrorForCode(resp.ErrorCode))
	}
}
