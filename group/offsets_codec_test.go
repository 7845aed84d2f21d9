package group

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// unhex decodes hex with spaces and newlines for readability.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	require.NoError(t, err)
	return b
}

// The offsets log records, byte for byte Kafka's __consumer_offsets records.
func TestOffsetsRecordGolden(t *testing.T) {
	commitTime := time.UnixMilli(0x0102030405)
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{
			name: "offset commit key v1",
			got:  encodeOffsetKey("g1", tp("orders", 3)),
			want: `0001  0002 6731  0006 6f7264657273  00000003`,
		},
		{
			name: "offset commit value v3",
			got:  encodeOffsetValue(CommittedOffset{Offset: 42, Metadata: "m", CommitTime: commitTime}),
			want: `0003  000000000000002a  ffffffff  0001 6d  0000000102030405`,
		},
		{
			name: "group metadata key v2",
			got:  encodeGroupKey("g1"),
			want: `0002  0002 6731`,
		},
		{
			name: "empty group metadata value v3",
			got:  encodeGroupValue(GroupRecord{ProtocolType: "consumer", Generation: 7, StateTime: commitTime}),
			want: `0003  0008 636f6e73756d6572  00000007  ffff  ffff  0000000102030405  00000000`,
		},
		{
			name: "group metadata value v3 with a member",
			got: encodeGroupValue(GroupRecord{
				ProtocolType: "consumer", Generation: 1, Protocol: "range", Leader: "m",
				Members: []MemberRecord{{MemberID: "m", ClientID: "c", RebalanceTimeout: 2 * time.Second,
					SessionTimeout: time.Second, Subscription: []byte{9}, Assignment: nil}},
			}),
			want: `0003  0008 636f6e73756d6572  00000001  0005 72616e6765  0001 6d  ffffffffffffffff
			       00000001  0001 6d  ffff  0001 63  0000  000007d0  000003e8  00000001 09  00000000`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, unhex(t, tc.want), tc.got)
		})
	}
}

// Every version Kafka has written decodes.
func TestOffsetsRecordOlderVersions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
		want  CommittedOffset
	}{
		{"v0", `0000  0000000000000005  0002 6869  0000000000000064`, CommittedOffset{Offset: 5, Metadata: "hi", CommitTime: time.UnixMilli(100)}},
		{"v1 with expire timestamp", `0001  0000000000000005  0000  0000000000000064  00000000000000c8`, CommittedOffset{Offset: 5, CommitTime: time.UnixMilli(100)}},
		{"v2", `0002  0000000000000006  0000  0000000000000064`, CommittedOffset{Offset: 6, CommitTime: time.UnixMilli(100)}},
		{"v3", `0003  0000000000000007  00000002  0000  0000000000000064`, CommittedOffset{Offset: 7, CommitTime: time.UnixMilli(100)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeOffsetValue(unhex(t, tc.value))
			require.NoError(t, err)
			require.Equal(t, tc.want.Offset, got.Offset)
			require.Equal(t, tc.want.Metadata, got.Metadata)
			require.True(t, tc.want.CommitTime.Equal(got.CommitTime))
		})
	}
	k, err := decodeKey(unhex(t, `0000  0001 67  0001 74  00000002`))
	require.NoError(t, err)
	require.Equal(t, recordKey{kind: offsetRecord, group: "g", partition: tp("t", 2)}, k)

	g, err := decodeGroupValue(unhex(t, `0000  0008 636f6e73756d6572  00000003  ffff  ffff
		00000001  0001 6d  0001 63  0001 68  00001388  00000000  00000000`))
	require.NoError(t, err)
	require.Equal(t, GroupRecord{ProtocolType: "consumer", Generation: 3, Members: []MemberRecord{{
		MemberID: "m", ClientID: "c", ClientHost: "h", SessionTimeout: 5 * time.Second, RebalanceTimeout: 5 * time.Second,
		Subscription: []byte{}, Assignment: []byte{},
	}}}, g)
}

// Records round-trip, and bad bytes are errors, never panics or huge allocations.
func TestOffsetsRecordRoundTripAndErrors(t *testing.T) {
	record := GroupRecord{
		ProtocolType: "consumer", Generation: 9, Protocol: "cooperative-sticky", Leader: "a",
		StateTime: time.UnixMilli(1234),
		Members: []MemberRecord{
			{MemberID: "a", InstanceID: "i", ClientID: "c", ClientHost: "h", RebalanceTimeout: time.Minute, SessionTimeout: 10 * time.Second,
				Subscription: EncodeSubscription(Subscription{Topics: []string{"t"}, Generation: 8}), Assignment: []byte{}},
		},
	}
	got, err := decodeGroupValue(encodeGroupValue(record))
	require.NoError(t, err)
	require.True(t, record.StateTime.Equal(got.StateTime))
	got.StateTime = record.StateTime
	require.Equal(t, record, got)

	for name, b := range map[string]string{
		"empty key":             ``,
		"unknown key version":   `0003 0001 67`,
		"truncated key":         `0001 0005 6767`,
		"negative string":       `0001 fffe`,
		"unknown value version": `0009`,
		"null metadata":         `0003 0000000000000001 ffffffff ffff 0000000000000000`,
	} {
		t.Run(name, func(t *testing.T) {
			raw := unhex(t, b)
			_, errKey := decodeKey(raw)
			_, errOffset := decodeOffsetValue(raw)
			_, errGroup := decodeGroupValue(raw)
			require.True(t, errKey != nil && errOffset != nil && errGroup != nil, "%v %v %v", errKey, errOffset, errGroup)
		})
	}
	// A member count larger than the bytes could hold is refused before allocating.
	_, err = decodeGroupValue(unhex(t, `0003 0001 63 00000001 ffff ffff 0000000000000000 7fffffff`))
	require.Error(t, err)
}

func FuzzDecodeOffsetsRecord(f *testing.F) {
	f.Add(encodeOffsetKey("g", tp("t", 1)))
	f.Add(encodeOffsetValue(CommittedOffset{Offset: 3, Metadata: "x", CommitTime: time.UnixMilli(5)}))
	f.Add(encodeGroupKey("g"))
	f.Add(encodeGroupValue(GroupRecord{ProtocolType: "consumer", Members: []MemberRecord{{MemberID: "m"}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := decodeKey(b); err == nil {
			var again []byte
			if k.kind == offsetRecord {
				again = encodeOffsetKey(k.group, k.partition)
			} else {
				again = encodeGroupKey(k.group)
			}
			if k2, err := decodeKey(again); err != nil || k2 != k {
				t.Fatalf("key %x decodes to %+v, re-encoded to %+v (%v)", b, k, k2, err)
			}
		}
		if o, err := decodeOffsetValue(b); err == nil {
			o2, err := decodeOffsetValue(encodeOffsetValue(o))
			if err != nil || o2.Offset != o.Offset || o2.Metadata != o.Metadata || !o2.CommitTime.Equal(o.CommitTime) {
				t.Fatalf("offset value %x: %+v then %+v (%v)", b, o, o2, err)
			}
		}
		if g, err := decodeGroupValue(b); err == nil {
			if _, err := decodeGroupValue(encodeGroupValue(g)); err != nil {
				t.Fatalf("group value %x: re-encoded does not decode: %v", b, err)
			}
		}
	})
}
