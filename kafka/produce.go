package kafka

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxConcurrentAppends bounds how many partitions of one Produce request are
// appended at once: each append may wait for an fsync or for replicas, which
// the partitions of a request then share, as a Kafka broker's do.
const maxConcurrentAppends = 16

// handleProduce answers Produce: each partition's record batch is appended as the
// client encoded it (the store checks it as Kafka's LogValidator does, and
// assigns its offsets), acknowledged per the request's acks, within its timeout.
// With acks=0 Kafka sends no response: neither does the server (nil). v13 names
// topics by ID: an ID no topic has is UNKNOWN_TOPIC_ID for each of its
// partitions.
func handleProduce(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ProduceRequest)
	opts := log.AppendBatchOptions{Acks: log.AcksAll}
	switch req.Acks {
	case 0:
		opts.Acks = log.AcksNone
	case 1:
		opts.Acks = log.AcksLeader
	}
	if req.TransactionID != nil {
		opts.TransactionalID = *req.TransactionID
	}
	ctx := r.ctx
	if req.TimeoutMillis > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMillis)*time.Millisecond)
		defer cancel()
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = req.Version
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxConcurrentAppends)
	for i, t := range req.Topics {
		out := &resp.Topics[i]
		*out = kmsg.NewProduceResponseTopic()
		out.Topic, out.TopicID = t.Topic, t.TopicID
		known := true
		if req.Version >= 13 {
			t.Topic, known = topicNameOf(r.store, t.TopicID)
		}
		out.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(t.Partitions))
		for j, p := range t.Partitions {
			part := &out.Partitions[j]
			*part = kmsg.NewProduceResponseTopicPartition()
			part.Partition, part.BaseOffset, part.LogAppendTime, part.LogStartOffset = p.Partition, -1, -1, -1
			if !known {
				part.ErrorCode = kerr.UnknownTopicID.Code
				continue
			}
			tp := log.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				appendPartition(ctx, r.partitions(), tp, p.Records, opts, part)
			}()
		}
	}
	wg.Wait()
	if req.Acks == 0 {
		if err := acksNoneError(resp); err != nil {
			// As Kafka's KafkaApis: no response is expected, so the connection
			// is closed for the producer to see that something failed and
			// refresh its metadata (a leader that moved, a topic deleted).
			r.conn.closeAfterResponse = err
		}
		return nil, nil
	}
	r.addProduceLeaderHints(resp) // KIP-951, on a listener of one broker
	return resp, nil
}

// acksNoneError returns an error naming the partitions of an acks=0 Produce
// that failed, nil if none did.
func acksNoneError(resp *kmsg.ProduceResponse) error {
	var failed []string
	for _, t := range resp.Topics {
		name := t.Topic
		if name == "" {
			name = log.TopicID(t.TopicID).String()
		}
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				failed = append(failed, fmt.Sprintf("%s-%d: %s", name, p.Partition, kerr.ErrorForCode(p.ErrorCode)))
			}
		}
	}
	if failed == nil {
		return nil
	}
	return fmt.Errorf("a Produce with acks=0 failed (%s): closing the connection so that the producer refreshes its metadata", strings.Join(failed, ", "))
}

// appendPartition appends one partition's records of a Produce request and fills
// its answer.
func appendPartition(ctx context.Context, store partitionServer, tp log.TopicPartition, records []byte, opts log.AppendBatchOptions, out *kmsg.ProduceResponseTopicPartition) {
	if len(records) == 0 {
		out.ErrorCode = kerr.InvalidRecord.Code
		out.ErrorMessage = message("no record batch")
		return
	}
	base, err := store.AppendBatch(ctx, tp, records, opts)
	if err != nil {
		out.ErrorCode, out.ErrorMessage = errorCode(err)
		return
	}
	out.BaseOffset = base
}
