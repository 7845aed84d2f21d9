package kafka

import (
	"context"
	"errors"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleFetch answers Fetch (v13+ names topics by ID: resolveFetchTopicIDs):
// per partition the record batches from the fetch offset as the segments hold
// them (the whole batch holding the offset first, at least one batch, up to the
// partition's and then the request's byte limits), below the high watermark or,
// read_committed, the last stable offset, with the aborted transactions among
// them. It waits up to MaxWaitMillis for MinBytes (a long poll), woken by appends,
// never polling, and answers at once if reading a partition failed, as Kafka
// (fetchWaitPositions). Fetch sessions (KIP-227, v7+) are kept as Kafka keeps
// them (fetch_session.go): an incremental fetch is turned into a fetch of every
// partition of its session, and its answer keeps only the partitions with news.
//
// The batches are never copied into the response: it holds the store's results
// (a fetchResponse) until the connection has written it, sending each batch range
// straight from its segment file with sendfile where it can (fetch_write.go).
func handleFetch(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.FetchRequest)
	resp := &fetchResponse{FetchResponse: kmsg.NewPtrFetchResponse()}
	resp.Version = req.Version
	defer r.addFetchLeaderHints(resp.FetchResponse) // KIP-951, on a listener of one broker

	session, code := r.server.beginFetchSession(req) // req: every partition of its session
	if code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	defer session.end(req, resp) // after answerUnknownTopicIDs: the session's id, the partitions with news
	defer answerUnknownTopicIDs(resp.FetchResponse, resolveFetchTopicIDs(r.store, req))
	level := log.ReadUncommitted
	if req.IsolationLevel == 1 {
		level = log.ReadCommitted
	}
	ctx := r.ctx
	var deadline time.Time
	if req.MaxWaitMillis > 0 {
		deadline = time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	}
	for {
		total := fillFetch(ctx, r.partitions(), req, level, resp)
		total -= dropRecreatedTopics(r.store, req, resp)
		positions, now := fetchWaitPositions(req, resp.FetchResponse)
		if now || total >= int(req.MinBytes) || deadline.IsZero() || !time.Now().Before(deadline) {
			return resp, nil
		}
		waitCtx, cancel := context.WithDeadline(ctx, deadline)
		go func() { // ends with waitCtx, which cancel below ends at the latest
			select {
			case <-r.server.draining: // shutting down: answer with what there is
				cancel()
			case <-waitCtx.Done():
			}
		}()
		err := r.partitions().WaitForData(waitCtx, level, positions)
		cancel()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			fillFetch(ctx, r.partitions(), req, level, resp)
			dropRecreatedTopics(r.store, req, resp)
			return resp, nil
		case err != nil && (ctx.Err() != nil || r.server.closing.Load()):
			return resp, nil
		}
	}
}

// fillFetch sets resp's topics to what the store holds now for req, holding the
// store's results (those of an earlier fill released), and returns the bytes of
// batches it holds.
func fillFetch(ctx context.Context, store partitionServer, req *kmsg.FetchRequest, level log.IsolationLevel, resp *fetchResponse) int {
	resp.release()
	budget := int(req.MaxBytes)
	if req.Version < 3 || budget <= 0 {
		budget = int(^uint(0) >> 1)
	}
	total := 0
	resp.Topics = resp.Topics[:0]
	for _, t := range req.Topics {
		topic := kmsg.NewFetchResponseTopic()
		topic.Topic, topic.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			part := kmsg.NewFetchResponseTopicPartition()
			part.Partition = p.Partition
			part.HighWatermark, part.LastStableOffset, part.LogStartOffset = -1, -1, -1
			part.PreferredReadReplica = -1
			// Empty, not null: kmsg writes a nil slice as a null record set
			// (size -1), which Kafka never sends and librdkafka refuses.
			part.RecordBatches = []byte{}
			maxBytes := int(p.PartitionMaxBytes)
			if remaining := budget - total; remaining < maxBytes {
				maxBytes = remaining
			}
			held := fetchPartition(ctx, store, log.TopicPartition{Topic: t.Topic, Partition: p.Partition}, p, max(maxBytes, 1), level, &part)
			if total > 0 && total+len(part.RecordBatches) > budget {
				part.RecordBatches = []byte{} // past the request's limit: the next fetch
				held.Release()
			}
			total += len(part.RecordBatches)
			topic.Partitions = append(topic.Partitions, part)
			resp.held = append(resp.held, heldBatches{result: held})
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return total
}

// fetchPartition fills out with one partition's batches and offsets, and returns
// the store's result, which out's batches are a view of (and, with a File, sent
// from), for the response to hold until written; nothing to hold on an error.
func fetchPartition(ctx context.Context, store partitionServer, tp log.TopicPartition, p kmsg.FetchRequestTopicPartition, maxBytes int, level log.IsolationLevel, out *kmsg.FetchResponseTopicPartition) log.FetchResult {
	result, err := store.FetchBatches(ctx, tp, p.FetchOffset, maxBytes, level)
	if err != nil {
		result.Release()
		out.ErrorCode, _ = errorCode(err)
		return log.FetchResult{}
	}
	switch {
	case p.CurrentLeaderEpoch < 0:
	case p.CurrentLeaderEpoch < result.LeaderEpoch:
		result.Release()
		out.ErrorCode = kerr.FencedLeaderEpoch.Code
		return log.FetchResult{}
	case p.CurrentLeaderEpoch > result.LeaderEpoch:
		result.Release()
		out.ErrorCode = kerr.UnknownLeaderEpoch.Code
		return log.FetchResult{}
	}
	out.HighWatermark, out.LastStableOffset, out.LogStartOffset = result.HighWatermark, result.LastStableOffset, result.LogStartOffset
	for _, a := range result.AbortedTransactions {
		aborted := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		aborted.ProducerID, aborted.FirstOffset = a.ProducerID, a.FirstOffset
		out.AbortedTransactions = append(out.AbortedTransactions, aborted)
	}
	if level == log.ReadCommitted && out.AbortedTransactions == nil {
		out.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	}
	if len(result.Batches) > 0 {
		out.RecordBatches = result.Batches // a view, not a copy: held until written
	}
	return result
}
