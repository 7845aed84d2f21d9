package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupTestSession is the session timeout of the test members: long enough for
// a slow machine (-race), short enough to be accepted (at least 6 s).
const groupTestSession = 30 * time.Second

// start sends req and returns a function that waits for its response, read on
// another goroutine: for a JoinGroup or SyncGroup that waits for the rest of its
// group.
func (c *rawConn) start(req kmsg.Request) func() kmsg.Response {
	c.t.Helper()
	c.send(frame(req, 9))
	type result struct {
		body []byte
		err  error
	}
	read := make(chan result, 1)
	go func() {
		body, err := c.readFrame()
		read <- result{body, err}
	}()
	return func() kmsg.Response {
		c.t.Helper()
		r := <-read
		if r.err != nil {
			c.t.Fatalf("reading the response to %s: %v", kmsg.NameForKey(req.Key()), r.err)
		}
		resp, correlationID := decodeResponse(c.t, req, r.body)
		if correlationID != 9 {
			c.t.Fatalf("correlation ID %d, want 9", correlationID)
		}
		return resp
	}
}

// consumerProtocols is a consumer's JoinGroup protocols: the range assignor
// with a subscription to topics, encoded as Kafka's clients encode it.
func consumerProtocols(topics ...string) []kmsg.JoinGroupRequestProtocol {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 1
	meta.Topics = topics
	return []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta.AppendTo(nil)}}
}

// joinGroupRequest is a JoinGroup of version as a consumer of topics sends it.
func joinGroupRequest(version int16, groupName, memberID string, topics ...string) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = version
	req.Group = groupName
	req.MemberID = memberID
	req.SessionTimeoutMillis = int32(groupTestSession / time.Millisecond)
	req.RebalanceTimeoutMillis = int32(groupTestSession / time.Millisecond)
	req.ProtocolType = "consumer"
	req.Protocols = consumerProtocols(topics...)
	return req
}

// joinHandshake sends JoinGroup v9 without a member ID and checks the
// MEMBER_ID_REQUIRED answer (KIP-394); it returns the member ID given.
func joinHandshake(t *testing.T, c *rawConn, groupName string, topics ...string) string {
	t.Helper()
	resp := c.roundTrip(joinGroupRequest(9, groupName, "", topics...)).(*kmsg.JoinGroupResponse)
	if resp.ErrorCode != kerr.MemberIDRequired.Code || resp.MemberID == "" {
		t.Fatalf("first JoinGroup: error %d, member ID %q; want MEMBER_ID_REQUIRED and an ID", resp.ErrorCode, resp.MemberID)
	}
	return resp.MemberID
}

// syncGroupRequest is a SyncGroup v5; assignments (the leader's) map member IDs
// to the partitions of topic.
func syncGroupRequest(groupName, memberID string, generation int32, topic string, assignments map[string][]int32) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.Generation = groupName, memberID, generation
	req.ProtocolType, req.Protocol = message("consumer"), message("range")
	for id, partitions := range assignments {
		a := kmsg.NewConsumerMemberAssignment()
		a.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: topic, Partitions: partitions}}
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: a.AppendTo(nil)})
	}
	return req
}

// assignedPartitions decodes a SyncGroup's assignment of topic.
func assignedPartitions(t *testing.T, resp *kmsg.SyncGroupResponse, topic string) []int32 {
	t.Helper()
	if resp.ErrorCode != 0 {
		t.Fatalf("SyncGroup: error %s", kerr.ErrorForCode(resp.ErrorCode))
	}
	a := kmsg.NewConsumerMemberAssignment()
	if err := a.ReadFrom(resp.MemberAssignment); err != nil {
		t.Fatalf("decoding the assignment: %v", err)
	}
	var out []int32
	for _, at := range a.Topics {
		if at.Topic == topic {
			out = append(out, at.Partitions...)
		}
	}
	return out
}

// heartbeat sends a Heartbeat v4 and returns its error code.
func heartbeat(c *rawConn, groupName, memberID string, generation int32) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group, req.MemberID, req.Generation = groupName, memberID, generation
	return c.roundTrip(req).(*kmsg.HeartbeatResponse).ErrorCode
}

// heartbeatUntilRebalance heartbeats, as a member does at each heartbeat
// interval, until the group tells it to rejoin (REBALANCE_IN_PROGRESS): a
// remote member learns of a rebalance no other way. Any other error fails.
func heartbeatUntilRebalance(t *testing.T, c *rawConn, groupName, memberID string, generation int32) {
	t.Helper()
	for range 100_000 {
		switch code := heartbeat(c, groupName, memberID, generation); code {
		case 0:
		case kerr.RebalanceInProgress.Code:
			return
		default:
			t.Fatalf("Heartbeat: %s", kerr.ErrorForCode(code))
		}
	}
	t.Fatal("the group never rebalanced")
}

// createTestTopic creates a topic of n partitions.
func createTestTopic(t *testing.T, store *log.Store, name string, n int) {
	t.Helper()
	if err := store.CreateTopic(context.Background(), name, log.TopicConfig{Partitions: n}); err != nil {
		t.Fatal(err)
	}
}
