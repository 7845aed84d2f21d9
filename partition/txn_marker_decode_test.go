package partition

import (
	"errors"
	"testing"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
)

// DecodeTxnMarker reads back what encodeMarker writes.
func TestTxnMarkerDecodeRoundTrip(t *testing.T) {
	for _, m := range []TxnMarker{
		{ProducerID: 1, Type: MarkerCommit, CoordinatorEpoch: 0},
		{ProducerID: 2, ProducerEpoch: 3, Type: MarkerAbort, CoordinatorEpoch: 1 << 30},
	} {
		batch, err := encodeMarker(m, 1_700_000_000_000)
		if err != nil {
			t.Fatal(err)
		}
		var d segment.Decoder
		if err := d.Reset(batch); err != nil {
			t.Fatal(err)
		}
		var r Record
		if ok, err := d.Next(&r); !ok || err != nil {
			t.Fatalf("no record: %v", err)
		}
		typ, epoch, err := DecodeTxnMarker(r.Key, r.Value)
		if err != nil || typ != m.Type || epoch != m.CoordinatorEpoch {
			t.Fatalf("DecodeTxnMarker of %+v = %v, %d, %v", m, typ, epoch, err)
		}
	}
}

// FuzzDecodeTxnMarker: any key and value decode or give ErrInvalidArgument,
// without a panic.
func FuzzDecodeTxnMarker(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0, 7})
	f.Add([]byte{0, 0, 0, 0}, []byte{0, 0})
	f.Add([]byte{0, 0, 0, 9}, []byte(nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		typ, _, err := DecodeTxnMarker(key, value)
		if err != nil && !errors.Is(err, errs.ErrInvalidArgument) {
			t.Fatalf("error %v does not match ErrInvalidArgument", err)
		}
		if err == nil && len(key) < markerKeySize {
			t.Fatalf("decoded a key of %d bytes as type %d", len(key), typ)
		}
	})
}
