package segment

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// A segment's fingerprint tells the batches it holds from any others, so that a
// partition can record what it sealed (its manifest) and tell a segment file
// replaced by another whose batches are each valid (another partition's, an old
// backup's), or a baseOffset changed where no sequencing rule sees it, from what it
// wrote.
//
// Each batch has a term: the XXH64 (seed 0) of its first 21 bytes (baseOffset,
// batchLength, partitionLeaderEpoch, magic, crc; see Format). The CRC covers every
// later byte, so the term covers the whole batch, the bytes Kafka's CRC leaves out
// included, short of a collision.
//
//   - Digest is the sum, modulo 2^64, of the terms of all the batches: known only
//     when every batch was seen (appended, or read since the segment was opened). It
//     is a single number across appends; the order of the batches is the scanner's
//     to check (offsets rise), not the digest's.
//   - Edges is the XXH64 of the terms of the first and the last batch (16 bytes, big
//     endian; 0 for an empty segment): opening a segment reads both anyway, so Open
//     checks it at no cost.

// digestBytes is how much of a batch's header its term covers.
const digestBytes = offsetCRC + 4

// Fingerprint identifies a segment's batches; see above.
type Fingerprint struct {
	Size        int64  // the bytes fingerprinted: the segment's size
	Digest      uint64 // sum of the batches' terms, if DigestKnown
	DigestKnown bool
	Edges       uint64 // of the first and last batches' terms; 0 if Size is 0
}

// batchTerm returns one batch's term.
func batchTerm(h *BatchHeader) uint64 {
	var b [digestBytes]byte
	binary.BigEndian.PutUint64(b[offsetBaseOffset:], uint64(h.BaseOffset))
	binary.BigEndian.PutUint32(b[offsetBatchLength:], uint32(h.Length))
	binary.BigEndian.PutUint32(b[offsetLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[offsetMagic] = byte(h.Magic)
	binary.BigEndian.PutUint32(b[offsetCRC:], h.CRC)
	return xxhash.Sum64(b[:])
}

// edges returns the Edges of a segment whose first and last batches have these
// terms.
func edges(first, last uint64) uint64 {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], first)
	binary.BigEndian.PutUint64(b[8:], last)
	return xxhash.Sum64(b[:])
}

// terms accumulates a fingerprint batch by batch.
type terms struct {
	sum         uint64
	first, last uint64
	n           int64
}

func (t *terms) add(h *BatchHeader) {
	term := batchTerm(h)
	if t.n == 0 {
		t.first = term
	}
	t.sum += term
	t.last = term
	t.n++
}

func (t *terms) edges() uint64 {
	if t.n == 0 {
		return 0
	}
	return edges(t.first, t.last)
}

// Fingerprint returns the segment's fingerprint. DigestKnown is set when the
// segment was created empty and appended to, or every batch was read since it was
// opened (a recovery, an index rebuild, an open of a segment without index entries),
// or SetDigest adopted a recorded digest; a segment opened from an index entry reads
// only the batches after it.
func (s *Segment) Fingerprint() Fingerprint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.fingerprintLocked()
}

func (s *Segment) fingerprintLocked() Fingerprint {
	f := Fingerprint{Size: s.mu.size, DigestKnown: s.mu.digestKnown}
	if f.DigestKnown {
		f.Digest = s.mu.terms.sum
	}
	if s.mu.size > 0 {
		f.Edges = edges(s.mu.firstTerm, s.mu.terms.last)
	}
	return f
}

// FirstTerm returns the term of the segment's first batch (see above), and false if
// the segment is empty. It never changes once the first batch is written, short of
// a truncation that removes it.
func (s *Segment) FirstTerm() (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.firstTerm, s.mu.size > 0
}

// SetDigest adopts digest as the digest of the segment's current batches when it
// does not know its own: the value recorded when it was written, for the next record
// of it and for Verify to check. It reports whether it adopted it; a known digest is
// never replaced.
func (s *Segment) SetDigest(digest uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.digestKnown {
		return false
	}
	s.mu.terms.sum, s.mu.digestKnown = digest, true
	return true
}
