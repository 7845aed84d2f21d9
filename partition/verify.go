package partition

import "context"

// Verify reads every readable batch of every segment and checks its CRC, returning a
// *CorruptError naming the file and position of the first invalid one. Open does not
// read sealed segments after a clean shutdown (that would read the whole log); Verify
// is the scrub that finds bit rot in them. Readers find it too, batch by batch. It
// changes nothing and runs concurrently with appends and reads.
func (p *Partition) Verify(ctx context.Context) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.readableLocked(); err != nil {
		return err
	}
	for _, s := range p.mu.segments {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := p.readableEndLocked(s)
		if err := s.Verify(end); err != nil {
			return err
		}
	}
	return nil
}
