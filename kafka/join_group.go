package kafka

import (
	"time"

	"github.com/stratalog/strata/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleJoinGroup answers JoinGroup through the store's group coordinator: once
// the group's next generation is formed, which may take until every member has
// rejoined (the connection's later requests wait meanwhile, as on Kafka). From
// v4, a member joining without a member ID gets MEMBER_ID_REQUIRED and an ID to
// join again with (KIP-394). The leader's answer lists every member with its
// metadata for the selected protocol.
func handleJoinGroup(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.JoinGroupRequest)
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = req.Version
	resp.Generation = -1
	fail := func(err error) (kmsg.Response, error) {
		resp.ErrorCode = groupErrorCode(err)
		if req.Version < 7 {
			resp.Protocol = message("") // not nullable before v7
		}
		return resp, nil
	}
	if req.ProtocolType == "" || len(req.Protocols) == 0 {
		return fail(group.ErrInconsistentProtocol) // as Kafka answers either
	}
	c, err := r.groupCoordinator()
	if err != nil {
		return fail(err)
	}
	join := group.JoinRequest{
		Group:            req.Group,
		MemberID:         req.MemberID,
		InstanceID:       stringValue(req.InstanceID),
		ClientID:         stringValue(r.header.clientID),
		ProtocolType:     req.ProtocolType,
		SessionTimeout:   time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		RebalanceTimeout: time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond,
		RequireMemberID:  req.Version >= 4,
	}
	if join.SessionTimeout <= 0 {
		// 0 would be the coordinator's default; Kafka refuses it.
		return fail(group.ErrInvalidSessionTimeout)
	}
	if join.RebalanceTimeout <= 0 {
		join.RebalanceTimeout = join.SessionTimeout // Kafka's v0 rule, for a client that sends none
	}
	for _, p := range req.Protocols {
		join.Protocols = append(join.Protocols, group.Protocol{Name: p.Name, Metadata: p.Metadata})
	}
	joined, err := waitForGroup(r, func(respond func(group.JoinResponse, error)) { c.JoinGroup(join, respond) })
	resp.MemberID = joined.MemberID // also with MEMBER_ID_REQUIRED: the ID to join with
	if err != nil {
		if resp.MemberID == "" {
			resp.MemberID = req.MemberID
		}
		return fail(err)
	}
	resp.Generation = joined.Generation
	resp.ProtocolType = message(joined.ProtocolType)
	resp.Protocol = message(joined.Protocol)
	resp.LeaderID = joined.LeaderID
	for _, m := range joined.Members {
		member := kmsg.NewJoinGroupResponseMember()
		member.MemberID = m.MemberID
		member.InstanceID = optionalString(m.InstanceID)
		member.ProtocolMetadata = m.Metadata
		resp.Members = append(resp.Members, member)
	}
	return resp, nil
}
