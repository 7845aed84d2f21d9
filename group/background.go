package group

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Start starts the coordinator's goroutine, the thin layer around the synchronous
// core: it calls Tick at every deadline (session and rebalance timeouts), writes
// the records of groups that changed (Flush), and expires offsets every
// OffsetsRetentionCheckInterval. It waits on the runtime's timers, so it suits the
// real clock and testing/synctest; with another clock, call Tick yourself. Close
// stops the goroutine and waits for it. Start is idempotent, and does nothing after
// Close.
func (c *Coordinator) Start() {
	c.background.once.Do(func() {
		if c.isClosed() {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		c.background.cancel = cancel
		c.background.done = make(chan struct{})
		go c.run(ctx)
	})
}

// stopBackground stops the goroutine, if it runs, and waits for it; after it,
// Start does nothing.
func (c *Coordinator) stopBackground() {
	c.background.once.Do(func() {})
	if c.background.cancel != nil {
		c.background.cancel()
		<-c.background.done
	}
}

func (c *Coordinator) run(ctx context.Context) {
	defer close(c.background.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	nextExpiry := c.now().Add(c.opts.OffsetsRetentionCheckInterval)
	for {
		c.tick()
		if err := c.flush(ctx); err != nil && ctx.Err() == nil {
			c.logger.Error("strata/group: writing group records", slog.Any("err", err))
		}
		now := c.now()
		if !now.Before(nextExpiry) {
			if _, err := c.ExpireOffsets(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrCoordinatorClosed) {
				c.logger.Error("strata/group: expiring offsets", slog.Any("err", err))
			}
			nextExpiry = now.Add(c.opts.OffsetsRetentionCheckInterval)
		}
		wait := nextExpiry.Sub(now)
		if deadline, ok := c.NextDeadline(); ok {
			wait = min(wait, deadline.Sub(now))
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-timer.C:
		}
	}
}
