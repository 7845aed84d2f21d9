package segment

import (
	"io"

	"github.com/stratalog/strata/internal/errs"
)

// Verify reads every batch of the segment below end and checks it (bounds, magic,
// CRC-32C, rising offsets), returning a *CorruptError for the first invalid one; when
// end is the segment's size and its digest is known (Digest), it also checks that the
// batches are the ones the digest was taken of. It changes nothing: it is a scrub for
// bit rot in data that Open trusted because it was flushed.
func (s *Segment) Verify(end int64) error {
	want := s.Fingerprint()
	sc := s.newScanner(0, end, true)
	for {
		_, _, err := sc.batch()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if end == want.Size && (want.DigestKnown && sc.terms.sum != want.Digest || sc.terms.edges() != want.Edges) {
		return errs.Corruptf(s.path, 0, "the batches differ from those written (digest %016x, recorded %016x): a segment file replaced, or a byte outside the batches' CRCs changed", sc.terms.sum, want.Digest)
	}
	return nil
}
