package log

import (
	"slices"
)

// AssignTopics assigns every partition of each named topic, replacing the previous
// assignment as Assign does (partitions that stay assigned keep their positions):
// the way to consume whole topics without a consumer group and without listing
// their partitions. The partitions are those the topics have now; partitions added
// later (AddPartitions) are not assigned until AssignTopics is called again. An
// unknown topic, no topic at all (ErrInvalidArgument) or an offline partition fails
// the call and changes nothing. Internal topics may be named, as in Kafka.
func (c *Consumer) AssignTopics(topics ...string) error {
	if err := c.usable(); err != nil {
		return err
	}
	if len(topics) == 0 {
		return errorf("strata/log: assign topics: no topic given: %w", ErrInvalidArgument)
	}
	var tps []TopicPartition
	for _, name := range topics {
		t, err := c.s.lookupTopic(name)
		if err != nil {
			return err
		}
		for i := range len(t.partitions) {
			tps = append(tps, TopicPartition{Topic: name, Partition: int32(i)})
		}
	}
	return c.Assign(tps...)
}

// Pause stops Poll and Next from returning records of tps (Kafka's pause) until
// Resume: their positions are kept, and Poll does not wait for them. With every
// assigned partition paused, Poll and Next wait until ctx ends or the consumer is
// closed. A partition that is not assigned fails the call (ErrUnknownPartition) and
// changes nothing; Assign keeps the pause of partitions that stay assigned, and
// forgets the others.
func (c *Consumer) Pause(tps ...TopicPartition) error {
	return c.setPaused(tps, true)
}

// Resume lets Poll and Next return records of tps again, from their positions.
// A partition that is not assigned fails the call (ErrUnknownPartition) and changes
// nothing; resuming one that is not paused does nothing.
func (c *Consumer) Resume(tps ...TopicPartition) error {
	return c.setPaused(tps, false)
}

// Paused returns the paused partitions, in Assign order.
func (c *Consumer) Paused() []TopicPartition {
	var tps []TopicPartition
	for _, a := range c.assigned {
		if a.paused {
			tps = append(tps, a.tp)
		}
	}
	return tps
}

func (c *Consumer) setPaused(tps []TopicPartition, paused bool) error {
	targets, err := c.lookupEach(tps)
	if err != nil {
		return err
	}
	for _, a := range targets {
		a.paused = paused
	}
	if paused && c.current != nil && slices.Contains(targets, c.current) {
		// Next turns to the partition after it (its run is over), keeping the
		// turns; resuming it, which is not paused, changes nothing.
		c.run = c.opts.MaxPollRecords
	}
	return nil
}
