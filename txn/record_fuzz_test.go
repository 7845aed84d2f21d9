package txn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzTransactionLogRecord decodes arbitrary keys and values: an error or a value
// that encodes back to a value decoding to the same Metadata, never a panic.
func FuzzTransactionLogRecord(f *testing.F) {
	f.Add(EncodeKey("tx"), EncodeValue(Metadata{TransactionalID: "tx", ProducerID: 3, ProducerEpoch: 1, State: Ongoing,
		Partitions: []TopicPartition{{Topic: "t", Partition: 1}}, Timeout: time.Second, PreviousProducerID: 2, NextProducerID: NoProducerID}))
	f.Add([]byte{0, 0, 0, 1, 'x'}, []byte{0, 0})
	f.Add([]byte{}, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		id, err := DecodeKey(key)
		if err == nil {
			require.Equal(t, key, EncodeKey(id))
		}
		m, err := DecodeValue(id, value)
		if err != nil {
			return
		}
		again, err := DecodeValue(id, EncodeValue(m))
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}
