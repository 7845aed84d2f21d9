package log

// Pause stops Poll and Consume from returning records of tps, partitions the
// consumer owns now (Kafka's pause, for an application that cannot take more for a
// while): their positions are kept, and the member stays in the group, heartbeating,
// however long they stay paused; as in Kafka, the application must still call Poll
// within MaxPollInterval. A partition the consumer does not own fails the call
// (ErrUnknownPartition) and nothing changes. A pause lasts while the consumer owns
// the partition, as in the Java consumer: a rebalance that takes it away forgets the
// pause, and a partition assigned later starts unpaused.
func (g *GroupConsumer) Pause(tps ...TopicPartition) error {
	return g.setPaused(tps, true)
}

// Resume lets Poll and Consume return records of tps again, from their positions,
// and wakes a Poll waiting for records. A partition the consumer does not own fails
// the call (ErrUnknownPartition) and nothing changes; resuming one that is not
// paused does nothing.
func (g *GroupConsumer) Resume(tps ...TopicPartition) error {
	return g.setPaused(tps, false)
}

// Paused returns the partitions the consumer owns and has paused.
func (g *GroupConsumer) Paused() []TopicPartition {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.inner.Paused()
}

func (g *GroupConsumer) setPaused(tps []TopicPartition, paused bool) error {
	if err := g.usable(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var err error
	if paused {
		err = g.mu.inner.Pause(tps...)
	} else {
		err = g.mu.inner.Resume(tps...)
	}
	if err != nil {
		return err
	}
	g.changedLocked() // a waiting Poll looks at its partitions again
	return nil
}
