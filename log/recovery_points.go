package log

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// The store's recovery points: how far each partition was fsynced, recorded
// outside the partition directories (Kafka's recovery-point-offset-checkpoint, one
// per log directory). A partition's own checkpoint moves its recovery point only at
// rolls, Open and Close, so after a power loss nothing in its directory says how far
// its newest segment was fsynced, and that segment cut exactly at a batch boundary
// would read as a shorter log. The store records each partition's DurableOffset
// every Options.RecoveryPointInterval (and at Sync and Close) and hands it back to
// partition.Open as Options.RecoveryPoint: records fsynced below it and missing are
// then a corruption (the partition goes offline), not silently gone.
//
// Format (FORMAT.md, "recovery-points.checkpoint"), in the text format of the
// partition checkpoints (package internal/keyvalue):
//
//	strata-recovery-points 1
//	orders-0 368769 368000 2c5e0a4b7d1f9e36
//	orders-1 1200
//	crc32c 8ad21ecf
//
// One line per partition directory, sorted by name: every offset of the partition
// below the number was fsynced when the file was written; and, when those offsets
// lie in a segment, that segment's base and the term of its first batch
// (partition.DurablePoint), so that after a crash a newest segment of that base is
// known to begin with that batch (partition.Options.RecoveryPointSegment).
// Partitions at 0 are left out. It is replaced crash-atomically (temp file, fsync, rename, fsync of the
// store's directory), only when a value changed.
//
// A value must never be above the partition's legitimate end, or the next Open
// after a crash reports records as missing that were removed on purpose:
//
//   - values come only from DurableOffset (never above what is fsynced), or from
//     the file itself for an offline partition (Repair never lowers the end offset,
//     so they stay valid across a repair);
//   - before a partition directory is created, the file holds no line for its name
//     (DeleteTopic rewrites it without the topic's partitions after its commit
//     point; CreateTopic and AddPartitions rewrite it first if a line is left, from
//     a deletion that crashed or failed to rewrite it), and Open ignores, and drops
//     at its own write, the lines of partitions topics.json does not list;
//   - a truncation (partition.TruncateTo, for the replica layer) lowers the line
//     first: see truncatePartition.
//
// The file is a hint: one that cannot be read or fails its checks is logged at
// Error and ignored (the partitions then check against their own checkpoints, as
// before the file existed), and rewritten whole at the next write. Failing the
// store for it would take every partition offline for the sake of one extra check;
// what it guards (a newest segment cut at a batch boundary) needs the file and a
// damaged segment at once.

// Format: the store's recovery-points file.
const (
	recoveryPointsFileName = "recovery-points.checkpoint"
	recoveryPointsFormat   = "strata-recovery-points"
	recoveryPointsVersion  = 1
	// maxRecoveryPointsBytes bounds the size of the file that Open believes.
	maxRecoveryPointsBytes = 64 << 20
)

// DefaultRecoveryPointInterval is how often a store records its partitions'
// recovery points by default. Kafka's log.flush.offset.checkpoint.interval.ms is a
// minute; here it costs one small file per store, written only when a value changed.
const DefaultRecoveryPointInterval = time.Second

// minRecoveryPointInterval is the shortest RecoveryPointInterval: each write
// fsyncs a file and the directory.
const minRecoveryPointInterval = time.Millisecond

// recordedPoint is a partition's line of the file: its recovery point and, when
// marked, the segment holding the offsets just below it (partition.DurablePoint).
type recordedPoint struct {
	offset int64
	mark   partition.SegmentMark
	marked bool
}

// value returns the point as the file writes it: "<offset>", or "<offset> <segment
// base> <first batch's term, 16 hex digits>".
func (r recordedPoint) value() string {
	if !r.marked {
		return strconv.FormatInt(r.offset, 10)
	}
	return fmt.Sprintf("%d %d %016x", r.offset, r.mark.Base, r.mark.FirstTerm)
}

// parseRecordedPoint is the inverse of value: it accepts a value only as value
// writes it (no sign, no leading zero, lowercase hex), so that a damaged line is
// never read as a second spelling of a point.
func parseRecordedPoint(value string) (recordedPoint, bool) {
	fields := strings.Split(value, " ")
	var r recordedPoint
	var err error
	if r.offset, err = strconv.ParseInt(fields[0], 10, 64); err != nil || r.offset < 0 {
		return r, false
	}
	switch len(fields) {
	case 1:
	case 3:
		var err1, err2 error
		r.mark.Base, err1 = strconv.ParseInt(fields[1], 10, 64)
		r.mark.FirstTerm, err2 = strconv.ParseUint(fields[2], 16, 64)
		r.marked = true
		if err1 != nil || err2 != nil || r.mark.Base < 0 || r.mark.Base >= r.offset {
			return r, false
		}
	default:
		return r, false
	}
	return r, r.value() == value
}

