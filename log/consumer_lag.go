package log

// Lag returns how many offsets of tp lie between the consumer's position and the
// partition's end offset (Kafka's records-lag, the Java consumer's currentLag): 0
// once the consumer has read everything produced so far. A partition without a
// position gets one from the Reset policy first, as Position does. tp must be
// assigned (ErrUnknownPartition).
//
// On a compacted topic, or after DeleteRecords, the lag counts offsets, not records:
// offsets removed count until the consumer's position passes them.
func (c *Consumer) Lag(tp TopicPartition) (int64, error) {
	position, err := c.Position(tp)
	if err != nil {
		return 0, err
	}
	a, err := c.lookup(tp)
	if err != nil {
		return 0, err
	}
	return max(a.p.EndOffset()-position, 0), nil
}

// CaughtUp reports whether the consumer has read every record of every assigned
// partition (paused ones included) produced before the call: each position is at
// its partition's end offset. An application that rebuilds state from a topic at
// start-up (a table from a compacted topic) consumes until CaughtUp is true, then
// serves; records produced meanwhile come with the next Polls. With no partition
// assigned it is true.
func (c *Consumer) CaughtUp() (bool, error) {
	for _, tp := range c.Assignment() {
		lag, err := c.Lag(tp)
		if err != nil {
			return false, err
		}
		if lag > 0 {
			return false, nil
		}
	}
	if err := c.usable(); err != nil {
		return false, err
	}
	return true, nil
}
