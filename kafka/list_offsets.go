package kafka

import (
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The special timestamps of ListOffsets.
const (
	latestTimestamp        = -1 // the end offset (high watermark or, read_committed, last stable offset)
	earliestTimestamp      = -2 // the start offset
	maxTimestamp           = -3 // the record of the largest timestamp (KIP-734), from ListOffsets v7
	earliestLocalTimestamp = -4 // the local start offset (KIP-405): the start offset, all is local
	latestTieredTimestamp  = -5 // the last offset in tiered storage (KIP-1005): none, -1
)

// handleListOffsets answers ListOffsets: for each partition, the offset of its
// start (earliest), its end (latest; read_committed: the last stable offset), or
// the first record at or after a timestamp, with that record's timestamp (-1 and
// -1 where there is none, as Kafka answers), or (-3, v7+, KIP-734) the first
// record of the largest timestamp with that timestamp and its batch's leader epoch
// (Store.ListMaxTimestampOffsets; none in an empty partition, or read_committed
// when it lies in an open transaction: -1 and -1, as Kafka); on a listener of one
// broker, a partition it does not lead is NOT_LEADER_OR_FOLLOWER. Below v7 the
// max-timestamp query answers UNSUPPORTED_VERSION, as Kafka does.
func handleListOffsets(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := kmsg.NewPtrListOffsetsResponse()
	resp.Version = req.Version
	level := log.ReadUncommitted
	if req.IsolationLevel == 1 {
		level = log.ReadCommitted
	}
	for _, t := range req.Topics {
		topic := kmsg.NewListOffsetsResponseTopic()
		topic.Topic = t.Topic
		lister := offsetLister{request: r, store: r.store, topic: t.Topic, level: level, version: req.Version}
		for _, p := range t.Partitions {
			topic.Partitions = append(topic.Partitions, lister.listOffset(p))
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

// offsetLister answers the partitions of one topic of a ListOffsets request,
// asking the store once per kind of offset for the whole topic.
type offsetLister struct {
	request     *request
	store       *log.Store
	topic       string
	level       log.IsolationLevel
	version     int16
	described   bool
	description log.TopicDescription
	describeErr error
	starts      map[log.TopicPartition]int64
	ends        map[log.TopicPartition]int64
	byTime      map[int64]map[log.TopicPartition]int64
	maxes       map[log.TopicPartition]log.MaxTimestampOffset
	maxesErr    error // why partitions are missing from maxes
}

func (l *offsetLister) listOffset(p kmsg.ListOffsetsRequestTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
	out := kmsg.NewListOffsetsResponseTopicPartition()
	out.Partition, out.Timestamp, out.Offset = p.Partition, -1, -1
	if !l.described {
		l.described = true
		l.description, l.describeErr = l.store.DescribeTopic(l.topic)
	}
	if l.describeErr != nil {
		out.ErrorCode, _ = errorCode(l.describeErr)
		return out
	}
	if p.Partition < 0 || int(p.Partition) >= len(l.description.Partitions) {
		out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return out
	}
	info := l.description.Partitions[p.Partition]
	if info.Offline != nil {
		out.ErrorCode = kerr.KafkaStorageError.Code
		return out
	}
	if err := l.request.notLeader(log.TopicPartition{Topic: l.topic, Partition: p.Partition}, info.Leader); err != nil {
		out.ErrorCode, _ = errorCode(err)
		return out
	}
	switch {
	case p.CurrentLeaderEpoch == -1:
	case p.CurrentLeaderEpoch < info.LeaderEpoch:
		out.ErrorCode = kerr.FencedLeaderEpoch.Code
		return out
	case p.CurrentLeaderEpoch > info.LeaderEpoch:
		out.ErrorCode = kerr.UnknownLeaderEpoch.Code
		return out
	}
	out.LeaderEpoch = info.LeaderEpoch
	tp := log.TopicPartition{Topic: l.topic, Partition: p.Partition}
	var offsets map[log.TopicPartition]int64
	var err error
	switch p.Timestamp {
	case earliestTimestamp, earliestLocalTimestamp:
		if l.starts == nil {
			l.starts, err = l.store.ListStartOffsets(l.topic)
		}
		offsets = l.starts
	case latestTimestamp:
		if l.ends == nil {
			l.ends, err = l.store.ListEndOffsetsFor(l.level, l.topic)
		}
		offsets = l.ends
	case latestTieredTimestamp:
		return out // no tiered storage: -1, as Kafka without it answers
	case maxTimestamp:
		return l.listMaxTimestamp(tp, out)
	default:
		if p.Timestamp < 0 {
			out.ErrorCode = kerr.InvalidRequest.Code
			return out
		}
		return l.listOffsetForTime(tp, p.Timestamp, out)
	}
	offset, ok := offsets[tp]
	if !ok {
		out.ErrorCode, _ = errorCode(err)
		if err == nil {
			out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		return out
	}
	out.Offset = offset
	return out
}

// listMaxTimestamp fills out with the offset, timestamp and batch leader epoch of
// tp's first record of the largest timestamp, or -1, -1 and -1 if there is none.
func (l *offsetLister) listMaxTimestamp(tp log.TopicPartition, out kmsg.ListOffsetsResponseTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
	if l.version < 7 { // Kafka's ReplicaManager: the query is v7's
		out.ErrorCode = kerr.UnsupportedVersion.Code
		return out
	}
	if l.maxes == nil {
		l.maxes, l.maxesErr = l.store.ListMaxTimestampOffsets(l.level, l.topic)
	}
	found, ok := l.maxes[tp]
	if !ok {
		out.ErrorCode, _ = errorCode(l.maxesErr)
		if l.maxesErr == nil {
			out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		return out
	}
	out.Offset, out.Timestamp, out.LeaderEpoch = found.Offset, found.Timestamp, found.LeaderEpoch
	return out
}

// listOffsetForTime fills out with the offset and timestamp of tp's first record
// at or after the timestamp ms, or -1 and -1 if there is none.
func (l *offsetLister) listOffsetForTime(tp log.TopicPartition, ms int64, out kmsg.ListOffsetsResponseTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
	if l.byTime == nil {
		l.byTime = map[int64]map[log.TopicPartition]int64{}
	}
	offsets, ok := l.byTime[ms]
	if !ok {
		var err error
		if offsets, err = l.store.ListOffsetsForTime(time.UnixMilli(ms), l.topic); offsets == nil {
			out.ErrorCode, _ = errorCode(err)
			return out
		}
		l.byTime[ms] = offsets
	}
	if l.ends == nil { // the store answers the end offset where Kafka answers -1
		l.ends, _ = l.store.ListEndOffsetsFor(l.level, l.topic)
	}
	offset, ok := offsets[tp]
	if !ok {
		out.ErrorCode = kerr.KafkaStorageError.Code
		return out
	}
	if end, ok := l.ends[tp]; ok && offset >= end {
		return out
	}
	out.Offset = offset
	out.Timestamp = recordTimestamp(l.store, tp, offset)
	return out
}

// recordTimestamp returns the timestamp in milliseconds of the first record of tp
// at or after offset, or -1 if it cannot be read.
func recordTimestamp(store *log.Store, tp log.TopicPartition, offset int64) int64 {
	c, err := store.NewConsumer(log.ConsumerOptions{MaxPollRecords: 1})
	if err != nil {
		return -1
	}
	defer c.Close()
	if c.Assign(tp) != nil || c.Seek(tp, offset) != nil {
		return -1
	}
	record, err := c.TryNext()
	if err != nil || record == nil {
		return -1
	}
	return record.Timestamp.UnixMilli()
}
