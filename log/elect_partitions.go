package log

// ElectPreferredLeadersOf is ElectPreferredLeaders of the given partitions only
// (Kafka's ElectLeaders of named partitions): each one's leadership moves back
// to its preferred replica where that one is online and in sync. It returns how
// many moved; an unknown topic is ErrUnknownTopic, an unknown partition
// ErrUnknownPartition, and then none moves. A one-broker store has nothing to
// move.
func (s *Store) ElectPreferredLeadersOf(partitions ...TopicPartition) (int, error) {
	set, err := s.snapshot()
	if err != nil {
		return 0, err
	}
	var names []string
	for _, tp := range partitions {
		t := set[tp.Topic]
		switch {
		case t == nil:
			return 0, errorf("strata/log: elect leaders of %s: %w", tp, ErrUnknownTopic)
		case tp.Partition < 0 || int(tp.Partition) >= len(t.partitions):
			return 0, errorf("strata/log: elect leaders of %s: %w", tp, ErrUnknownPartition)
		}
		names = append(names, partitionDirName(tp.Topic, int(tp.Partition)))
	}
	if s.brokers == nil || len(names) == 0 {
		return 0, nil
	}
	return s.brokers.cluster.ElectPreferred(names...)
}
