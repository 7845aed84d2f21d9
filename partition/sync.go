package partition

import (
	"context"
	"time"
)

// Sync fsyncs everything appended so far and makes it readable. Under SyncPeriodic
// and SyncNone it is how a caller forces durability at a point of its choosing.
func (p *Partition) Sync(ctx context.Context) error {
	p.mu.RLock()
	end, err := p.mu.written.offset, p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	return p.syncTo(ctx, end)
}

// syncTo returns once every offset below offset is fsynced. It is group commit: the
// goroutine holding syncSem fsyncs the active segment, covering every batch written
// before the fsync started, then marks all of them durable and readable; goroutines
// that queued meanwhile find their offsets already durable and return without an
// fsync of their own. Earlier segments were fsynced when they were rolled.
func (p *Partition) syncTo(ctx context.Context, offset int64) error {
	p.mu.RLock()
	durable := p.mu.durable
	p.mu.RUnlock()
	if durable >= offset {
		return nil
	}
	select {
	case p.syncSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.syncSem }()
	return p.syncHeld(offset)
}

// syncHeld is syncTo for a caller holding syncSem.
func (p *Partition) syncHeld(offset int64) error {
	p.mu.RLock()
	durable, target, err := p.mu.durable, p.mu.written, p.usableLocked()
	p.mu.RUnlock()
	if durable >= offset {
		return nil
	}
	if err != nil {
		return err
	}
	began := time.Now()
	if err := target.seg.Sync(); err != nil {
		return p.fail(err)
	}
	took := time.Since(began)
	p.stats.syncs.Add(1)
	p.stats.syncNanos.Add(uint64(took))
	if hook := p.opts.Hooks.OnFsync; hook != nil {
		hook(FsyncEvent{Duration: took})
	}
	p.mu.Lock()
	if target.offset > p.mu.durable {
		p.mu.durable = target.offset
	}
	p.acknowledgeLocked(target)
	p.mu.Unlock()
	return nil
}

// flushLoop is the SyncPeriodic flusher: it fsyncs when kicked by EveryRecords or
// when Interval passes, until Close.
func (p *Partition) flushLoop() {
	defer p.done.Done()
	var tick <-chan time.Time
	if p.opts.Sync.Interval > 0 {
		t := time.NewTicker(p.opts.Sync.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-p.stop:
			return
		case <-p.flushKick:
		case <-tick:
		}
		if err := p.Sync(context.Background()); err != nil {
			return // sticky: every later call reports it
		}
	}
}

// scheduleSyncLocked makes sure a background fsync will cover everything written so
// far (for Write under SyncEveryAppend). At most one background fsync goroutine
// waits or runs per partition; it is counted in background, whose Add happens only
// under appendMu, so that Close, holding appendMu, can wait for it.
func (p *Partition) scheduleSyncLocked() {
	if p.syncScheduled.Swap(true) {
		return // the pending goroutine has not read the written mark yet
	}
	p.background.Add(1)
	go func() {
		defer p.background.Done()
		p.syncSem <- struct{}{}
		defer func() { <-p.syncSem }()
		// Clear the flag before reading the written mark: a Write that finds the
		// flag set wrote before this point, so the fsync below covers it.
		p.syncScheduled.Store(false)
		p.mu.RLock()
		end := p.mu.written.offset
		p.mu.RUnlock()
		if err := p.syncHeld(end); err != nil {
			p.logger.Error("background fsync failed: records acknowledged at the write may be lost in a machine crash", "err", err)
		}
	}()
}
