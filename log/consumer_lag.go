package log

// Lag returns how many offsets of tp lie between where the consumer reads tp next
// and the partition's end offset (Kafka's records-lag, the Java consumer's
// currentLag): 0 once the consumer has read everything produced so far. In
// ReadCommitted the end is the last stable offset, as for Kafka's read_committed
// consumers: records of a transaction still open do not count. A
// partition without a position gets one from the Reset policy first, as Position
// does. A position outside the partition's records (sought past the end, or below
// the start after retention or DeleteRecords) is counted from where the Reset
// policy will move it at the next read, without moving it now; with ResetNone,
// Lag then returns the error the read will (ErrOffsetOutOfRange). tp must be
// assigned (ErrUnknownPartition).
//
// The lag counts offsets, not records: offsets without a record (removed by
// compaction, given up by RepairPartition, transaction markers, and in
// ReadCommitted aborted transactions) count until the consumer's position passes
// them, which reading does at once.
func (c *Consumer) Lag(tp TopicPartition) (int64, error) {
	a, err := c.lookup(tp)
	if err != nil {
		return 0, err
	}
	return c.lag(a)
}

// CaughtUp reports whether the consumer has read every record of every assigned
// partition (paused ones included) produced before the call: Lag is 0 for each,
// and TryNext would return nil (paused partitions aside). With no partition
// assigned it is true. Errors are Lag's. It costs a look at each partition's start
// and end offsets; to read until caught up, TryNext returning nil says the same
// for free.
func (c *Consumer) CaughtUp() (bool, error) {
	if err := c.usable(); err != nil {
		return false, err
	}
	for _, a := range c.assigned {
		c.rebindIfReplaced(a)
		if lag, err := c.lag(a); err != nil || lag > 0 {
			return false, err
		}
	}
	return true, nil
}

// lag returns how many offsets lie between where the next read of a starts and
// a's end offset (last stable offset in ReadCommitted).
func (c *Consumer) lag(a *assignment) (int64, error) {
	if !a.positioned {
		if err := c.reset(a, errorf("strata/log: lag of %s: no position and Reset is %v: %w", a.tp, c.opts.Reset, ErrOffsetOutOfRange)); err != nil {
			return 0, err
		}
	}
	position, start, end := a.position(), a.p.StartOffset(), a.p.EndOffset()
	stop := end
	if c.opts.IsolationLevel == ReadCommitted {
		stop = a.p.LastStableOffset()
	}
	if a.pending == nil && (position < start || position > end) {
		// Out of range: the next read moves it by the Reset policy (a record held
		// back by Poll is returned as it is).
		switch c.opts.Reset {
		case ResetEarliest:
			position = start
		case ResetLatest:
			position = stop
		default:
			return 0, errorf("strata/log: lag of %s: position %d is outside the records (start offset %d, end offset %d) and Reset is %v: %w", a.tp, position, start, end, c.opts.Reset, ErrOffsetOutOfRange)
		}
	}
	return max(stop-position, 0), nil
}
