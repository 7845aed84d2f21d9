package log

import (
	"context"
	"reflect"

	"github.com/stratalog/strata/replica"
)

// WaitForData blocks until a record past the given position of one of the
// partitions may be readable at level (its high watermark, or for ReadCommitted
// its last stable offset, moved above the position), or ctx ends (ctx.Err()): the
// wait of a long-poll fetch (Kafka's MaxWaitMs; the server fetches again after it,
// and waits again while fewer than MinBytes came). It returns nil at once if such
// a record is readable already, or if a partition cannot be waited on (unknown,
// offline, without a leader: the fetch reports why); it also returns nil when a
// partition's leadership moves, a partition closes, or the store closes, and may
// return spuriously: fetch again and check. It starts no goroutine and polls
// nothing: it waits on the partitions' own notifications.
func (s *Store) WaitForData(ctx context.Context, level IsolationLevel, positions map[TopicPartition]int64) error {
	return s.waitForData(ctx, nil, level, positions)
}

// waitForData is WaitForData on broker's logs (nil: the leaders').
func (s *Store) waitForData(ctx context.Context, broker *replica.BrokerID, level IsolationLevel, positions map[TopicPartition]int64) error {
	if problem := checkIsolationLevel(level); problem != "" {
		return errorf("strata/log: wait for data: %s: %w", problem, ErrInvalidArgument)
	}
	cases := make([]reflect.SelectCase, 0, len(positions)+3)
	cases = append(cases,
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s.stop)})
	if s.brokers != nil {
		// A leadership moved: the partitions' logs to wait on may have changed.
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s.brokers.cluster.StateApplied())})
	}
	for tp, offset := range positions {
		p, _, err := s.servedLog(broker, tp)
		if err != nil {
			return nil
		}
		ready := readableFor(p, offset, level)
		select {
		case <-ready:
			return nil
		default:
		}
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ready)})
	}
	if chosen, _, _ := reflect.Select(cases); chosen == 0 {
		return ctx.Err()
	}
	return nil
}
