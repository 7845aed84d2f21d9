package partition

import (
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

// TestIdempotentSnapshotBytes holds the encoder to Kafka's ProducerSnapshot v1
// layout, written out field by field.
func TestIdempotentSnapshotBytes(t *testing.T) {
	s := newProducerStates()
	s.producers[7] = &producerEntry{epoch: 3, coordinatorEpoch: 9, lastTimestamp: 0x1122, txnFirstOffset: 40,
		batches: []producerBatch{{lastSequence: 4, lastOffset: 44, offsetDelta: 4, timestamp: 0x1122}}}
	s.producers[2] = newProducerEntry() // no batch: lastSequence -1, lastOffset -1
	got := encodeSnapshot(&s)
	want := "0001" + "XXXXXXXX" + "00000002" +
		"0000000000000002" + "ffff" + "ffffffff" + "ffffffffffffffff" + "00000000" + "ffffffffffffffff" + "ffffffff" + "ffffffffffffffff" +
		"0000000000000007" + "0003" + "00000004" + "000000000000002c" + "00000004" + "0000000000001122" + "00000009" + "0000000000000028"
	gotHex := hex.EncodeToString(got)
	if gotHex[:4]+"XXXXXXXX"+gotHex[12:] != want {
		t.Fatalf("snapshot bytes\n got %s\nwant %s", gotHex, want)
	}
	decoded, err := decodeSnapshot(got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded.producers[7], s.producers[7]) {
		t.Fatalf("decoded %+v, want %+v", decoded.producers[7], s.producers[7])
	}
	if e := decoded.producers[2]; e.epoch != NoProducerEpoch || len(e.batches) != 0 || e.txnFirstOffset != -1 {
		t.Fatalf("decoded empty entry %+v", e)
	}
}

// TestIdempotentSnapshotKeepsNewestBatch: five batches in memory, one in the file.
func TestIdempotentSnapshotKeepsNewestBatch(t *testing.T) {
	s := newProducerStates()
	for i := range int32(5) {
		h := idempotentHeader(1, 0, 2*i, 2, int64(10*i))
		s.apply(&h)
	}
	decoded, err := decodeSnapshot(encodeSnapshot(&s))
	if err != nil {
		t.Fatal(err)
	}
	e := decoded.producers[1]
	if len(e.batches) != 1 || e.batches[0] != s.producers[1].batches[4] {
		t.Fatalf("decoded batches %+v, want the newest of %+v", e.batches, s.producers[1].batches)
	}
}

func TestIdempotentSnapshotDamage(t *testing.T) {
	s := newProducerStates()
	h := idempotentHeader(1, 0, 0, 2, 10)
	s.apply(&h)
	good := encodeSnapshot(&s)
	for name, damage := range map[string]func([]byte) []byte{
		"empty":          func(b []byte) []byte { return nil },
		"short header":   func(b []byte) []byte { return b[:7] },
		"version 2":      func(b []byte) []byte { b[1] = 2; return b },
		"flipped bit":    func(b []byte) []byte { b[20] ^= 1; return b },
		"cut entry":      func(b []byte) []byte { return b[:len(b)-1] },
		"extra byte":     func(b []byte) []byte { return append(b, 0) },
		"flipped crc":    func(b []byte) []byte { b[3] ^= 1; return b },
		"negative count": func(b []byte) []byte { b[6] = 0x80; return b },
	} {
		if _, err := decodeSnapshot(damage(append([]byte(nil), good...))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzSnapshotDecode(f *testing.F) {
	s := newProducerStates()
	h := idempotentHeader(1, 0, 0, 2, 10)
	s.apply(&h)
	f.Add(encodeSnapshot(&s))
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		decoded, err := decodeSnapshot(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// What decodes encodes to the same bytes, but for the entries' order.
		again, err := decodeSnapshot(encodeSnapshot(&decoded))
		if err != nil || !reflect.DeepEqual(again.producers, decoded.producers) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
