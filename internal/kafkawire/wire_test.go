package kafkawire

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.Int8(-1)
	w.Int16(300)
	w.Int32(-70000)
	w.Int64(1 << 40)
	w.String("topic")
	w.NullableString("", true)
	w.CompactString("id")
	w.Bytes([]byte{1, 2})
	w.Bytes(nil)
	w.ArrayLength(0)
	w.Uvarint(1) // one tagged field
	w.Int64Field(3, 42)

	r := NewReader(w.Buf)
	require.Equal(t, int8(-1), r.Int8())
	require.Equal(t, int16(300), r.Int16())
	require.Equal(t, int32(-70000), r.Int32())
	require.Equal(t, int64(1<<40), r.Int64())
	require.Equal(t, "topic", r.String())
	_, null := r.NullableString()
	require.True(t, null)
	require.Equal(t, "id", r.CompactString())
	require.Equal(t, []byte{1, 2}, r.Bytes())
	require.Nil(t, r.Bytes())
	n, null := r.ArrayLength(4)
	require.Zero(t, n)
	require.False(t, null)
	var tags []uint64
	r.TaggedFields(func(tag uint64, data []byte) { tags = append(tags, tag); require.Len(t, data, 8) })
	require.Equal(t, []uint64{3}, tags)
	require.NoError(t, r.Err())
	require.Zero(t, r.Remaining())
}

// A count that the bytes left cannot hold fails before anything is allocated.
func TestArrayLengthBoundedByInput(t *testing.T) {
	var w Writer
	w.Int32(1 << 30)
	r := NewReader(w.Buf)
	n, _ := r.ArrayLength(1)
	require.Zero(t, n)
	require.True(t, errors.Is(r.Err(), ErrInvalid))
	// The error sticks: later reads return zero values.
	require.Zero(t, r.Int32())
}

func TestShortInputAndTagOrder(t *testing.T) {
	r := NewReader([]byte{0, 5, 'a'})
	require.Equal(t, "", r.String())
	require.ErrorIs(t, r.Err(), ErrShort)

	var w Writer
	w.Uvarint(2)
	w.Int64Field(5, 1)
	w.Int64Field(5, 2) // a repeated tag
	r = NewReader(w.Buf)
	r.TaggedFields(func(uint64, []byte) {})
	require.ErrorIs(t, r.Err(), ErrInvalid)
}
