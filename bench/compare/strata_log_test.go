package compare

import (
	"context"
	"errors"
	"testing"
	"time"

	strlog "github.com/stratalog/strata/log"
	"github.com/stratalog/strata/segment"
)

// strataLogStore is a strata store (package log, what most applications open):
// one topic of one partition, written with Store.Produce and read with a
// Consumer, the counterpart of the peers that are brokers (NATS JetStream, kfake)
// and are used through a client: topic lookup, partitioning, records copied out
// to the caller on Poll.
//
// Settings as strataStore's: SyncEveryAppend or SyncNone, 2 GiB segments, or
// segments sized to hold segmentRecords records (rolled by the store, inside
// Produce, as the segment fills).
type strataLogStore struct {
	store   *strlog.Store
	reader  *strlog.Consumer
	locator *strlog.Consumer
	tp      strlog.TopicPartition
}

const strataTopic = "bench"

// strataLookupBatchBytes is the size of a strata batch of 100 records of 100 B.
const strataLookupBatchBytes = 11_033

func openStrataLog(tb testing.TB, dir string, cfg config) (store, string) {
	s, err := strlog.Open(dir, &strlog.Options{RetentionCheckInterval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	topic := strlog.TopicConfig{
		Partitions:    1,
		SegmentBytes:  segment.MaxSegmentBytes,
		MaxBatchBytes: 2 << 20,
		Sync:          strlog.SyncPolicy{Mode: strlog.SyncNone},
	}
	if cfg.sync {
		topic.Sync.Mode = strlog.SyncEveryAppend
	}
	if cfg.segmentRecords > 0 {
		topic.SegmentBytes = int64(cfg.segmentRecords / lookupBatch * strataLookupBatchBytes)
	}
	if err := s.CreateTopic(context.Background(), strataTopic, topic); err != nil {
		_ = s.Close()
		tb.Fatal(err)
	}
	return &strataLogStore{store: s, tp: strlog.TopicPartition{Topic: strataTopic}}, ""
}

func (s *strataLogStore) prepare(values [][]byte) any {
	at := time.UnixMilli(baseTimestamp)
	records := make([]*strlog.Record, len(values))
	for i, v := range values {
		records[i] = &strlog.Record{Topic: strataTopic, ExplicitPartition: true, Value: v, Timestamp: at}
	}
	return records
}

func (s *strataLogStore) append(batch any) error {
	return s.store.Produce(context.Background(), batch.([]*strlog.Record)...)
}

func (s *strataLogStore) close() error { return s.store.Close() }

// readAll reads with Consumer.Next from the beginning: the fastest public way to
// consume, records not copied (valid until the next call), as the Reader of lib=strata.
func (s *strataLogStore) readAll(n int) (int64, error) {
	ctx := context.Background()
	if s.reader == nil {
		c, err := s.store.NewConsumer(strlog.ConsumerOptions{})
		if err != nil {
			return 0, err
		}
		if err := c.AssignTopics(strataTopic); err != nil {
			return 0, err
		}
		s.reader = c
	}
	if err := s.reader.SeekToBeginning(); err != nil {
		return 0, err
	}
	var valueBytes int64
	for range n {
		r, err := s.reader.Next(ctx)
		if err != nil {
			return valueBytes, err
		}
		valueBytes += int64(len(r.Value))
	}
	return valueBytes, nil
}

// get seeks a Consumer with MaxPollRecords 1 to offset i and polls.
func (s *strataLogStore) get(i int64) ([]byte, error) {
	if s.locator == nil {
		c, err := s.store.NewConsumer(strlog.ConsumerOptions{MaxPollRecords: 1})
		if err != nil {
			return nil, err
		}
		if err := c.Assign(s.tp); err != nil {
			return nil, err
		}
		s.locator = c
	}
	if err := s.locator.Seek(s.tp, i); err != nil {
		return nil, err
	}
	polled, err := s.locator.Poll(context.Background())
	if err != nil {
		return nil, err
	}
	if len(polled) != 1 || polled[0].Offset != i {
		return nil, errors.New("strata log: record not found")
	}
	return polled[0].Value, nil
}

func (s *strataLogStore) segments() int {
	for _, t := range s.store.Stats().Topics {
		if t.Name == strataTopic && len(t.Partitions) == 1 {
			return t.Partitions[0].Segments
		}
	}
	return 0
}
