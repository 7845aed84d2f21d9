package txn

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hexBytes decodes hex written with spaces between fields.
func hexBytes(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// TestTransactionLogKeyIsKafkas holds the key to TransactionLogKey v0: version 0,
// then the id as an int16-length string.
func TestTransactionLogKeyIsKafkas(t *testing.T) {
	key := EncodeKey("tx-1")
	require.Equal(t, hexBytes(t, "0000 0004 74782d31"), key)
	id, err := DecodeKey(key)
	require.NoError(t, err)
	require.Equal(t, "tx-1", id)
}

// TestTransactionLogValueIsKafkas holds the value to TransactionLogValue v1, field
// by field as Kafka's generated code writes it (flexible version: compact arrays
// and strings, tagged fields at the end of each struct).
func TestTransactionLogValueIsKafkas(t *testing.T) {
	m := Metadata{
		TransactionalID:    "tx-1",
		ProducerID:         7,
		ProducerEpoch:      3,
		LastProducerEpoch:  NoProducerEpoch,
		PreviousProducerID: NoProducerID,
		NextProducerID:     9,
		Timeout:            60 * time.Second,
		State:              PrepareCommit,
		Partitions:         []TopicPartition{{Topic: "a", Partition: 0}, {Topic: "a", Partition: 2}, {Topic: "b", Partition: 1}},
		StartTime:          time.UnixMilli(1000),
		LastUpdateTime:     time.UnixMilli(2000),

		ClientTransactionVersion: 2,
	}
	want := hexBytes(t, ""+
		"0001"+ // version 1
		"0000000000000007"+ // ProducerId
		"0003"+ // ProducerEpoch
		"0000ea60"+ // TransactionTimeoutMs 60000
		"02"+ // TransactionStatus PrepareCommit
		"03"+ // 2 topics (+1)
		"02 61"+"03 00000000 00000002"+"00"+ // "a" [0 2], no tagged fields
		"02 62"+"02 00000001"+"00"+ // "b" [1]
		"00000000000007d0"+ // TransactionLastUpdateTimestampMs 2000
		"00000000000003e8"+ // TransactionStartTimestampMs 1000
		"02"+ // 2 tagged fields
		"01 08 0000000000000009"+ // NextProducerId 9
		"02 02 0002") // ClientTransactionVersion 2
	require.Equal(t, want, EncodeValue(m))
	got, err := DecodeValue("tx-1", want)
	require.NoError(t, err)
	require.Equal(t, m, got)
}

// TestTransactionLogValueEmptyHasNullPartitions: an Empty id's partitions are
// written as a null array, and PreviousProducerId appears as tag 0 when set.
func TestTransactionLogValueEmptyHasNullPartitions(t *testing.T) {
	m := Metadata{
		TransactionalID: "x", ProducerID: 1, ProducerEpoch: 0, LastProducerEpoch: NoProducerEpoch,
		PreviousProducerID: 4, NextProducerID: NoProducerID, Timeout: time.Second, State: Empty,
		LastUpdateTime: time.UnixMilli(5), ClientTransactionVersion: 2,
	}
	want := hexBytes(t, "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 02 00 08 0000000000000004 02 02 0002")
	require.Equal(t, want, EncodeValue(m))
	got, err := DecodeValue("x", want)
	require.NoError(t, err)
	require.Equal(t, m, got)
}

// TestTransactionLogValueVersion0IsRead decodes a value of version 0, which
// transaction versions 0 and 1 write: classic strings and arrays, no tagged fields.
func TestTransactionLogValueVersion0IsRead(t *testing.T) {
	b := hexBytes(t, "0000 0000000000000002 0005 00002710 01 00000001 0001 74 00000002 00000003 00000001 0000000000000064 0000000000000032")
	got, err := DecodeValue("v0", b)
	require.NoError(t, err)
	require.Equal(t, Metadata{
		TransactionalID: "v0", ProducerID: 2, ProducerEpoch: 5, LastProducerEpoch: NoProducerEpoch,
		PreviousProducerID: NoProducerID, NextProducerID: NoProducerID, Timeout: 10 * time.Second, State: Ongoing,
		Partitions: []TopicPartition{{Topic: "t", Partition: 1}, {Topic: "t", Partition: 3}},
		StartTime:  time.UnixMilli(50), LastUpdateTime: time.UnixMilli(100),
	}, got)
}

// TestTransactionLogDecodeRejectsBadBytes: every malformed key or value is an
// error, never a panic, whatever its length fields claim.
func TestTransactionLogDecodeRejectsBadBytes(t *testing.T) {
	good := EncodeValue(Metadata{TransactionalID: "x", ProducerID: 1, State: Ongoing,
		Partitions: []TopicPartition{{Topic: "t", Partition: 0}}, PreviousProducerID: NoProducerID, NextProducerID: NoProducerID})
	for i := range len(good) {
		_, err := DecodeValue("x", good[:i])
		require.Error(t, err, "value truncated to %d bytes", i)
	}
	for name, b := range map[string]string{
		"version 2":                "0002 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 00",
		"state 8":                  "0001 0000000000000001 0000 000003e8 08 00 0000000000000005 ffffffffffffffff 00",
		"state Dead":               "0001 0000000000000001 0000 000003e8 06 00 0000000000000005 ffffffffffffffff 00",
		"topic count too large":    "0001 0000000000000001 0000 000003e8 01 ffffffff0f",
		"partition count too long": "0001 0000000000000001 0000 000003e8 01 02 0174 ffffff7f",
		"v0 negative topic count":  "0000 0000000000000001 0000 000003e8 01 fffffffe",
		"tags out of order":        "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 02 01 08 0000000000000004 00 08 0000000000000004",
		"short producer id tag":    "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 01 00 01 00",
		"tag size past the end":    "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 01 05 7f 00",
		"trailing bytes":           "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 00 00",
	} {
		_, err := DecodeValue("x", hexBytes(t, b))
		require.Error(t, err, name)
	}
	for name, b := range map[string]string{
		"empty":          "",
		"version 1":      "0001 0001 78",
		"long string":    "0000 0005 78",
		"null string":    "0000 ffff",
		"trailing bytes": "0000 0001 78 00",
	} {
		_, err := DecodeKey(hexBytes(t, b))
		require.Error(t, err, name)
	}
}

// TestTransactionLogValueSkipsUnknownTags: a tagged field of a later Kafka is
// skipped, as Kafka's readers skip it.
func TestTransactionLogValueSkipsUnknownTags(t *testing.T) {
	b := hexBytes(t, "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 02 02 02 0002 09 03 010203")
	m, err := DecodeValue("x", b)
	require.NoError(t, err)
	require.Equal(t, int64(1), m.ProducerID)
}

// TestTransactionLogValueClientTransactionVersion: the version is tag 2, left out
// at its default 0 (a record of a coordinator that did not write it), and read
// back as written; one Kafka does not have is an error.
func TestTransactionLogValueClientTransactionVersion(t *testing.T) {
	m := Metadata{
		TransactionalID: "x", ProducerID: 1, ProducerEpoch: 0, LastProducerEpoch: NoProducerEpoch,
		PreviousProducerID: NoProducerID, NextProducerID: NoProducerID, Timeout: time.Second, State: Empty,
		LastUpdateTime: time.UnixMilli(5),
	}
	for _, tc := range []struct {
		version int16
		want    string
	}{
		{0, "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 00"},
		{1, "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 01 02 02 0001"},
	} {
		m.ClientTransactionVersion = tc.version
		want := hexBytes(t, tc.want)
		require.Equal(t, want, EncodeValue(m))
		got, err := DecodeValue("x", want)
		require.NoError(t, err)
		require.Equal(t, m, got)
	}
	_, err := DecodeValue("x", hexBytes(t, "0001 0000000000000001 0000 000003e8 00 00 0000000000000005 ffffffffffffffff 01 02 02 0003"))
	require.Error(t, err)
}
