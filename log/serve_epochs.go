package log

import (
	"context"

	"github.com/stratalog/strata/replica"
)

// EndOffsetForEpoch answers Kafka's OffsetForLeaderEpoch for partition tp from its
// leader's log: the greatest leader epoch at or below epoch that wrote to it and
// the offset where that epoch ended (the start of the next one; the log end offset
// for the latest), by which a consumer detects, after a leader change, records it
// read that the new leader does not have (KIP-320). An epoch above every known one
// answers (-1, -1), as partition.Partition.EndOffsetForEpoch does. Errors are as
// for FetchBatches.
func (s *Store) EndOffsetForEpoch(ctx context.Context, tp TopicPartition, epoch int32) (leaderEpoch int32, endOffset int64, err error) {
	return s.endOffsetForEpoch(ctx, nil, tp, epoch)
}

// EndOffsetForEpoch is Store.EndOffsetForEpoch on this broker: a partition it
// does not lead is a *NotLeaderError.
func (b *ServingBroker) EndOffsetForEpoch(ctx context.Context, tp TopicPartition, epoch int32) (leaderEpoch int32, endOffset int64, err error) {
	return b.s.endOffsetForEpoch(ctx, &b.id, tp, epoch)
}

// endOffsetForEpoch is EndOffsetForEpoch on broker's log (nil: the leader's).
func (s *Store) endOffsetForEpoch(ctx context.Context, broker *replica.BrokerID, tp TopicPartition, epoch int32) (int32, int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, -1, err
	}
	p, _, err := s.servedLog(broker, tp)
	if err != nil {
		return -1, -1, err
	}
	e, end, err := p.EndOffsetForEpoch(epoch)
	if err != nil {
		return -1, -1, s.partitionError("end offset for epoch of", tp, p, err)
	}
	return e, end, nil
}
