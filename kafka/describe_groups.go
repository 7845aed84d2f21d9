package kafka

import (
	"errors"

	"github.com/stratalog/strata/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDescribeGroups answers DescribeGroups from the store's group
// coordinator: each group's state, protocol type, protocol and members, with
// each member's metadata and assignment as the members sent them. A group the
// store does not know is Dead without error before v6, as Kafka answers, and
// GROUP_ID_NOT_FOUND from v6. As Kafka, the protocol and the members' metadata
// and assignments are given for a Stable group only. Members' client hosts are
// not known (the coordinator does not keep them): empty.
func handleDescribeGroups(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeGroupsRequest)
	resp := kmsg.NewPtrDescribeGroupsResponse()
	resp.Version = req.Version
	c, coordinatorErr := r.groupCoordinator()
	for _, name := range req.Groups {
		out := kmsg.NewDescribeGroupsResponseGroup()
		out.Group = name
		err := coordinatorErr
		var d group.GroupDescription
		if err == nil {
			d, err = c.Describe(name)
		}
		switch {
		case errors.Is(err, group.ErrGroupNotFound) && req.Version < 6:
			out.State = group.Dead.String()
		case err != nil:
			out.ErrorCode, out.ErrorMessage = groupErrorCode(err), groupErrorMessage(err)
			if errors.Is(err, group.ErrGroupNotFound) {
				out.State = group.Dead.String()
			}
		default:
			// As Kafka: the protocol, metadata and assignments only of a stable
			// group (a rebalancing one's are about to change).
			stable := d.State == group.Stable
			out.State, out.ProtocolType = d.State.String(), d.ProtocolType
			if stable {
				out.Protocol = d.Protocol
			}
			for _, m := range d.Members {
				member := kmsg.NewDescribeGroupsResponseGroupMember()
				member.MemberID, member.InstanceID, member.ClientID = m.MemberID, optionalString(m.InstanceID), m.ClientID
				member.ProtocolMetadata, member.MemberAssignment = []byte{}, []byte{}
				if stable {
					member.ProtocolMetadata, member.MemberAssignment = nonNil(m.Metadata), nonNil(m.AssignmentBytes)
				}
				out.Members = append(out.Members, member)
			}
		}
		resp.Groups = append(resp.Groups, out)
	}
	return resp, nil
}

// nonNil returns b, or an empty slice for nil: the bytes fields that are not
// nullable on the wire.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