// encodeRecoveryPoints returns the file holding points (by partition directory).
func encodeRecoveryPoints(points map[string]recordedPoint) []byte {
	fields := make([]string, 0, 2*len(points))
	for _, name := range slices.Sorted(maps.Keys(points)) {
		fields = append(fields, name, points[name].value())
	}
	return keyvalue.Encode(recoveryPointsFormat, recoveryPointsVersion, fields...)
}

// decodeRecoveryPoints checks the file read from path and returns its points by
// partition directory. Any failure is a *CorruptError.
func decodeRecoveryPoints(path string, data []byte) (map[string]recordedPoint, error) {
	fields, _, err := keyvalue.Decode(path, recoveryPointsFormat, recoveryPointsVersion, recoveryPointsVersion, data)
	if err != nil {
		return nil, err
	}
	delete(fields, recoveryPointsFormat)
	points := make(map[string]recordedPoint, len(fields))
	for name, value := range fields {
		point, valid := parseRecordedPoint(value)
		if _, _, ok := parsePartitionDirName(name); !ok || !valid {
			return nil, errs.Corruptf(path, 0, "%s: bad line %q", recoveryPointsFormat, name+" "+value)
		}
		points[name] = point
	}
	return points, nil
}

// readRecoveryPoints reads the store's recovery-points file; a missing one holds no
// points.
func readRecoveryPoints(fsys vfs.FS, dir string) (map[string]recordedPoint, error) {
	path := filepath.Join(dir, recoveryPointsFileName)
	data, err := keyvalue.ReadFile(fsys, path, maxRecoveryPointsBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return map[string]recordedPoint{}, nil
	case err != nil:
		return nil, err
	}
	return decodeRecoveryPoints(path, data)
}

