package group

import (
	"fmt"
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
	w := writer{buf: make([]byte, 0, 2+2+len(group)+2+len(tp.Topic)+4)}
	w.int16(offsetCommitKeyVersion)
	w.string(group)
	w.string(tp.Topic)
	w.int32(tp.Partition)
	return w.buf
}

// encodeGroupKey encodes the key of group's metadata record.
func encodeGroupKey(group string) []byte {
	w := writer{buf: make([]byte, 0, 2+2+len(group))}
	w.int16(groupMetadataKeyVersion)
	w.string(group)
	return w.buf
}

// decodeKey decodes a key of the offsets log.
func decodeKey(b []byte) (recordKey, error) {
	r := reader{buf: b}
	version := r.int16()
	var k recordKey
	switch {
	case r.err != nil:
	case version == 0 || version == 1:
		k = recordKey{kind: offsetRecord, group: r.string()}
		k.partition.Topic = r.string()
		k.partition.Partition = r.int32()
	case version == groupMetadataKeyVersion:
		k = recordKey{kind: groupRecord, group: r.string()}
	default:
		return recordKey{}, fmt.Errorf("unknown key version %d", version)
	}
	if r.err != nil {
		return recordKey{}, fmt.Errorf("key: %w", r.err)
	}
	return k, nil
}

// encodeOffsetValue encodes a committed offset as OffsetCommitValue v3.
func encodeOffsetValue(o CommittedOffset) []byte {
	w := writer{buf: make([]byte, 0, 2+8+4+2+len(o.Metadata)+8)}
	w.int16(offsetCommitValueVersion)
	w.int64(o.Offset)
	w.int32(noLeaderEpoch)
	w.string(o.Metadata)
	w.int64(o.CommitTime.UnixMilli())
	return w.buf
}

// decodeOffsetValue decodes an OffsetCommitValue of versions 0 to 3.
func decodeOffsetValue(b []byte) (CommittedOffset, error) {
	r := reader{buf: b}
	version := r.int16()
	if r.err == nil && (version < 0 || version > 3) {
		return CommittedOffset{}, fmt.Errorf("unknown offset value version %d", version)
	}
	var o CommittedOffset
	o.Offset = r.int64()
	if version >= 3 {
		r.int32() // leader epoch
	}
	o.Metadata = r.string()
	o.CommitTime = time.UnixMilli(r.int64())
	if version == 1 {
		r.int64() // expire timestamp
	}
	if r.err != nil {
		return CommittedOffset{}, fmt.Errorf("offset value: %w", r.err)
	}
	return o, nil
}

// encodeGroupValue encodes a group record as GroupMetadataValue v3.
func encodeGroupValue(g GroupRecord) []byte {
	w := writer{buf: make([]byte, 0, 64)}
	w.int16(groupMetadataValueVersion)
	w.string(g.ProtocolType)
	w.int32(g.Generation)
	w.nullableString(g.Protocol, g.Protocol == "")
	w.nullableString(g.Leader, g.Leader == "")
	w.int64(millisOrMinusOne(g.StateTime))
	w.arrayLength(len(g.Members))
	for _, m := range g.Members {
		w.string(m.MemberID)
		w.nullableString(m.InstanceID, m.InstanceID == "")
		w.string(m.ClientID)
		w.string(m.ClientHost)
		w.int32(durationMillis(m.RebalanceTimeout))
		w.int32(durationMillis(m.SessionTimeout))
		w.bytes(nonNil(m.Subscription))
		w.bytes(nonNil(m.Assignment))
	}
	return w.buf
}

// decodeGroupValue decodes a GroupMetadataValue of versions 0 to 3.
func decodeGroupValue(b []byte) (GroupRecord, error) {
	r := reader{buf: b}
	version := r.int16()
	if r.err == nil && (version < 0 || version > 3) {
		return GroupRecord{}, fmt.Errorf("unknown group value version %d", version)
	}
	var g GroupRecord
	g.ProtocolType = r.string()
	g.Generation = r.int32()
	g.Protocol, _ = r.nullableString()
	g.Leader, _ = r.nullableString()
	if version >= 2 {
		if ms := r.int64(); ms >= 0 {
			g.StateTime = time.UnixMilli(ms)
		}
	}
	n := r.arrayLength(2 + 2 + 2 + 4 + 4 + 4)
	for range n {
		var m MemberRecord
		m.MemberID = r.string()
		if version >= 3 {
			m.InstanceID, _ = r.nullableString()
		}
		m.ClientID = r.string()
		m.ClientHost = r.string()
		if version >= 1 {
			m.RebalanceTimeout = time.Duration(r.int32()) * time.Millisecond
		}
		m.SessionTimeout = time.Duration(r.int32()) * time.Millisecond
		if version == 0 {
			m.RebalanceTimeout = m.SessionTimeout
		}
		m.Subscription = r.bytes()
		m.Assignment = r.bytes()
		g.Members = append(g.Members, m)
	}
	if r.err != nil {
		return GroupRecord{}, fmt.Errorf("group value: %w", r.err)
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
