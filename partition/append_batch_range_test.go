package partition_test

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// A client batch whose record count does not match its offset range (Kafka's
// "Inconsistent batch offset range"), or that holds no record, is refused by
// AppendBatch as Kafka's LogValidator refuses it, and nothing is written: it would
// claim offsets (and, with a producer id, sequences) its records do not fill.
func TestAppendBatchRefusesAnInconsistentOffsetRange(t *testing.T) {
	p, err := partition.Open("/p", &partition.Options{FS: vfs.NewMem()})
	require.NoError(t, err)
	defer p.Close()
	ctx := context.Background()
	records := []segment.Record{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}}
	good, err := segment.AppendBatch(nil, records, &segment.BatchOptions{Idempotent: true, ProducerID: 7, ProducerEpoch: 0, BaseSequence: 0})
	require.NoError(t, err)

	// Big-endian header fields: lastOffsetDelta at byte 23, recordCount at 57; the
	// CRC-32C at 17 covers every byte from 21.
	resealed := func(field int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[field:], v)
		binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
		return b
	}
	for name, batch := range map[string][]byte{
		"range wider than the records": resealed(23, 5),
		"range narrower":               resealed(23, 1),
		"no records":                   resealed(57, 0),
	} {
		_, err := p.AppendBatch(ctx, batch)
		require.ErrorIs(t, err, partition.ErrInvalidArgument, name)
	}
	require.EqualValues(t, 0, p.EndOffset(), "nothing written")
	base, err := p.AppendBatch(ctx, good)
	require.NoError(t, err)
	require.EqualValues(t, 0, base)
	require.EqualValues(t, 3, p.EndOffset())
}
