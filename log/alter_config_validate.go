package log

import "strconv"

// ValidateAlterTopicConfig checks an AlterTopicConfig of the named topic as
// AlterTopicConfig does, against the topic and the store as they are now, and
// changes nothing (Kafka's validate-only AlterConfigs). It returns the error
// AlterTopicConfig would return before writing anything: a *ConfigError
// (ErrInvalidConfig) naming every problem, the limits that involve several
// configs or the store's brokers included, ErrUnknownTopic or ErrInternalTopic.
func (s *Store) ValidateAlterTopicConfig(name string, set TopicConfig, reset ...string) error {
	what := strconv.Quote(name)
	if err := checkConfig(what, alterProblems(set, reset)); err != nil {
		return err
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	topics, err := s.snapshot()
	if err != nil {
		return err
	}
	old := topics[name]
	switch {
	case old == nil:
		return errorf("strata/log: alter config of topic %q: %w", name, ErrUnknownTopic)
	case old.internal:
		return errorf("strata/log: alter config of topic %q: %w", name, ErrInternalTopic)
	}
	own := alteredConfig(old.own, set, reset)
	if err := checkConfig(what, own.problems("")); err != nil {
		return err
	}
	effective := own.inherit(s.opts.TopicDefaults)
	effective.Partitions = old.config.Partitions
	effective.ReplicationFactor = old.config.ReplicationFactor
	return s.checkReplication(name, effective)
}
