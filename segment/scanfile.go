package segment

import (
	"errors"
	"io"
	"os"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// ScanResult is what ScanFile found in a segment's .log.
type ScanResult struct {
	Size       int64 // the file's size in bytes
	ValidSize  int64 // bytes of valid batches from the start, up to the first invalid one
	NextOffset int64 // the offset after the last valid batch; the base if there is none
	Batches    int64 // valid batches before the first invalid one
	// Fingerprint is that of the valid batches (see Segment.Fingerprint): of the
	// whole segment when Damage is nil.
	Fingerprint Fingerprint
	// FirstTerm is the term of the first batch (Segment.FirstTerm), if Batches > 0.
	FirstTerm uint64
	// Damage is the first invalid batch, a *CorruptError naming the file and
	// position; nil if every byte of the file is a valid batch.
	Damage error
	// SeenEnd is the greatest end offset of the valid batches and of every whole
	// batch whose CRC holds found after the damage (trying every later position):
	// how far the segment's offsets reached, which a repair must never give out
	// again. NextOffset if there is no damage or nothing valid after it.
	SeenEnd int64
}

// ScanFile reads every batch of the .log of the segment based at base in dir, opened
// read-only, and checks each as recovery does (bounds, magic, CRC-32C, offsets rising
// from base, following each other exactly if opts.Dense), stopping at the first
// invalid one. It changes nothing and needs no index: it is the scrub of a segment
// that is not open, and the survey a repair starts from. An error is returned only
// when the file cannot be read at all (missing, a symlink, a directory, an I/O
// error); damage is reported in the result.
func ScanFile(fsys vfs.FS, dir string, base int64, opts *Options) (ScanResult, error) {
	path := LogPath(dir, base)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return ScanResult{}, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return ScanResult{}, err
	}
	o := opts.withDefaults()
	sc := scanner{w: &window{file: f}, path: path, base: base, end: size, next: base,
		maxBatch: o.MaxBatchBytes, verify: true, dense: o.Dense, anchored: true}
	r := ScanResult{Size: size, NextOffset: base, SeenEnd: base}
	for {
		_, _, err := sc.batch()
		if err == io.EOF {
			return r, nil
		}
		var corrupt *errs.CorruptError
		if errors.As(err, &corrupt) {
			r.Damage = err
			_, _, r.SeenEnd, err = validBatchesAfter(f, base, r.ValidSize, size, r.NextOffset, o.MaxBatchBytes, false)
			return r, err
		}
		if err != nil {
			return ScanResult{}, err
		}
		r.ValidSize, r.NextOffset, r.SeenEnd = sc.pos, sc.next, sc.next
		r.FirstTerm = sc.terms.first
		r.Fingerprint = sc.fingerprint()
		r.Batches++
	}
}
