package group

import (
	"testing"
	"time"
)

// TestDecodeOffsetsRecord decodes what the coordinator writes: an offset, a
// group's metadata, tombstones, and refuses a bad key.
func TestDecodeOffsetsRecord(t *testing.T) {
	tp := TopicPartition{Topic: "orders", Partition: 2}
	at := time.UnixMilli(1700000000123)
	r, err := DecodeOffsetsRecord(encodeOffsetKey("billing", tp), encodeOffsetValue(CommittedOffset{Offset: 42, Metadata: "m", CommitTime: at}))
	if err != nil || r.Group != "billing" || !r.IsOffset || r.Partition != tp || r.Tombstone || r.Offset.Offset != 42 ||
		r.Offset.Metadata != "m" || !r.Offset.CommitTime.Equal(at) {
		t.Fatalf("offset record: %+v, %v", r, err)
	}
	r, err = DecodeOffsetsRecord(encodeOffsetKey("billing", tp), nil)
	if err != nil || !r.IsOffset || !r.Tombstone {
		t.Fatalf("offset tombstone: %+v, %v", r, err)
	}
	g := GroupRecord{ProtocolType: "consumer", Generation: 3, Protocol: "range", Leader: "m-1",
		Members: []MemberRecord{{MemberID: "m-1", ClientID: "c", ClientHost: "h", RebalanceTimeout: time.Minute, SessionTimeout: 10 * time.Second}}}
	r, err = DecodeOffsetsRecord(encodeGroupKey("billing"), encodeGroupValue(g))
	if err != nil || r.IsOffset || r.Group != "billing" || r.Metadata.Generation != 3 || r.Metadata.Protocol != "range" ||
		len(r.Metadata.Members) != 1 || r.Metadata.Members[0].MemberID != "m-1" {
		t.Fatalf("group record: %+v, %v", r, err)
	}
	if _, err := DecodeOffsetsRecord([]byte{0, 9, 0, 0}, nil); err == nil {
		t.Fatal("an unknown key version decoded")
	}
	if _, err := DecodeOffsetsRecord(encodeGroupKey("g"), []byte{0, 3, 0}); err == nil {
		t.Fatal("a short value decoded")
	}
}
