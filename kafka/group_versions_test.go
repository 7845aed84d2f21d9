package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupRequestsAtLowestAndHighestVersions runs a group's life (find its
// coordinator, join, sync, heartbeat, commit and fetch offsets, describe, list,
// delete offsets, leave, delete) with every group API at its lowest served version, then at its
// highest, with raw requests.
func TestGroupRequestsAtLowestAndHighestVersions(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 2)
	ordersID, err := ts.store.TopicID("orders") // OffsetCommit and OffsetFetch v10 name topics by ID
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitTestAddr(t, ts.addr)
	for _, lowest := range []bool{true, false} {
		at := func(key kmsg.Key) int16 {
			a := lookupAPI(key.Int16())
			if lowest {
				return a.minVersion
			}
			return a.maxVersion
		}
		g := fmt.Sprintf("versions-%v", lowest)
		c := ts.dial(t)
		fail := func(api kmsg.Key, format string, args ...any) {
			t.Helper()
			t.Fatalf("%s v%d: %s", kmsg.NameForKey(api.Int16()), at(api), fmt.Sprintf(format, args...))
		}

		find := kmsg.NewPtrFindCoordinatorRequest()
		find.Version = at(kmsg.FindCoordinator)
		find.CoordinatorKey, find.CoordinatorKeys = g, []string{g, "other"}
		found := c.roundTrip(find).(*kmsg.FindCoordinatorResponse)
		if find.Version < 4 {
			if found.ErrorCode != 0 || found.NodeID != 0 || found.Host != host || found.Port != port {
				fail(kmsg.FindCoordinator, "%+v", found)
			}
		} else if len(found.Coordinators) != 2 || found.Coordinators[0].Key != g || found.Coordinators[0].NodeID != 0 ||
			found.Coordinators[0].Host != host || found.Coordinators[1].ErrorCode != 0 {
			fail(kmsg.FindCoordinator, "%+v", found)
		}

		join := joinGroupRequest(at(kmsg.JoinGroup), g, "", "orders")
		if join.Version >= 4 {
			join.MemberID = joinHandshake(t, c, g, "orders")
		}
		joined := c.roundTrip(join).(*kmsg.JoinGroupResponse)
		if joined.ErrorCode != 0 || joined.MemberID == "" || joined.LeaderID != joined.MemberID || len(joined.Members) != 1 {
			fail(kmsg.JoinGroup, "%+v", joined)
		}
		id, generation := joined.MemberID, joined.Generation

		sync := syncGroupRequest(g, id, generation, "orders", map[string][]int32{id: {0, 1}})
		sync.Version = at(kmsg.SyncGroup)
		if got := assignedPartitions(t, c.roundTrip(sync).(*kmsg.SyncGroupResponse), "orders"); len(got) != 2 {
			fail(kmsg.SyncGroup, "assignment %v", got)
		}

		beat := kmsg.NewPtrHeartbeatRequest()
		beat.Version = at(kmsg.Heartbeat)
		beat.Group, beat.MemberID, beat.Generation = g, id, generation
		if code := c.roundTrip(beat).(*kmsg.HeartbeatResponse).ErrorCode; code != 0 {
			fail(kmsg.Heartbeat, "%s", kerr.ErrorForCode(code))
		}

		commit := kmsg.NewPtrOffsetCommitRequest()
		commit.Version = at(kmsg.OffsetCommit)
		commit.Group, commit.MemberID, commit.Generation = g, id, generation
		commit.RetentionTimeMillis = -1
		commit.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "orders", TopicID: ordersID, Partitions: []kmsg.OffsetCommitRequestTopicPartition{
			{Partition: 1, Offset: 42, LeaderEpoch: -1, Metadata: message("meta")},
		}}}
		committed := c.roundTrip(commit).(*kmsg.OffsetCommitResponse)
		if len(committed.Topics) != 1 || committed.Topics[0].Partitions[0].ErrorCode != 0 ||
			commit.Version >= 10 && committed.Topics[0].TopicID != ordersID {
			fail(kmsg.OffsetCommit, "%+v", committed)
		}

		fetch := kmsg.NewPtrOffsetFetchRequest()
		fetch.Version = at(kmsg.OffsetFetch)
		fetch.Group = g
		fetch.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "orders", Partitions: []int32{0, 1}}}
		fetch.Groups = []kmsg.OffsetFetchRequestGroup{{Group: g, MemberEpoch: -1, Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "orders", TopicID: ordersID, Partitions: []int32{0, 1}}}}}
		fetched := c.roundTrip(fetch).(*kmsg.OffsetFetchResponse)
		var offsets []int64
		var metadata string
		if fetch.Version < 8 {
			for _, p := range fetched.Topics[0].Partitions {
				offsets = append(offsets, p.Offset)
				metadata += stringValue(p.Metadata)
			}
		} else {
			if fetch.Version >= 10 && fetched.Groups[0].Topics[0].TopicID != ordersID {
				fail(kmsg.OffsetFetch, "topic ID %x, want %x", fetched.Groups[0].Topics[0].TopicID, ordersID)
			}
			for _, p := range fetched.Groups[0].Topics[0].Partitions {
				offsets = append(offsets, p.Offset)
				metadata += stringValue(p.Metadata)
			}
		}
		if fmt.Sprint(offsets) != "[-1 42]" || metadata != "meta" {
			fail(kmsg.OffsetFetch, "offsets %v metadata %q, want [-1 42] and meta", offsets, metadata)
		}

		describe := kmsg.NewPtrDescribeGroupsRequest()
		describe.Version = at(kmsg.DescribeGroups)
		describe.Groups = []string{g, "nobody"}
		described := c.roundTrip(describe).(*kmsg.DescribeGroupsResponse)
		if d := described.Groups[0]; d.ErrorCode != 0 || d.State != "Stable" || len(d.Members) != 1 || d.Members[0].MemberID != id {
			fail(kmsg.DescribeGroups, "%+v", d)
		}
		unknown := described.Groups[1]
		wantUnknown := int16(0) // Dead, without error, before v6
		if describe.Version >= 6 {
			wantUnknown = kerr.GroupIDNotFound.Code
		}
		if unknown.State != "Dead" || unknown.ErrorCode != wantUnknown {
			fail(kmsg.DescribeGroups, "an unknown group: %+v", unknown)
		}

		list := kmsg.NewPtrListGroupsRequest()
		list.Version = at(kmsg.ListGroups)
		listed := c.roundTrip(list).(*kmsg.ListGroupsResponse)
		found2 := false
		for _, l := range listed.Groups {
			found2 = found2 || l.Group == g && l.ProtocolType == "consumer"
		}
		if listed.ErrorCode != 0 || !found2 {
			fail(kmsg.ListGroups, "%+v", listed)
		}

		offsetDelete := kmsg.NewPtrOffsetDeleteRequest()
		offsetDelete.Version = at(kmsg.OffsetDelete)
		offsetDelete.Group = g
		offsetDelete.Topics = []kmsg.OffsetDeleteRequestTopic{{Topic: "orders", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 1}}}}
		if resp := c.roundTrip(offsetDelete).(*kmsg.OffsetDeleteResponse); resp.ErrorCode != 0 ||
			resp.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code {
			fail(kmsg.OffsetDelete, "%+v, want GROUP_SUBSCRIBED_TO_TOPIC for a subscribed topic", resp)
		}

		leave := kmsg.NewPtrLeaveGroupRequest()
		leave.Version = at(kmsg.LeaveGroup)
		leave.Group, leave.MemberID = g, id
		leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: id}}
		if left := c.roundTrip(leave).(*kmsg.LeaveGroupResponse); left.ErrorCode != 0 || leave.Version >= 3 && left.Members[0].ErrorCode != 0 {
			fail(kmsg.LeaveGroup, "%+v", left)
		}

		del := kmsg.NewPtrDeleteGroupsRequest()
		del.Version = at(kmsg.DeleteGroups)
		del.Groups = []string{g}
		if deleted := c.roundTrip(del).(*kmsg.DeleteGroupsResponse); deleted.Groups[0].ErrorCode != 0 {
			fail(kmsg.DeleteGroups, "%+v", deleted)
		}
	}
}

