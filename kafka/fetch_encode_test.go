package kafka

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/segment"
)

// fetchResponseForEncoding returns a Fetch response of version v whose fields
// all differ from their defaults somewhere: record sets null, empty and full,
// aborted transactions null, empty and listed, and in a flexible version every
// tagged field kmsg writes (DivergingEpoch, CurrentLeader, SnapshotID, Brokers)
// and unknown tags at every level.
func fetchResponseForEncoding(v int16) *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = v
	resp.ThrottleMillis, resp.ErrorCode, resp.SessionID = 17, 0, 123456
	for ti, name := range []string{"orders", "", "a-much-longer-topic-name-" + string(bytes.Repeat([]byte("x"), 150))} {
		topic := kmsg.NewFetchResponseTopic()
		topic.Topic = name
		topic.TopicID = [16]byte{byte(ti + 1), 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(ti)}
		for pi := range 4 {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition = int32(pi)
			p.ErrorCode = int16(pi % 2)
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = int64(1000*ti+pi), int64(900*ti+pi), int64(pi)
			p.PreferredReadReplica = int32(pi - 1)
			switch pi {
			case 0: // null records, null aborted transactions
			case 1:
				p.RecordBatches = []byte{}
				p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			default:
				p.RecordBatches = bytes.Repeat([]byte{byte(ti), byte(pi)}, 70*pi)
				for a := range pi {
					aborted := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
					aborted.ProducerID, aborted.FirstOffset = int64(a+7), int64(100*a)
					if a == 1 {
						aborted.UnknownTags.Set(9, []byte("abort-tag"))
					}
					p.AbortedTransactions = append(p.AbortedTransactions, aborted)
				}
			}
			if pi == 2 {
				p.DivergingEpoch.Epoch, p.DivergingEpoch.EndOffset = 3, 77
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = 1, 5
				p.CurrentLeader.UnknownTags.Set(4, []byte{1, 2})
				p.SnapshotID.EndOffset, p.SnapshotID.Epoch = 55, 2
				p.UnknownTags.Set(7, []byte("partition-tag"))
				p.UnknownTags.Set(5, nil)
			}
			if pi == 3 {
				p.CurrentLeader.LeaderID = 2 // the epoch stays -1: the field is still written
			}
			topic.Partitions = append(topic.Partitions, p)
		}
		if ti == 1 {
			topic.UnknownTags.Set(3, []byte("topic-tag"))
		}
		resp.Topics = append(resp.Topics, topic)
	}
	rack := "rack-1"
	for id := range 2 {
		b := kmsg.NewFetchResponseBroker()
		b.NodeID, b.Host, b.Port = int32(id), fmt.Sprintf("broker-%d.example", id), 9092+int32(id)
		if id == 1 {
			b.Rack = &rack
			b.UnknownTags.Set(1, []byte("broker-tag"))
		}
		resp.Brokers = append(resp.Brokers, b)
	}
	resp.UnknownTags.Set(11, []byte("response-tag"))
	return resp
}

// TestFetchEncodeMatchesKmsgEveryVersion checks that the Fetch encoding, with
// the batches in the buffer, is kmsg's byte for byte at every version served,
// and that kmsg decodes it; and that an empty response and a version encoded by
// kmsg are too.
func TestFetchEncodeMatchesKmsgEveryVersion(t *testing.T) {
	for v := int16(0); v <= (&kmsg.FetchRequest{}).MaxVersion(); v++ {
		for _, resp := range []*kmsg.FetchResponse{fetchResponseForEncoding(v), {Version: v}} {
			want := appendResponse(nil, 42, resp)
			got, splices := appendFetchResponse([]byte("prefix"), 42, resp, nil, nil)
			require.Empty(t, splices)
			require.Equal(t, want, got[len("prefix"):], "version %d", v)
			if v < minEncodedFetchVersion || v > maxEncodedFetchVersion {
				continue
			}
			req := kmsg.NewPtrFetchRequest()
			req.Version = v
			decoded, correlationID := decodeResponse(t, req, want[4:])
			require.Equal(t, int32(42), correlationID)
			require.Equal(t, len(resp.Topics), len(decoded.(*kmsg.FetchResponse).Topics))
			for i, topic := range decoded.(*kmsg.FetchResponse).Topics {
				for j, p := range topic.Partitions {
					require.Equal(t, resp.Topics[i].Partitions[j].RecordBatches, p.RecordBatches, "version %d", v)
				}
			}
		}
	}
}

