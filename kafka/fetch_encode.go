package kafka

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A Fetch response is encoded here rather than by kmsg, so that the record
// batches need not be in memory: kmsg encodes a response around bytes it holds,
// while strata sends the batches of a segment straight from its file
// (sendfile). appendFetchResponse writes every field but those batches, and
// returns where each belongs (a splice); the writer sends the buffer and the
// batches in turn. With no files, it writes the batches too and the result is
// kmsg's encoding byte for byte (fetch_encode_test.go checks every version).
//
// Versions 4 to 18 are encoded here (topics by name up to v12, by ID from v13;
// v12+ are flexible: compact lengths and tagged fields); another version falls
// back to kmsg with the batches in the buffer.

// fetchSplice is a partition's record batches left out of an encoded response:
// they belong at position at of the buffer, and are sent from batches' file
// range (or its bytes).
type fetchSplice struct {
	at      int
	batches *heldBatches
}

// minEncodedFetchVersion and maxEncodedFetchVersion bound the versions
// appendFetchResponse encodes itself.
const (
	minEncodedFetchVersion = 4
	maxEncodedFetchVersion = 18
)

// appendFetchResponse appends the framed response to correlationID (size,
// correlation id, header tags in a flexible version, body) to dst, without the
// record batches of the partitions whose batches (by their order in resp, one
// per partition; missing or nil: none) have a file: those are listed in
// splices, appended to the splices given, in order. The size counts them.
func appendFetchResponse(dst []byte, correlationID int32, resp *kmsg.FetchResponse, batches []*heldBatches, splices []fetchSplice) ([]byte, []fetchSplice) {
	if resp.Version < minEncodedFetchVersion || resp.Version > maxEncodedFetchVersion {
		return appendResponse(dst, correlationID, resp), splices
	}
	start, first := len(dst), len(splices)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	e := fetchEncoder{version: resp.Version, flexible: resp.Version >= 12, dst: dst, splices: splices, batches: batches}
	if e.flexible {
		e.dst = append(e.dst, 0) // no tagged fields in the response header
	}
	e.body(resp)
	size := len(e.dst) - start - 4
	for _, s := range e.splices[first:] {
		size += s.batches.len()
	}
	binary.BigEndian.PutUint32(e.dst[start:], uint32(size))
	return e.dst, e.splices
}

// fetchEncoder appends a Fetch response body to dst, as kmsg's AppendTo does for
// versions 4 to 18.
type fetchEncoder struct {
	version  int16
	flexible bool
	dst      []byte
	splices  []fetchSplice
	batches  []*heldBatches
	index    int // of the partition being encoded, in resp's order
}

func (e *fetchEncoder) int16(v int16) { e.dst = binary.BigEndian.AppendUint16(e.dst, uint16(v)) }
func (e *fetchEncoder) int32(v int32) { e.dst = binary.BigEndian.AppendUint32(e.dst, uint32(v)) }
func (e *fetchEncoder) int64(v int64) { e.dst = binary.BigEndian.AppendUint64(e.dst, uint64(v)) }
func (e *fetchEncoder) uvarint(v int) { e.dst = binary.AppendUvarint(e.dst, uint64(uint32(v))) }

// arrayLen writes an array's length: compact (n+1) in a flexible version.
func (e *fetchEncoder) arrayLen(n int) {
	if e.flexible {
		e.uvarint(n + 1)
	} else {
		e.int32(int32(n))
	}
}

// nullableArrayLen writes the length of an array that may be null.
func (e *fetchEncoder) nullableArrayLen(n int, null bool) {
	switch {
	case !null:
		e.arrayLen(n)
	case e.flexible:
		e.dst = append(e.dst, 0)
	default:
		e.int32(-1)
	}
}

func (e *fetchEncoder) string(s string) {
	if e.flexible {
		e.uvarint(len(s) + 1)
	} else {
		e.int16(int16(len(s)))
	}
	e.dst = append(e.dst, s...)
}

func (e *fetchEncoder) nullableString(s *string) {
	switch {
	case s != nil:
		e.string(*s)
	case e.flexible:
		e.dst = append(e.dst, 0)
	default:
		e.int16(-1)
	}
}

// tags writes a struct's unknown tagged fields with their count (a struct
// without tagged fields of its own).
func (e *fetchEncoder) tags(t *kmsg.Tags) {
	e.uvarint(t.Len())
	e.dst = t.AppendEach(e.dst)
}

// taggedField writes tag and, prefixed by its size, what field writes.
func (e *fetchEncoder) taggedField(tag int, field func()) {
	e.uvarint(tag)
	outer := e.dst
	e.dst = nil
	field()
	inner := e.dst
	e.dst = binary.AppendUvarint(outer, uint64(len(inner)))
	e.dst = append(e.dst, inner...)
}