// TestGroupErrorsMapToKafkaCodes checks the errors of the group coordinator
// that the other tests do not meet, each answered with its Kafka code: bad
// joins, unknown members, and COORDINATOR_NOT_AVAILABLE once the store is
// closed.
func TestGroupErrorsMapToKafkaCodes(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 1)
	c := ts.dial(t)
	for _, tc := range []struct {
		name string
		edit func(*kmsg.JoinGroupRequest)
		want *kerr.Error
	}{
		{"no protocols", func(r *kmsg.JoinGroupRequest) { r.Protocols = nil }, kerr.InconsistentGroupProtocol},
		{"a session timeout below the minimum", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 10 }, kerr.InvalidSessionTimeout},
		{"an empty group", func(r *kmsg.JoinGroupRequest) { r.Group = "" }, kerr.InvalidGroupID},
		{"an unknown member", func(r *kmsg.JoinGroupRequest) { r.MemberID = "ghost" }, kerr.UnknownMemberID},
	} {
		req := joinGroupRequest(9, "errors", "", "orders")
		tc.edit(req)
		if code := c.roundTrip(req).(*kmsg.JoinGroupResponse).ErrorCode; code != tc.want.Code {
			t.Errorf("JoinGroup with %s: %s, want %s", tc.name, kerr.ErrorForCode(code), tc.want.Message)
		}
	}
	id := joinHandshake(t, c, "errors", "orders")
	joined := c.roundTrip(joinGroupRequest(9, "errors", id, "orders")).(*kmsg.JoinGroupResponse)
	other := joinGroupRequest(9, "errors", "", "orders")
	other.ProtocolType = "connect"
	if code := c.roundTrip(other).(*kmsg.JoinGroupResponse).ErrorCode; code != kerr.InconsistentGroupProtocol.Code {
		t.Errorf("JoinGroup of another protocol type: %s, want INCONSISTENT_GROUP_PROTOCOL", kerr.ErrorForCode(code))
	}
	if code := heartbeat(c, "errors", "ghost", joined.Generation); code != kerr.UnknownMemberID.Code {
		t.Errorf("Heartbeat of an unknown member: %s", kerr.ErrorForCode(code))
	}
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version = 5
	leave.Group = "errors"
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "ghost"}, {MemberID: id}}
	left := c.roundTrip(leave).(*kmsg.LeaveGroupResponse)
	if left.ErrorCode != 0 || left.Members[0].ErrorCode != kerr.UnknownMemberID.Code || left.Members[1].ErrorCode != 0 {
		t.Errorf("LeaveGroup of an unknown and a known member: %+v", left)
	}

	if err := ts.store.Close(); err != nil {
		t.Fatal(err)
	}
	find := kmsg.NewPtrFindCoordinatorRequest()
	find.Version = 6
	find.CoordinatorKeys = []string{"errors"}
	for _, keyType := range []int8{0, 1} { // a group, a transactional ID
		find.CoordinatorType = keyType
		if found := c.roundTrip(find).(*kmsg.FindCoordinatorResponse); found.Coordinators[0].ErrorCode != kerr.CoordinatorNotAvailable.Code {
			t.Errorf("FindCoordinator (key type %d) of a closed store: %+v, want COORDINATOR_NOT_AVAILABLE", keyType, found.Coordinators[0])
		}
	}
	if code := heartbeat(c, "errors", id, joined.Generation); code != kerr.CoordinatorNotAvailable.Code {
		t.Errorf("Heartbeat to a closed store: %s, want COORDINATOR_NOT_AVAILABLE", kerr.ErrorForCode(code))
	}
	if code := c.roundTrip(joinGroupRequest(9, "errors", "", "orders")).(*kmsg.JoinGroupResponse).ErrorCode; code != kerr.CoordinatorNotAvailable.Code {
		t.Errorf("JoinGroup to a closed store: %s, want COORDINATOR_NOT_AVAILABLE", kerr.ErrorForCode(code))
	}
	if code := commitOne(c, "errors", "", -1, "orders", 0, 1); code != kerr.CoordinatorNotAvailable.Code {
		t.Errorf("OffsetCommit to a closed store: %s, want COORDINATOR_NOT_AVAILABLE", kerr.ErrorForCode(code))
	}
}
