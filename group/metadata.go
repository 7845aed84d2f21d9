package group

import "maps"

// Metadata is what the coordinator needs to know about topics: how many partitions
// a topic has, for assignors and to notice a subscribed topic growing or vanishing,
// and a partition's end offset, for lag. The log package provides it from its
// topics. Implementations must be safe for concurrent use; the coordinator never
// calls them with its own lock held, so they may call back into the coordinator.
type Metadata interface {
	// Partitions returns the number of partitions of topic; false if the topic does
	// not exist.
	Partitions(topic string) (int, bool)
	// EndOffset returns the end offset of a partition (its high watermark: the
	// offset after the last record a consumer can read); false if unknown.
	EndOffset(tp TopicPartition) (int64, bool)
}

// noMetadata knows no topics: the Metadata of a Coordinator without
// Options.Metadata.
type noMetadata struct{}

func (noMetadata) Partitions(string) (int, bool)          { return 0, false }
func (noMetadata) EndOffset(TopicPartition) (int64, bool) { return 0, false }

// partitionCounts returns the partition counts of topics, -1 for a topic that does
// not exist.
func partitionCounts(md Metadata, topics []string) map[string]int {
	counts := make(map[string]int, len(topics))
	for _, topic := range topics {
		n, ok := md.Partitions(topic)
		if !ok {
			n = -1
		}
		counts[topic] = n
	}
	return counts
}

// NotifyMetadataChanged tells the coordinator that topics changed: created,
// deleted, or given more partitions. Every consumer group whose current assignment
// was computed (by an in-process leader) from partition counts that differ now
// rebalances. The log package calls it after every topic change. (A remote Kafka
// leader watches the metadata itself and rejoins, as Kafka's clients do.)
func (c *Coordinator) NotifyMetadataChanged() {
	c.metadataEpoch.Add(1)
	c.metadataChanged.Lock()
	if c.metadataChanged.ch != nil {
		close(c.metadataChanged.ch)
		c.metadataChanged.ch = nil
	}
	c.metadataChanged.Unlock()
	type check struct {
		g          *groupMetadata
		generation int32
		counts     map[string]int
	}
	var checks []check
	c.mu.Lock()
	for _, g := range c.mu.groups {
		if g.assignedCounts != nil && (g.state == CompletingRebalance || g.state == Stable) {
			checks = append(checks, check{g: g, generation: g.generation, counts: g.assignedCounts})
		}
	}
	c.mu.Unlock()
	for i := range checks {
		topics := make([]string, 0, len(checks[i].counts))
		for topic := range checks[i].counts {
			topics = append(topics, topic)
		}
		checks[i].counts = partitionCounts(c.metadata, topics) // now: without the lock
	}
	var out outbox
	c.mu.Lock()
	if !c.mu.closed {
		now := c.now()
		for _, ch := range checks {
			g := ch.g
			if c.mu.groups[g.id] != g || g.generation != ch.generation || (g.state != CompletingRebalance && g.state != Stable) {
				continue
			}
			if !maps.Equal(g.assignedCounts, ch.counts) {
				c.prepareRebalanceLocked(g, "partition counts of subscribed topics changed", now, &out)
				c.tryCompleteJoinLocked(g, now, &out)
			}
		}
	}
	c.mu.Unlock()
	c.finish(&out)
}

// recordAssignedCounts remembers the partition counts the leader of generation
// assigned with, for NotifyMetadataChanged.
func (c *Coordinator) recordAssignedCounts(group string, generation int32, counts map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.mu.groups[group]; g != nil && g.generation == generation && g.state == CompletingRebalance {
		g.assignedCounts = counts
		g.assignedGeneration = generation
	}
}

// MetadataChanged returns a channel closed at the next NotifyMetadataChanged: a
// member subscribed by pattern lists the topics again then (take the channel
// before listing them, so that no change is missed).
func (c *Coordinator) MetadataChanged() <-chan struct{} {
	c.metadataChanged.Lock()
	defer c.metadataChanged.Unlock()
	if c.metadataChanged.ch == nil {
		c.metadataChanged.ch = make(chan struct{})
	}
	return c.metadataChanged.ch
}