func (e *fetchEncoder) body(r *kmsg.FetchResponse) {
	e.int32(r.ThrottleMillis) // v1+
	if e.version >= 7 {
		e.int16(r.ErrorCode)
		e.int32(r.SessionID)
	}
	e.arrayLen(len(r.Topics))
	for i := range r.Topics {
		t := &r.Topics[i]
		if e.version <= 12 {
			e.string(t.Topic)
		} else {
			e.dst = append(e.dst, t.TopicID[:]...) // v13+ names topics by ID
		}
		e.arrayLen(len(t.Partitions))
		for j := range t.Partitions {
			e.partition(&t.Partitions[j])
			e.index++
		}
		if e.flexible {
			e.tags(&t.UnknownTags)
		}
	}
	if e.flexible {
		count := r.UnknownTags.Len()
		if len(r.Brokers) > 0 {
			count++
		}
		e.uvarint(count)
		if len(r.Brokers) > 0 {
			e.taggedField(0, func() {
				e.arrayLen(len(r.Brokers))
				for i := range r.Brokers {
					b := &r.Brokers[i]
					e.int32(b.NodeID)
					e.string(b.Host)
					e.int32(b.Port)
					e.nullableString(b.Rack)
					e.tags(&b.UnknownTags)
				}
			})
		}
		e.dst = r.UnknownTags.AppendEach(e.dst)
	}
}

func (e *fetchEncoder) partition(p *kmsg.FetchResponseTopicPartition) {
	e.int32(p.Partition)
	e.int16(p.ErrorCode)
	e.int64(p.HighWatermark)
	e.int64(p.LastStableOffset) // v4+
	if e.version >= 5 {
		e.int64(p.LogStartOffset)
	}
	e.nullableArrayLen(len(p.AbortedTransactions), p.AbortedTransactions == nil) // v4+
	for i := range p.AbortedTransactions {
		a := &p.AbortedTransactions[i]
		e.int64(a.ProducerID)
		e.int64(a.FirstOffset)
		if e.flexible {
			e.tags(&a.UnknownTags)
		}
	}
	if e.version >= 11 {
		e.int32(p.PreferredReadReplica)
	}
	e.records(p.RecordBatches)
	if e.flexible {
		e.partitionTags(p)
	}
}

// records writes a partition's record batches, or only their length where they
// are sent from a file (a splice).
func (e *fetchEncoder) records(b []byte) {
	var batches *heldBatches
	if e.index < len(e.batches) {
		batches = e.batches[e.index]
	}
	if b == nil && batches == nil {
		if e.flexible {
			e.dst = append(e.dst, 0)
		} else {
			e.int32(-1)
		}
		return
	}
	n := len(b)
	if batches != nil {
		n = batches.len()
	}
	if e.flexible {
		e.uvarint(n + 1)
	} else {
		e.int32(int32(n))
	}
	if batches != nil && n > 0 {
		e.splices = append(e.splices, fetchSplice{at: len(e.dst), batches: batches})
		return
	}
	e.dst = append(e.dst, b...)
}

// partitionTags writes a partition's tagged fields: those kmsg writes when they
// differ from their defaults, then the unknown ones.
func (e *fetchEncoder) partitionTags(p *kmsg.FetchResponseTopicPartition) {
	diverging := p.DivergingEpoch.Epoch != -1 || p.DivergingEpoch.EndOffset != -1 || p.DivergingEpoch.UnknownTags.Len() > 0
	leader := p.CurrentLeader.LeaderID != -1 || p.CurrentLeader.LeaderEpoch != -1 || p.CurrentLeader.UnknownTags.Len() > 0
	snapshot := p.SnapshotID.EndOffset != -1 || p.SnapshotID.Epoch != -1 || p.SnapshotID.UnknownTags.Len() > 0
	count := p.UnknownTags.Len()
	for _, set := range []bool{diverging, leader, snapshot} {
		if set {
			count++
		}
	}
	e.uvarint(count)
	if diverging {
		e.taggedField(0, func() {
			e.int32(p.DivergingEpoch.Epoch)
			e.int64(p.DivergingEpoch.EndOffset)
			e.tags(&p.DivergingEpoch.UnknownTags)
		})
	}
	if leader {
		e.taggedField(1, func() {
			e.int32(p.CurrentLeader.LeaderID)
			e.int32(p.CurrentLeader.LeaderEpoch)
			e.tags(&p.CurrentLeader.UnknownTags)
		})
	}
	if snapshot {
		e.taggedField(2, func() {
			e.int64(p.SnapshotID.EndOffset)
			e.int32(p.SnapshotID.Epoch)
			e.tags(&p.SnapshotID.UnknownTags)
		})
	}
	e.dst = p.UnknownTags.AppendEach(e.dst)
}
