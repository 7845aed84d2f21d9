package log

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sync"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// The recovery points of a store of several brokers: each broker directory holds a
// recovery-points.checkpoint, in the format of the one-broker store's, with a line
// for each of its replicas: how far the replica's log was fsynced (and the mark of
// its newest segment), recorded every RecoveryPointInterval. After a power loss, a
// replica's records missing or damaged below that point are a corruption (the
// replica is rebuilt from an in-sync one, see rebuildReplica), never a torn tail
// cut silently: a leader cut that way would have its followers truncate the
// committed records it lost. A follower's line comes down, durably, before the
// follower truncates (replica.ClusterOptions.BeforeTruncate), and a replica's line
// goes before its directory is set aside, removed or made anew.

// brokerPoints is what the broker directories' recovery-points files hold.
type brokerPoints struct {
	mu sync.Mutex
	// hints are the points read at Open, by broker and partition directory, for
	// the replicas' Open.
	hints map[replica.BrokerID]map[string]recordedPoint
	// onDisk is what each broker's file holds; a missing entry: unknown (rewrite).
	onDisk map[replica.BrokerID]map[string]recordedPoint
	// highWatermarks is what each broker's high-watermarks.checkpoint holds; a
	// missing entry: unknown (rewrite).
	highWatermarks map[replica.BrokerID]map[string]leaderMark
}

// loadBrokerPoints reads every online broker directory's file. A damaged one is
// logged and ignored (its replicas then check against their own checkpoints) and
// rewritten at the next recording.
func (s *Store) loadBrokerPoints() {
	g := s.brokers
	g.points.hints = map[replica.BrokerID]map[string]recordedPoint{}
	g.points.onDisk = map[replica.BrokerID]map[string]recordedPoint{}
	g.points.highWatermarks = map[replica.BrokerID]map[string]leaderMark{}
	for _, b := range g.set.brokers {
		if b.offline != nil {
			continue
		}
		points, err := readRecoveryPoints(s.fsys, b.dir)
		if err != nil {
			s.logger.Error("recovery points unreadable: after a power loss, this broker's replicas check their newest segments only against their own checkpoints", "broker", b.id, "err", err)
			continue
		}
		g.points.hints[b.id] = points
		g.points.onDisk[b.id] = maps.Clone(points)
	}
}

// pointHint returns the recorded point of broker id's replica of a partition, for
// its Open.
func (g *brokerGroup) pointHint(id replica.BrokerID, name string) (int64, *partition.SegmentMark) {
	g.points.mu.Lock()
	defer g.points.mu.Unlock()
	point, ok := g.points.hints[id][name]
	if !ok {
		return 0, nil
	}
	if !point.marked {
		return point.offset, nil
	}
	mark := point.mark
	return point.offset, &mark
}

// lowerPoint brings broker id's recorded point of a partition down to at most end,
// durably, before its log loses records there (end 0: forgets it).
func (s *Store) lowerPoint(id replica.BrokerID, name string, end int64) error {
	g := s.brokers
	g.points.mu.Lock()
	defer g.points.mu.Unlock()
	delete(g.points.hints[id], name) // the hint of the log as it was at Open
	onDisk, known := g.points.onDisk[id]
	if known {
		if point, ok := onDisk[name]; !ok || point.offset <= end {
			return nil
		}
	}
	next := maps.Clone(onDisk)
	if next == nil {
		next = map[string]recordedPoint{}
	}
	if end > 0 {
		next[name] = recordedPoint{offset: end}
	} else {
		delete(next, name)
	}
	return s.writeBrokerPointsLocked(id, next)
}

// writeBrokerPointsLocked writes broker id's file; the caller holds points.mu.
func (s *Store) writeBrokerPointsLocked(id replica.BrokerID, points map[string]recordedPoint) error {
	g := s.brokers
	b, ok := g.brokerDirOf(id)
	if !ok {
		return fmt.Errorf("broker %d: %w", id, replica.ErrUnknownBroker)
	}
	if err := vfs.WriteFileAtomic(s.fsys, filepath.Join(b.dir, recoveryPointsFileName), encodeRecoveryPoints(points)); err != nil {
		delete(g.points.onDisk, id) // unknown: the rename may have happened
		return err
	}
	g.points.onDisk[id] = points
	return nil
}

// recordBrokerPoints writes each online broker's file if a point of its replicas
// changed: each open replica's DurablePoint.
func (s *Store) recordBrokerPoints() error {
	g := s.brokers
	set := *s.topics.Load() // also at Close, after closed is set

	current := map[replica.BrokerID]map[string]recordedPoint{}
	marks := map[replica.BrokerID]map[string]leaderMark{}
	for _, t := range set {
		for i, rp := range t.replicas {
			name := partitionDirName(t.name, i)
			if r, err := rp.Leader(); err == nil && r.Log().Replicated() {
				if marks[r.Broker()] == nil {
					marks[r.Broker()] = map[string]leaderMark{}
				}
				st := r.State()
				if !st.LeaderRecovering {
					marks[r.Broker()][name] = leaderMark{hw: r.Log().HighWatermark(), epoch: st.LeaderEpoch}
				}
			}
			for id, r := range rp.Replicas() {
				var point recordedPoint
				point.offset, point.mark, point.marked = r.Log().DurablePoint()
				if point.offset == 0 {
					continue
				}
				if current[id] == nil {
					current[id] = map[string]recordedPoint{}
				}
				current[id][name] = point
			}
		}
	}
	g.points.mu.Lock()
	defer g.points.mu.Unlock()
	var errList []error
	for _, b := range g.set.brokers {
		if b.offline != nil || !g.cluster.Online(b.id) {
			continue
		}
		onDisk, known := g.points.onDisk[b.id]
		if !known || !maps.EqualFunc(onDisk, current[b.id], func(a, b recordedPoint) bool { return a == b }) {
			if err := s.writeBrokerPointsLocked(b.id, current[b.id]); err != nil {
				errList = append(errList, fmt.Errorf("broker %d: %w", b.id, err))
			}
		}
		written, known := g.points.highWatermarks[b.id]
		if known && maps.EqualFunc(written, marks[b.id], func(a, b leaderMark) bool { return a == b }) {
			continue
		}
		if err := vfs.WriteFileAtomic(s.fsys, filepath.Join(b.dir, highWatermarksFileName), encodeHighWatermarks(marks[b.id])); err != nil {
			delete(g.points.highWatermarks, b.id)
			errList = append(errList, fmt.Errorf("broker %d: %w", b.id, err))
			continue
		}
		g.points.highWatermarks[b.id] = marks[b.id]
	}
	return errors.Join(errList...)
}

// beforeTruncate is the cluster's BeforeTruncate: the recorded point comes down
// first.
func (s *Store) beforeTruncate(id replica.BrokerID, name string, end int64) error {
	return s.lowerPoint(id, name, end)
}
