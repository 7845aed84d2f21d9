package segment

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stratalog/strata/internal/errs"
)

// filterTestBatch encodes records with opts, stamps base offset 1000 and returns the
// batch, its header and its decoded records (with offsets).
func filterTestBatch(t *testing.T, records []Record, opts *BatchOptions) ([]byte, BatchHeader, []Record) {
	t.Helper()
	b, err := AppendBatch(nil, records, opts)
	if err != nil {
		t.Fatal(err)
	}
	SetBaseOffset(b, 1000)
	h, err := VerifyBatch(b, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	return b, h, codecDecodeAll(t, b, 0)
}

// TestAppendFilteredBatch: a subset of a batch's records, re-encoded, keeps every
// offset, timestamp, key, value and header, the batch's offsets and producer fields,
// and sets or clears the delete horizon; for every codec.
func TestAppendFilteredBatch(t *testing.T) {
	for _, codec := range codecAll {
		for _, horizon := range []int64{NoDeleteHorizon, 1_800_000_000_000} {
			t.Run(codec.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(codec), uint64(horizon)))
				opts := &BatchOptions{Compression: codec, Idempotent: true, ProducerID: 7, ProducerEpoch: 3, BaseSequence: 40,
					Transactional: true, PartitionLeaderEpoch: 9}
				_, h, all := filterTestBatch(t, codecMixedRecords(40, uint64(codec)), opts)
				var kept []Record
				for _, r := range all {
					if rng.IntN(3) == 0 {
						kept = append(kept, r)
					}
				}
				b, err := AppendFilteredBatch([]byte("prefix"), &h, kept, horizon)
				if err != nil {
					t.Fatal(err)
				}
				b = b[len("prefix"):]
				fh, err := VerifyBatch(b, math.MaxInt32)
				if err != nil {
					t.Fatal(err)
				}
				if fh.BaseOffset != 1000 || fh.LastOffsetDelta != h.LastOffsetDelta || fh.RecordCount != int32(len(kept)) ||
					fh.ProducerID != 7 || fh.ProducerEpoch != 3 || fh.BaseSequence != 40 || fh.PartitionLeaderEpoch != 9 ||
					!fh.IsTransactional() || fh.Compression() != codec {
					t.Fatalf("header %+v from %+v", fh, h)
				}
				got, ok := fh.DeleteHorizon()
				if (horizon != NoDeleteHorizon) != ok || (ok && got != horizon) {
					t.Fatalf("DeleteHorizon() = %d, %v; want %d", got, ok, horizon)
				}
				maxTs := int64(math.MinInt64)
				for _, r := range kept {
					maxTs = max(maxTs, r.Timestamp)
				}
				if len(kept) > 0 && fh.MaxTimestamp != maxTs {
					t.Fatalf("maxTimestamp %d, want %d", fh.MaxTimestamp, maxTs)
				}
				decoded := codecDecodeAll(t, b, 0)
				if len(kept) == 0 {
					kept = nil
				}
				if !reflect.DeepEqual(decoded, kept) {
					t.Fatalf("decoded %d records, want %d", len(decoded), len(kept))
				}
			})
		}
	}
}

// TestAppendFilteredBatchEmpty: no records left gives Kafka's empty batch, which keeps
// the batch's offsets and timestamps and decodes to nothing.
func TestAppendFilteredBatchEmpty(t *testing.T) {
	_, h, _ := filterTestBatch(t, codecTestRecords(5, 1), &BatchOptions{Compression: CompressionZstd, LogAppendTime: true})
	b, err := AppendFilteredBatch(nil, &h, nil, NoDeleteHorizon)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := VerifyBatch(b, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != BatchHeaderSize || fh.RecordCount != 0 || fh.NextOffset() != h.NextOffset() || fh.Compression() != CompressionNone ||
		fh.MaxTimestamp != h.MaxTimestamp || fh.BaseTimestamp != h.MaxTimestamp || !fh.LogAppendTime() {
		t.Fatalf("empty batch %+v (%d bytes) from %+v", fh, len(b), h)
	}
	if got := codecDecodeAll(t, b, 0); len(got) != 0 {
		t.Fatalf("decoded %d records", len(got))
	}
}

// TestAppendFilteredBatchLogAppendTime: records of a log-append-time batch keep the
// batch's maxTimestamp as their timestamp.
func TestAppendFilteredBatchLogAppendTime(t *testing.T) {
	_, h, all := filterTestBatch(t, codecTestRecords(5, 2), &BatchOptions{LogAppendTime: true})
	b, err := AppendFilteredBatch(nil, &h, all[2:3], 5)
	if err != nil {
		t.Fatal(err)
	}
	got := codecDecodeAll(t, b, 0)
	if len(got) != 1 || got[0].Timestamp != h.MaxTimestamp || got[0].Offset != 1002 {
		t.Fatalf("got %+v", got)
	}
}

// TestAppendFilteredBatchRejects: records outside the batch or out of order, and lz4,
// are invalid arguments, and dst is returned unchanged.
func TestAppendFilteredBatchRejects(t *testing.T) {
	_, h, all := filterTestBatch(t, codecTestRecords(5, 3), nil)
	outside := all[0]
	outside.Offset = 1005
	lz4 := h
	lz4.Attributes |= int16(CompressionLZ4)
	for name, tc := range map[string]struct {
		h       *BatchHeader
		records []Record
	}{
		"after the batch":  {&h, []Record{outside}},
		"before the batch": {&h, []Record{{Offset: 999}}},
		"out of order":     {&h, []Record{all[3], all[1]}},
		"repeated":         {&h, []Record{all[1], all[1]}},
		"lz4":              {&lz4, all[:1]},
	} {
		dst := []byte("dst")
		got, err := AppendFilteredBatch(dst, tc.h, tc.records, NoDeleteHorizon)
		if !errors.Is(err, errs.ErrInvalidArgument) || string(got) != "dst" {
			t.Errorf("%s: got %q, %v", name, got, err)
		}
	}
}
