package log

import (
	"context"
	"errors"
	"time"

	"github.com/stratalog/strata/partition"
)

// ApplyRetention applies every topic's retention now: each partition deletes the
// sealed segments that RetentionBytes and RetentionAge no longer keep (see
// partition.ApplyRetention). It returns how many segments were deleted, and calls
// Hooks.OnRetention for each partition that deleted some. The store calls it every
// Options.RetentionCheckInterval; call it yourself to apply retention at a moment
// of your choosing (tests, or with the background check turned off).
func (s *Store) ApplyRetention() (int, error) {
	set, err := s.snapshot()
	if err != nil {
		return 0, err
	}
	total := 0
	var errList []error
	for _, name := range set.sortedNames(true) {
		t := set[name]
		if t.config.RetentionBytes == Unlimited && t.config.RetentionAge == Unlimited {
			continue // nothing to do: deletion below the start offset happens on its own
		}
		for i := range t.partitions {
			for _, p := range t.logs(i) {
				tp := TopicPartition{Topic: name, Partition: int32(i)}
				n, err := p.ApplyRetention()
				if err != nil {
					err = s.partitionError("apply retention to", tp, p, err)
					if !errors.Is(err, ErrUnknownTopic) { // deleted meanwhile: nothing to retain
						errList = append(errList, err)
					}
					continue
				}
				if n == 0 {
					continue
				}
				total += n
				start := p.StartOffset()
				s.logger.Info("retention deleted segments", "partition", TopicPartition{Topic: name, Partition: int32(i)}.String(), "segments", n, "start-offset", start)
			}
		}
	}
	return total, errors.Join(errList...)
}

// Compact compacts every partition of every topic whose CleanupPolicy includes
// compaction and whose dirty ratio reaches the topic's MinCleanableDirtyRatio (see
// partition.Partition.Compact), one partition at a time. It returns how many
// partitions it compacted, and calls Hooks.OnCompaction for each. The store calls it
// every Options.RetentionCheckInterval, after ApplyRetention; call it yourself to
// compact at a moment of your choosing. Appends and reads go on meanwhile. If ctx ends
// it stops, returning ctx.Err().
func (s *Store) Compact(ctx context.Context) (int, error) {
	set, err := s.snapshot()
	if err != nil {
		return 0, err
	}
	total := 0
	var errList []error
	for _, name := range set.sortedNames(true) {
		t := set[name]
		if !t.config.compacts() {
			continue
		}
		for i := range t.partitions {
			for _, p := range t.logs(i) {
				if err := ctx.Err(); err != nil {
					return total, errors.Join(append(errList, err)...)
				}
				tp := TopicPartition{Topic: name, Partition: int32(i)}
				res, err := p.Compact(ctx)
				if err != nil {
					err = s.partitionError("compact", tp, p, err)
					if !errors.Is(err, ErrUnknownTopic) && !errors.Is(err, context.Canceled) {
						errList = append(errList, err)
					}
					continue
				}
				if res.Compacted {
					total++
				}
			}
		}
	}
	return total, errors.Join(errList...)
}

// CompactPartition compacts the partition tp now, whatever its dirty ratio (see
// partition.Partition.ForceCompact): what a test, or a tool rebuilding a changelog,
// calls. The topic's CleanupPolicy must include compaction (ErrInvalidConfig
// otherwise).
func (s *Store) CompactPartition(ctx context.Context, tp TopicPartition) (partition.CompactionResult, error) {
	t, err := s.lookupTopic(tp.Topic)
	if err != nil {
		return partition.CompactionResult{}, err
	}
	if !t.config.compacts() {
		return partition.CompactionResult{}, &ConfigError{What: "topic " + tp.Topic,
			Problems: []string{"CleanupPolicy: " + t.config.CleanupPolicy + " does not include " + CleanupCompact}}
	}
	p, err := s.lookupPartition(tp)
	if err != nil {
		return partition.CompactionResult{}, err
	}
	res, err := p.ForceCompact(ctx)
	if err != nil {
		return res, s.partitionError("compact", tp, p, err)
	}
	return res, nil
}

// retentionLoop applies retention and compaction every interval until Close, which
// cancels a compaction in progress.
func (s *Store) retentionLoop(interval time.Duration) {
	defer s.done.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() { // owned by the loop: it exits when the loop does
		select {
		case <-s.stop:
			cancel()
		case <-stopped:
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
		}
		if _, err := s.ApplyRetention(); err != nil && !errors.Is(err, ErrClosed) {
			s.logger.Error("background retention failed", "err", err)
		}
		if _, err := s.Compact(ctx); err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
			s.logger.Error("background compaction failed", "err", err)
		}
	}
}
