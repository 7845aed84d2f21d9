package group

import (
	"context"
	"slices"
)

// DeleteOffsets deletes group's committed offsets of partitions (Kafka's
// OffsetDelete), with tombstones in the offsets log, and returns each
// partition's outcome: nil (deleted, or there was none), or
// ErrGroupSubscribedToTopic for a partition of a topic the group's members
// consume, whose offsets stay. As in Kafka, an Empty group loses every offset
// asked for; a consumer group with members keeps those of the topics its
// members subscribe to (all of them while no protocol is selected yet, in the
// group's first rebalance); a group of another protocol type with members
// refuses the whole request with ErrNonEmptyGroup. Pending transactional offsets
// of a deleted partition are deleted too, as DeleteGroup deletes them. Errors:
// ErrGroupNotFound, ErrNonEmptyGroup, ErrInvalidGroupID, ErrCoordinatorClosed.
func (c *Coordinator) DeleteOffsets(ctx context.Context, group string, partitions []TopicPartition) (map[TopicPartition]error, error) {
	if err := validateGroupID(group); err != nil {
		return nil, err
	}
	unlock, err := c.lockGroup(ctx, group)
	if err != nil {
		return nil, err
	}
	defer unlock()
	subscribed, err := c.subscribedTopics(group)
	if err != nil {
		return nil, err
	}
	offsets := c.store.Offsets(group)
	pending := c.store.PendingTxnPartitions(group)
	results := make(map[TopicPartition]error, len(partitions))
	var deletes []TopicPartition
	for _, tp := range partitions {
		if subscribed != nil && subscribed(tp.Topic) {
			results[tp] = ErrGroupSubscribedToTopic
			continue
		}
		results[tp] = nil
		_, committed := offsets[tp]
		if (committed || slices.Contains(pending, tp)) && !slices.Contains(deletes, tp) {
			deletes = append(deletes, tp)
		}
	}
	if len(deletes) == 0 {
		return results, nil
	}
	slices.SortFunc(deletes, compareTopicPartitions)
	if err := c.store.Write(ctx, group, Write{Deletes: deletes}); err != nil {
		return nil, errorf("strata/group: deleting offsets of group %q: %w", group, err)
	}
	return results, nil
}

// subscribedTopics returns, for a group with members, whether its members
// subscribe to a topic; nil for an Empty group (nothing is subscribed).
func (c *Coordinator) subscribedTopics(group string) (func(topic string) bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.mu.groups[group]
	switch {
	case c.mu.closed:
		return nil, ErrCoordinatorClosed
	case g == nil:
		return nil, ErrGroupNotFound
	case g.state == Empty:
		return nil, nil
	case g.protocolType != ProtocolTypeConsumer:
		return nil, ErrNonEmptyGroup
	}
	everything := func(string) bool { return true }
	if g.protocol == "" {
		return everything, nil // no protocol selected yet: subscriptions unknown
	}
	topics := map[string]bool{}
	for _, m := range g.members {
		s, err := DecodeSubscription(m.protocolMetadata(g.protocol))
		if err != nil {
			return everything, nil
		}
		for _, topic := range s.Topics {
			topics[topic] = true
		}
	}
	return func(topic string) bool { return topics[topic] }, nil
}
