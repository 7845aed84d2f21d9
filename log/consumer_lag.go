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
// its partition's end offset. With no partition assigned it is true. It costs a
// look at each partition's end offset; to read until caught up, TryNext returning
// nil says the same for free.
func (c *Consumer) CaughtUp() (bool, error) {
	if err := c.usable(); err != nil {
		return false, err
	}
	for _, a := range c.assigned {
		if !a.positioned { // the Reset policy gives it a position first
			if lag, err := c.Lag(a.tp); err != nil || lag > 0 {
				return false, err
			}
			continue
		}
		if a.position() < a.p.EndOffset() {
			return false, nil
		}
	}
	return true, nil
}