// loadRecoveryPoints reads the store's recovery-points file into s: the point of
// each partition meta lists, for its Open, and everything the file holds, to know
// when it must be rewritten. A file that cannot be read or fails its checks is
// ignored (no points) and its error returned, for the caller to log or report.
func (s *Store) loadRecoveryPoints(meta metadataFile) error {
	rp := &s.recoveryPoints
	rp.Lock()
	defer rp.Unlock()
	points, err := readRecoveryPoints(s.fsys, s.dir)
	rp.onDisk, rp.hints = nil, map[TopicPartition]recordedPoint{} // nil onDisk: rewrite it
	if err == nil {
		rp.onDisk = make(map[TopicPartition]recordedPoint, len(points))
		for name, point := range points {
			topic, partition, _ := parsePartitionDirName(name) // checked by decodeRecoveryPoints
			rp.onDisk[TopicPartition{Topic: topic, Partition: int32(partition)}] = point
		}
	}
	for _, t := range meta.Topics {
		for i := range t.Partitions {
			if point, ok := points[partitionDirName(t.Name, i)]; ok {
				rp.hints[TopicPartition{Topic: t.Name, Partition: int32(i)}] = point
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s is ignored (the next write replaces it): %w", recoveryPointsFileName, err)
	}
	return nil
}

// recoveryPointHint returns the recovery point recorded for tp (0: none) and the
// mark of the segment recorded with it (nil: none), for its partition.Options.
func (s *Store) recoveryPointHint(tp TopicPartition) (int64, *partition.SegmentMark) {
	s.recoveryPoints.Lock()
	defer s.recoveryPoints.Unlock()
	r := s.recoveryPoints.hints[tp]
	if !r.marked {
		return r.offset, nil
	}
	return r.offset, &r.mark
}

// recordRecoveryPoints rewrites the store's recovery-points file if a point
// changed: the DurableOffset of every online partition, the recorded point of every
// offline one.
func (s *Store) recordRecoveryPoints() error {
	if s.brokers != nil {
		return s.recordBrokerPoints()
	}
	s.recoveryPoints.Lock()
	defer s.recoveryPoints.Unlock()
	return s.recordRecoveryPointsLocked(nil)
}

// recordRecoveryPointsLocked is recordRecoveryPoints for a caller holding
// recoveryPoints; lower gives the points of partitions to record lower than their
// DurableOffset (see truncatePartition).
//
// It runs every RecoveryPointInterval over every partition: when no point changed
// it allocates nothing (a first pass compares, by TopicPartition, without making a
// directory name), and only a write builds the file's lines.
func (s *Store) recordRecoveryPointsLocked(lower map[TopicPartition]int64) error {
	rp := &s.recoveryPoints
	if rp.closed {
		return ErrClosed // the store's lock may be another's by now
	}
	if s.brokers != nil {
		return nil // each broker directory has its own file: replicated_recovery.go
	}
	set := *s.topics.Load()
	changed, recorded := rp.onDisk == nil, 0
	for _, t := range set {
		for i, p := range t.partitions {
			tp := TopicPartition{Topic: t.name, Partition: int32(i)}
			point, known := rp.hints[tp] // offline: what was recorded
			if p != nil {
				var durable recordedPoint
				durable.offset, durable.mark, durable.marked = p.DurablePoint()
				if low, ok := lower[tp]; ok && low < durable.offset {
					durable = recordedPoint{offset: low} // the mark is of the log above low
				}
				if !known || durable != point {
					point = durable
					rp.hints[tp] = point
				}
			}
			if point.offset > 0 {
				recorded++
				changed = changed || rp.onDisk[tp] != point
			}
		}
	}
	if !changed && recorded == len(rp.onDisk) {
		return nil // every point on disk is one of the partitions' and equal
	}
	points, lines := make(map[TopicPartition]recordedPoint, recorded), make(map[string]recordedPoint, recorded)
	for _, t := range set {
		for i := range t.partitions {
			tp := TopicPartition{Topic: t.name, Partition: int32(i)}
			if point := rp.hints[tp]; point.offset > 0 {
				points[tp], lines[partitionDirName(t.name, i)] = point, point
			}
		}
	}
	if err := vfs.WriteFileAtomic(s.fsys, filepath.Join(s.dir, recoveryPointsFileName), encodeRecoveryPoints(lines)); err != nil {
		// The file may be the old one or the new one (renamed into place, the
		// directory not fsynced, which a later fsync of the directory makes
		// durable): unknown, so that the next write, and forgetRecoveryPoints,
		// happen whatever it holds.
		rp.onDisk = nil
		return errorf("strata/log: record recovery points: %w", err)
	}
	rp.onDisk = points
	return nil
}

// closeRecoveryPoints records the recovery points one last time, for Close (after
// the partitions closed): no write follows it.
func (s *Store) closeRecoveryPoints() error {
	s.recoveryPoints.Lock()
	defer s.recoveryPoints.Unlock()
	err := s.recordRecoveryPointsLocked(nil)
	s.recoveryPoints.closed = true
	return err
}

// forgetRecoveryPoints forgets the points of partitions [from, to) of topic and, if
// the file holds a line for one of them, or what it holds is unknown (unreadable at
// Open, or a write failed, maybe after its rename), rewrites it without, durably: before their
// directories are made anew (CreateTopic, AddPartitions) and after a DeleteTopic
// committed, so that no partition inherits a point of an earlier one of its name.
// The caller holds adminMu, and the partitions are in no published topic set.
func (s *Store) forgetRecoveryPoints(topic string, from, to int) error {
	rp := &s.recoveryPoints
	rp.Lock()
	defer rp.Unlock()
	stale := rp.onDisk == nil // unknown: unreadable at Open, or a write failed
	for i := from; i < to; i++ {
		tp := TopicPartition{Topic: topic, Partition: int32(i)}
		delete(rp.hints, tp)
		_, recorded := rp.onDisk[tp]
		stale = stale || recorded
	}
	if !stale {
		return nil
	}
	return s.recordRecoveryPointsLocked(nil)
}

// rememberRecoveryPoint records point, the durable offset of tp's partition closed
// as it went offline (a repair), for its next Open: it stays in the file meanwhile.
func (s *Store) rememberRecoveryPoint(tp TopicPartition, point recordedPoint) {
	s.recoveryPoints.Lock()
	defer s.recoveryPoints.Unlock()
	s.recoveryPoints.hints[tp] = point
}

// truncatePartition truncates tp (partition.TruncateTo) as a store must: its
// recorded point comes down to at most the new end first, durably, and stays there
// until the truncation is done, so that no crash leaves it above the log's end. It
// is the store's side of a truncation for the replica layer; no public call
// truncates today.
func (s *Store) truncatePartition(tp TopicPartition, offset int64) (int64, error) {
	p, err := s.lookupPartition(tp)
	if err != nil {
		return 0, err
	}
	rp := &s.recoveryPoints
	rp.Lock()
	defer rp.Unlock()
	// The batch holding offset goes whole: the new end is at least the start offset.
	lowest := map[TopicPartition]int64{tp: p.StartOffset()}
	if err := s.recordRecoveryPointsLocked(lowest); err != nil {
		return 0, err
	}
	end, err := p.TruncateTo(offset)
	if err != nil {
		return 0, s.partitionError("truncate", tp, p, err)
	}
	return end, s.recordRecoveryPointsLocked(nil)
}

// recoveryPointLoop records the recovery points every interval until Close. A
// failure is logged once, until a write succeeds again.
func (s *Store) recoveryPointLoop(interval time.Duration) {
	defer s.done.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
		}
		switch err := s.recordRecoveryPoints(); {
		case err != nil && !failing:
			s.logger.Error("recording the recovery points failed: after a power loss, recovery checks the newest segments only against their partitions' own checkpoints", "err", err)
			failing = true
		case err == nil && failing:
			s.logger.Info("recording the recovery points works again")
			failing = false
		}
	}
}
