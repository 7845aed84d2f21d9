package partition

import (
	"context"
	"fmt"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// DefaultReadBytes is how many bytes of batches a Reader fetches at a time.
const DefaultReadBytes = 1 << 20

// Reader iterates over a partition's records from an offset, in order, following the
// tail: Next waits for records that are not yet appended. It verifies each batch's
// CRC. A Reader is for one goroutine; records it returns alias its buffers and are
// valid until the next call. It allocates nothing per record.
//
// Where the filesystem can map files (the OS filesystem on Linux), a Reader reads
// batches straight from a read-only memory mapping of the segment, without copying
// them: the records it returns alias the page cache. The Reader holds the mapping
// until its next call, so that retention, compaction, truncation or Close cannot
// take the bytes away meanwhile; a record kept past the next call must be copied (as
// anywhere else), or reading it may fault once its segment is gone.
type Reader struct {
	p        *Partition
	offset   int64 // next offset to return
	maxBytes int
	buf      []byte       // fetched batches: own, or a view of hold
	hold     *vfs.Mapping // the mapping buf is a view of, or nil
	own      []byte       // the buffer batches are copied into when they cannot be mapped
	pos      int          // position of the next undecoded batch in buf
	noCRC    bool         // SetCheckCRCs(false): batches are decoded unverified
	inBatch  bool
	// isolation is SetIsolationLevel's; aborted are the aborted transactions
	// among the batches fetched in ReadCommitted (txn_read.go).
	isolation IsolationLevel
	aborted   []AbortedTxn
	dec       segment.Decoder
	rec       Record
}

// NewReader returns a Reader starting at offset that fetches maxBytes of batches at
// a time (0: DefaultReadBytes).
func (p *Partition) NewReader(offset int64, maxBytes int) *Reader {
	if maxBytes <= 0 {
		maxBytes = DefaultReadBytes
	}
	r := &Reader{p: p, offset: offset, maxBytes: maxBytes}
	r.dec.MaxDecompressedBytes = segment.MaxDecompressedFor(p.storedMax)
	return r
}

// SetCheckCRCs sets whether the Reader verifies the CRC-32C of each batch before
// decoding it (the default, like Kafka consumers' check.crcs). Without the check a
// Reader is faster (a third, for 100-byte records) but returns whatever the disk
// holds: corruption inside keys and values goes unnoticed. A batch whose structure is
// broken is still an error, never a panic or an allocation beyond MaxBatchBytes.
func (r *Reader) SetCheckCRCs(check bool) { r.noCRC = !check }

// Offset returns the offset of the next record the Reader will return (records
// removed by compaction are skipped past it).
func (r *Reader) Offset() int64 { return r.offset }

// SetOffset moves the Reader to offset.
func (r *Reader) SetOffset(offset int64) {
	r.offset, r.buf, r.hold, r.pos, r.inBatch = offset, nil, nil, 0, false
}

// Next returns the next record, waiting until one is appended or ctx ends.
func (r *Reader) Next(ctx context.Context) (*Record, error) {
	for {
		rec, err := r.TryNext()
		if rec != nil || err != nil {
			return rec, err
		}
		wait := r.p.Wait
		if r.isolation == ReadCommitted {
			wait = r.p.waitStable
		}
		if err := wait(ctx, r.offset); err != nil {
			return nil, err
		}
	}
}

// TryNext returns the next record, or nil, nil if the Reader is at the end offset.
func (r *Reader) TryNext() (*Record, error) {
	// The common case first: the next record of the current batch. This is
	// decodeNext's first step written out here on purpose: through a call (a shared
	// helper was tried) the sequential read loses about 10 %; inline it gained
	// 9-22 % (A/B, bench/README.md).
	if r.inBatch {
		ok, err := r.dec.Next(&r.rec)
		if ok && r.rec.Offset >= r.offset {
			r.offset = r.rec.Offset + 1
			return &r.rec, nil
		}
		if err != nil {
			return nil, r.corrupt(err)
		}
		if !ok {
			r.endBatch()
		} // else a record below the offset, which decodeNext skips on from
	}
	for {
		rec, err := r.decodeNext()
		if rec != nil || err != nil {
			return rec, err
		}
		if err := r.fetch(); err != nil || len(r.buf) == 0 {
			return nil, err
		}
	}
}

// fetch replaces the buffer with the batches at the Reader's offset: a view of the
// segment's mapping if it can be mapped, a copy into r.own otherwise.
func (r *Reader) fetch() error {
	if r.isolation == ReadCommitted {
		return r.fetchCommitted()
	}
	b, m, err := r.p.fetchBatches(r.own[:0], r.offset, r.maxBytes)
	if m == nil {
		r.own = b
	}
	r.buf, r.hold, r.pos = b, m, 0
	return err
}

// decodeNext returns the next record in the fetched batches, or nil when they are
// used up.
func (r *Reader) decodeNext() (*Record, error) {
	for {
		if r.inBatch {
			ok, err := r.dec.Next(&r.rec)
			if err != nil {
				return nil, r.corrupt(err)
			}
			if ok {
				if r.rec.Offset < r.offset {
					continue
				}
				r.offset = r.rec.Offset + 1
				return &r.rec, nil
			}
			r.endBatch()
		}
		if r.pos >= len(r.buf) {
			return nil, nil
		}
		if err := r.startBatch(); err != nil {
			return nil, err
		}
	}
}

// endBatch moves the Reader past the batch it decoded (whose last records
// compaction may have removed).
func (r *Reader) endBatch() {
	r.inBatch = false
	h := r.dec.Header()
	r.offset = max(r.offset, h.NextOffset())
}

// startBatch verifies the batch at r.pos and starts decoding it.
func (r *Reader) startBatch() error {
	h, err := segment.ParseBatchHeader(r.buf[r.pos:], r.p.storedMax)
	if err != nil {
		return r.corrupt(err)
	}
	if h.Size() > len(r.buf)-r.pos {
		return r.corrupt(fmt.Errorf("batch of %d bytes with %d fetched", h.Size(), len(r.buf)-r.pos))
	}
	batch := r.buf[r.pos : r.pos+h.Size()]
	r.pos += h.Size()
	// The fetch checked that the batches follow each other (wholeBatches), the
	// first holding the Reader's offset: none lies wholly below it.
	if r.skipBatch(&h) {
		// Nothing of it is returned (a marker, or an aborted batch in
		// ReadCommitted): its records are not read, so not verified either.
		r.offset = max(r.offset, h.NextOffset())
		return nil
	}
	if !r.noCRC {
		if _, err := segment.VerifyBatch(batch, r.p.storedMax); err != nil {
			return r.corrupt(err)
		}
	}
	if err := r.dec.Reset(batch); err != nil {
		return r.corrupt(err)
	}
	r.inBatch = true
	return nil
}

// corrupt reports a batch that failed verification, naming its file and position.
func (r *Reader) corrupt(err error) error {
	r.buf, r.hold, r.pos, r.inBatch = nil, nil, 0, false
	loc, lerr := r.p.Locate(r.offset)
	if lerr != nil {
		return errs.Corruptf(r.p.dir, -1, "batch holding offset %d: %v", r.offset, err)
	}
	return errs.Corruptf(loc.Path, loc.Position, "batch holding offset %d: %v", r.offset, err)
}
