package log

import (
	"context"
	"slices"

	"github.com/stratalog/strata/group"
)

// matchingTopics returns the store's topics whose name TopicPattern matches,
// sorted; internal topics never match.
func (g *GroupConsumer) matchingTopics() []string {
	set, err := g.s.snapshot()
	if err != nil {
		return nil
	}
	var topics []string
	for name, t := range set {
		if !t.internal && g.opts.TopicPattern.MatchString(name) {
			topics = append(topics, name)
		}
	}
	slices.Sort(topics)
	return topics
}

// followPattern keeps the subscription of a consumer subscribed by TopicPattern
// equal to the topics that match, listing them again at every topic change the
// coordinator hears of; a change makes the member rejoin at once.
func (g *GroupConsumer) followPattern(ctx context.Context, coordinator *group.Coordinator) {
	subscribed := slices.Clone(g.opts.Topics)
	for {
		changed := coordinator.MetadataChanged() // before listing: no change missed
		if topics := g.matchingTopics(); !slices.Equal(topics, subscribed) {
			if err := g.member.Subscribe(topics); err != nil {
				g.s.logger.Error("subscribe to the topics that match", "group", g.opts.Group, "pattern", g.opts.TopicPattern.String(), "err", err)
			} else {
				g.s.logger.Info("subscription follows the topic pattern", "group", g.opts.Group, "topics", topics)
				subscribed = topics
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-g.stop:
			return
		case <-changed:
		}
	}
}
