package group

import (
	"fmt"
	"github.com/stratalog/strata/internal/kafkawire"
	"time"
)

// The records of the offsets log (OffsetsTopic), byte for byte Kafka's
// __consumer_offsets records (see doc.go for the diagrams, format.go for the
// versions). A key says what the record is about; a nil value is a tombstone that
// deletes it.

// recordKind says what an offsets log record is about.
type recordKind int

const (
	offsetRecord recordKind = iota // a committed offset, keyed by group, topic and partition
	groupRecord                    // a group's metadata, keyed by group
)

// recordKey is a decoded key of the offsets log.
type recordKey struct {
	kind      recordKind
	group     string
	partition TopicPartition // offsetRecord only
}

// encodeOffsetKey encodes the key of group's committed offset for tp.
func encodeOffsetKey(group string, tp TopicPartition) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 2+2+len(group)+2+len(tp.Topic)+4)}
	w.Int16(offsetCommitKeyVersion)
	w.String(group)
	w.String(tp.Topic)
	w.Int32(tp.Partition)
	return w.Buf
}

// encodeGroupKey encodes the key of group's metadata record.
func encodeGroupKey(group string) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 2+2+len(group))}
	w.Int16(groupMetadataKeyVersion)
	w.String(group)
	return w.Buf
}

// decodeKey decodes a key of the offsets log.
func decodeKey(b []byte) (recordKey, error) {
	r := kafkawire.NewReader(b)
	version := r.Int16()
	var k recordKey
	switch {
	case r.Err() != nil:
	case version == 0 || version == 1:
		k = recordKey{kind: offsetRecord, group: r.String()}
		k.partition.Topic = r.String()
		k.partition.Partition = r.Int32()
	case version == groupMetadataKeyVersion:
		k = recordKey{kind: groupRecord, group: r.String()}
	default:
		return recordKey{}, fmt.Errorf("unknown key version %d", version)
	}
	if r.Err() != nil {
		return recordKey{}, fmt.Errorf("key: %w", r.Err())
	}
	return k, nil
}

// encodeOffsetValue encodes a committed offset as OffsetCommitValue v3.
func encodeOffsetValue(o CommittedOffset) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 2+8+4+2+len(o.Metadata)+8)}
	w.Int16(offsetCommitValueVersion)
	w.Int64(o.Offset)
	w.Int32(noLeaderEpoch)
	w.String(o.Metadata)
	w.Int64(o.CommitTime.UnixMilli())
	return w.Buf
}

// decodeOffsetValue decodes an OffsetCommitValue of versions 0 to 3.
func decodeOffsetValue(b []byte) (CommittedOffset, error) {
	r := kafkawire.NewReader(b)
	version := r.Int16()
	if r.Err() == nil && (version < 0 || version > 3) {
		return CommittedOffset{}, fmt.Errorf("unknown offset value version %d", version)
	}
	var o CommittedOffset
	o.Offset = r.Int64()
	if version >= 3 {
		r.Int32() // leader epoch
	}
	o.Metadata = r.String()
	o.CommitTime = time.UnixMilli(r.Int64())
	if version == 1 {
		r.Int64() // expire timestamp
	}
	if r.Err() != nil {
		return CommittedOffset{}, fmt.Errorf("offset value: %w", r.Err())
	}
	return o, nil
}

// encodeGroupValue encodes a group record as GroupMetadataValue v3.
func encodeGroupValue(g GroupRecord) []byte {
	w := kafkawire.Writer{Buf: make([]byte, 0, 64)}
	w.Int16(groupMetadataValueVersion)
	w.String(g.ProtocolType)
	w.Int32(g.Generation)
	w.NullableString(g.Protocol, g.Protocol == "")
	w.NullableString(g.Leader, g.Leader == "")
	w.Int64(millisOrMinusOne(g.StateTime))
	w.ArrayLength(len(g.Members))
	for _, m := range g.Members {
		w.String(m.MemberID)
		w.NullableString(m.InstanceID, m.InstanceID == "")
		w.String(m.ClientID)
		w.String(m.ClientHost)
		w.Int32(durationMillis(m.RebalanceTimeout))
		w.Int32(durationMillis(m.SessionTimeout))
		w.Bytes(nonNil(m.Subscription))
		w.Bytes(nonNil(m.Assignment))
	}
	return w.Buf
}

// decodeGroupValue decodes a GroupMetadataValue of versions 0 to 3.
func decodeGroupValue(b []byte) (GroupRecord, error) {
	r := kafkawire.NewReader(b)
	version := r.Int16()
	if r.Err() == nil && (version < 0 || version > 3) {
		return GroupRecord{}, fmt.Errorf("unknown group value version %d", version)
	}
	var g GroupRecord
	g.ProtocolType = r.String()
	g.Generation = r.Int32()
	g.Protocol, _ = r.NullableString()
	g.Leader, _ = r.NullableString()
	if version >= 2 {
		if ms := r.Int64(); ms >= 0 {
			g.StateTime = time.UnixMilli(ms)
		}
	}
	n, _ := r.ArrayLength(2 + 2 + 2 + 4 + 4 + 4)
	for range n {
		var m MemberRecord
		m.MemberID = r.String()
		if version >= 3 {
			m.InstanceID, _ = r.NullableString()
		}
		m.ClientID = r.String()
		m.ClientHost = r.String()
		if version >= 1 {
			m.RebalanceTimeout = time.Duration(r.Int32()) * time.Millisecond
		}
		m.SessionTimeout = time.Duration(r.Int32()) * time.Millisecond
		if version == 0 {
			m.RebalanceTimeout = m.SessionTimeout
		}
		m.Subscription = r.Bytes()
		m.Assignment = r.Bytes()
		g.Members = append(g.Members, m)
	}
	if r.Err() != nil {
		return GroupRecord{}, fmt.Errorf("group value: %w", r.Err())
	}
	return g, nil
}

func millisOrMinusOne(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

// durationMillis returns d in milliseconds, clamped to an int32.
func durationMillis(d time.Duration) int32 {
	return int32(min(d.Milliseconds(), 1<<31-1))
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
