package kafka

import (
	"errors"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// classicGroupType is the type of every group the store has (ListGroups v5+,
// KIP-848): the classic group protocol's.
const classicGroupType = "classic"

// handleListGroups answers ListGroups from the store's group coordinator: every
// group with members or committed offsets (on a listener of a broker that is
// not the coordinator, none: see checkCoordinator), with its protocol type, state (v4+)
// and type (v5+), filtered by state (v4+, case-insensitive, as Kafka) and type
// (v5+).
func handleListGroups(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ListGroupsRequest)
	resp := kmsg.NewPtrListGroupsResponse()
	resp.Version = req.Version
	resp.Groups = []kmsg.ListGroupsResponseGroup{}
	c, err := r.groupCoordinator()
	if errors.Is(err, errNotCoordinator) {
		return resp, nil // another broker coordinates them all, as Kafka's lists its own
	}
	if err != nil {
		resp.ErrorCode = groupErrorCode(err)
		return resp, nil
	}
	listings, err := c.ListGroups()
	if err != nil {
		resp.ErrorCode = groupErrorCode(err)
		return resp, nil
	}
	matches := func(filter []string, value string) bool {
		return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, value) })
	}
	for _, l := range listings {
		if !matches(req.StatesFilter, l.State.String()) || !matches(req.TypesFilter, classicGroupType) {
			continue
		}
		g := kmsg.NewListGroupsResponseGroup()
		g.Group, g.ProtocolType = l.Group, l.ProtocolType
		g.GroupState, g.GroupType = l.State.String(), classicGroupType
		resp.Groups = append(resp.Groups, g)
	}
	return resp, nil
}
