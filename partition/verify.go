package partition

import (
	"context"
	"slices"

	"github.com/stratalog/strata/segment"
)

// Verify reads every readable batch of every segment and checks it (bounds, CRC,
// offsets that follow each other), returning a *CorruptError naming the file and
// position of the first invalid one. Open does not read sealed segments after a clean
// shutdown (that would read the whole log); Verify is the scrub that finds bit rot in
// them. Readers find it too, batch by batch. It changes nothing and runs concurrently
// with appends and reads: it holds no lock while it reads, and skips a segment that
// retention or compaction removed meanwhile.
func (p *Partition) Verify(ctx context.Context) error {
	p.mu.RLock()
	if err := p.readableLocked(); err != nil {
		p.mu.RUnlock()
		return err
	}
	segments := slices.Clone(p.mu.segments)
	ends := make([]int64, len(segments))
	for i, s := range segments {
		ends[i] = p.readableEndLocked(s)
	}
	p.mu.RUnlock()
	truncations := p.cleaner.truncations.Load()
	for i, s := range segments {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.Verify(ends[i])
		if err != nil && p.changedUnder(s, truncations) {
			continue // removed or truncated meanwhile: its bytes are no longer the log's
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// changedUnder reports whether s left the partition, or a truncation ran, since
// Verify took its list (truncations was the count then).
func (p *Partition) changedUnder(s *segment.Segment, truncations uint64) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return !p.holdsLocked(s) || p.cleaner.truncations.Load() != truncations
}
