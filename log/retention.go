package log

import (
	"errors"
	"time"
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
		for i, p := range t.partitions {
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
			s.logger.Info("retention deleted segments", "topic", name, "partition", i, "segments", n, "start-offset", start)
		}
	}
	return total, errors.Join(errList...)
}

// retentionLoop applies retention every interval until Close.
func (s *Store) retentionLoop(interval time.Duration) {
	defer s.done.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
		}
		if _, err := s.ApplyRetention(); err != nil && !errors.Is(err, ErrClosed) {
			s.logger.Error("background retention failed", "err", err)
		}
	}
}