// fetchTestStore returns a store on the OS filesystem with topic "t" of three
// partitions of small segments, each holding batches of 1 to 30 records.
func fetchTestStore(t testing.TB) *log.Store {
	store, err := log.Open(t.TempDir(), &log.Options{RetentionCheckInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	require.NoError(t, store.CreateTopic(ctx, "t", log.TopicConfig{Partitions: 3, SegmentBytes: 8 << 10}))
	for i := range 90 {
		records := make([]segment.Record, 1+i%30)
		for j := range records {
			records[j] = segment.Record{Timestamp: 1_700_000_000_000, Key: fmt.Appendf(nil, "k%d", j), Value: fmt.Appendf(nil, "%d-%d-%0*d", i, j, i%50, j)}
		}
		o := &segment.BatchOptions{}
		if i%4 == 3 {
			o.Compression = segment.CompressionSnappy
		}
		batch, err := segment.AppendBatch(nil, records, o)
		require.NoError(t, err)
		_, err = store.AppendBatch(ctx, log.TopicPartition{Topic: "t", Partition: int32(i % 3)}, batch, log.AppendBatchOptions{})
		require.NoError(t, err)
	}
	return store
}

// TestFetchEncodeSplicesFileBatches checks, at every version, that a response
// the store filled encodes as kmsg's encoding of it once each file's bytes are
// put at its splice: the fields around the batches, the lengths and the size
// count them.
func TestFetchEncodeSplicesFileBatches(t *testing.T) {
	store := fetchTestStore(t)
	topicID, err := store.TopicID("t")
	require.NoError(t, err)
	for v := int16(minEncodedFetchVersion); v <= maxEncodedFetchVersion; v++ {
		for _, offsets := range [][3]int64{{0, 0, 0}, {5, 140, 999}, {17, 0, 300}} {
			req := kmsg.NewPtrFetchRequest()
			req.Version, req.MaxBytes = v, 20000
			topic := kmsg.NewFetchRequestTopic()
			topic.Topic, topic.TopicID = "t", topicID
			for p, offset := range offsets {
				part := kmsg.NewFetchRequestTopicPartition()
				part.Partition, part.FetchOffset, part.PartitionMaxBytes = int32(p), offset, 7000
				topic.Partitions = append(topic.Partitions, part)
			}
			req.Topics = append(req.Topics, topic, kmsg.FetchRequestTopic{Topic: "missing", TopicID: [16]byte{9}, Partitions: topic.Partitions[:1]})
			resp := &fetchResponse{FetchResponse: kmsg.NewPtrFetchResponse()}
			resp.Version = v
			fillFetch(context.Background(), store, req, log.ReadUncommitted, resp)
			files := resp.files()
			require.NotEmpty(t, files, "version %d, offsets %v: batches from files", v, offsets)

			framed, splices := appendFetchResponse(nil, 9, resp.FetchResponse, files, nil)
			var whole []byte
			at := 0
			for _, sp := range splices {
				whole = append(whole, framed[at:sp.at]...)
				f := sp.batches.result.File
				b := make([]byte, f.Len())
				_, err := f.File().ReadAt(b, f.Pos())
				require.NoError(t, err)
				require.Equal(t, sp.batches.result.Batches, b)
				whole = append(whole, b...)
				at = sp.at
			}
			whole = append(whole, framed[at:]...)
			require.Equal(t, appendResponse(nil, 9, resp.FetchResponse), whole, "version %d, offsets %v", v, offsets)
			resp.release()
		}
	}
}
