package group

import (
	"maps"
	"slices"
)

// assignAsLeader computes the assignments of the generation an in-process member
// leads, as a Kafka consumer leader does: it decodes every member's subscription,
// asks Metadata for the partition counts of the subscribed topics and runs the
// selected assignor. It checks the result (checkAssignment) and records the counts
// it used, so that NotifyMetadataChanged can tell when they no longer hold; if the
// metadata changed while it computed, it checks at once.
func (c *Coordinator) assignAsLeader(group string, resp JoinResponse, assignor Assignor) (map[string][]byte, error) {
	epoch := c.metadataEpoch.Load()
	members := make([]MemberSubscription, 0, len(resp.Members))
	topicSet := make(map[string]struct{})
	for _, jm := range resp.Members {
		s, err := DecodeSubscription(jm.Metadata)
		if err != nil {
			// A member whose metadata does not decode subscribes to nothing.
			c.logger.Warn("strata/group: undecodable subscription", "group", group, "member", jm.MemberID, "err", err)
			s = Subscription{Generation: noGeneration}
		}
		members = append(members, MemberSubscription{MemberID: jm.MemberID, InstanceID: jm.InstanceID, Subscription: s})
		for _, t := range s.Topics {
			topicSet[t] = struct{}{}
		}
	}
	counts := partitionCounts(c.metadata, slices.Sorted(maps.Keys(topicSet)))
	known := make(map[string]int, len(counts))
	for topic, n := range counts {
		if n >= 0 {
			known[topic] = n
		}
	}
	assigned, err := assignor.Assign(members, known)
	if err != nil {
		return nil, errorf("strata/group: assignor %q: %w", assignor.Name(), err)
	}
	if err := checkAssignment(assignor.Name(), members, known, assigned); err != nil {
		return nil, err
	}
	c.recordAssignedCounts(group, resp.Generation, counts)
	if c.metadataEpoch.Load() != epoch {
		c.NotifyMetadataChanged()
	}
	out := make(map[string][]byte, len(members))
	for _, m := range members {
		out[m.MemberID] = EncodeAssignment(MemberAssignment{Partitions: assigned[m.MemberID]})
	}
	return out, nil
}
