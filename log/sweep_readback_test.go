package log_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// How the corruption sweep judges a damaged store: it opens it, reads every
// partition from its start offset to its end with a plain Consumer, seeks by offset
// and by time, compares the committed offsets of every group, produces one record
// to every partition, and closes it. What it finds is one outcome, the worst found.

// outcome is what became of one damaged store, from best to worst.
type outcome int

const (
	// harmless: everything acknowledged reads back exactly, and no error.
	harmless outcome = iota
	// detected: an error says so (Open fails, a partition is offline, a read, seek,
	// produce or close fails), and nothing acknowledged is silently lost elsewhere.
	detected
	// truncatedLoud: recovery after a crash cut acknowledged records at the end of
	// a partition, as a torn write, logged at Error.
	truncatedLoud
	// truncatedWarn: the same, logged only at Warn.
	truncatedWarn
	// silentKnown: silent, but a documented gap of the allow-list (knownGaps).
	silentKnown
	// silentFinding: silent, and on the allow-list as a FINDING: a bug reported to
	// be fixed, that does not fail the sweep meanwhile.
	silentFinding
	// silent: no error anywhere, yet an acknowledged record is missing, changed, at
	// another offset, or an extra record appears, or a committed offset changed.
	silent
	// hung: a call did not return, or a consumer waited for records that never came.
	hung
	// panicked: a call panicked.
	panicked
)

var outcomeNames = [...]string{"harmless", "detected", "trunc-loud", "trunc-warn", "known-gap", "FINDING", "SILENT", "HANG", "PANIC"}

func (o outcome) String() string { return outcomeNames[o] }

// failing reports whether the outcome fails the sweep.
func (o outcome) failing() bool { return o == silent || o == hung || o == panicked }

// verdict is an outcome with how it was reached: for detected, the step whose
// error told (open, offline, read, seek, offsets, produce, close); otherwise what
// differed.
type verdict struct {
	outcome outcome
	how     string
	detail  string
}

// worse returns the worse of two verdicts, the first on a tie.
func worse(a, b verdict) verdict {
	if b.outcome > a.outcome {
		return b
	}
	return a
}

func detectedBy(how string, err error) verdict {
	return verdict{outcome: detected, how: how, detail: err.Error()}
}

// judgeStore opens the damaged store in dir of fsys and judges it against acked. A
// consumer that waits past ctx's deadline is a hang. logs receives the store's log.
func judgeStore(ctx context.Context, fsys vfs.FS, dir string, acked *acknowledgements, logs *logBuffer) verdict {
	s, err := log.Open(dir, sweepOptions(fsys, logs.logger()))
	if err != nil {
		return detectedBy("open", err)
	}
	v := verdict{outcome: harmless}
	for _, offline := range s.OfflinePartitions() {
		v = worse(v, detectedBy("offline", offline))
	}
	for _, p := range acked.partitions() {
		v = worse(v, judgePartition(ctx, s, p, acked, logs))
	}
	v = worse(v, judgeCommitted(ctx, s, acked, logs))
	if err := s.Close(); err != nil {
		v = worse(v, detectedBy("close", err))
	}
	return v
}

// judgePartition reads p whole, then seeks in it, then produces a record to it.
func judgePartition(ctx context.Context, s *log.Store, p log.TopicPartition, acked *acknowledgements, logs *logBuffer) verdict {
	d, err := s.DescribeTopic(p.Topic)
	switch {
	case errors.Is(err, log.ErrUnknownTopic):
		return verdict{outcome: silent, detail: fmt.Sprintf("topic %s is gone", p.Topic)}
	case err != nil:
		return detectedBy("describe", err)
	case int(p.Partition) >= len(d.Partitions):
		return verdict{outcome: silent, detail: fmt.Sprintf("%s is gone: the topic has %d partitions", p, len(d.Partitions))}
	}
	info := d.Partitions[p.Partition]
	if info.Offline != nil {
		return detectedBy("offline", info.Offline)
	}
	got, readErr := readPartition(ctx, s, p, info.StartOffset, info.EndOffset)
	if errors.Is(readErr, context.DeadlineExceeded) {
		return verdict{outcome: hung, detail: fmt.Sprintf("%s: a consumer waits at offset %d for records below the end offset %d", p, nextOffset(got, info.StartOffset), info.EndOffset)}
	}
	if wrong := wrongRecord(got, acked, p); wrong != "" {
		return verdict{outcome: silent, detail: fmt.Sprintf("%s: %s", p, wrong)}
	}
	if readErr != nil {
		return detectedBy("read", readErr)
	}
	if missing := missingRecords(got, acked, p, info); missing != "" {
		return tailVerdict(got, p, info, acked, logs, missing)
	}
	if v := judgeSeeks(ctx, s, p, got); v.outcome != harmless {
		return v
	}
	return judgeProduce(ctx, s, p, info.EndOffset)
}

// readPartition polls p from start until its position reaches end.
func readPartition(ctx context.Context, s *log.Store, p log.TopicPartition, start, end int64) ([]*log.Record, error) {
	c, err := s.NewConsumer(log.ConsumerOptions{MaxPollRecords: 1000, Reset: log.ResetNone})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Assign(p); err != nil {
		return nil, err
	}
	if err := c.Seek(p, start); err != nil {
		return nil, err
	}
	var got []*log.Record
	for position := start; position < end; {
		records, err := c.Poll(ctx)
		got = append(got, records...)
		if err != nil {
			return got, err
		}
		if position, err = c.Position(p); err != nil {
			return got, err
		}
	}
	return got, nil
}

func nextOffset(got []*log.Record, start int64) int64 {
	if len(got) == 0 {
		return start
	}
	return got[len(got)-1].Offset + 1
}

// wrongRecord describes the first record read that was never acknowledged at its
// offset (a changed, moved or extra record), or a record read twice or out of
// order; "" if there is none.
func wrongRecord(got []*log.Record, acked *acknowledgements, p log.TopicPartition) string {
	byOffset := map[int64]ackedRecord{}
	for _, r := range acked.records[p] {
		byOffset[r.Offset] = r
	}
	previous := int64(-1)
	for _, r := range got {
		want, ok := byOffset[r.Offset]
		switch {
		case r.Offset <= previous:
			return fmt.Sprintf("offset %d read after offset %d", r.Offset, previous)
		case !ok:
			return fmt.Sprintf("offset %d was never acknowledged (the end was %d), yet it reads key %q", r.Offset, acked.end(p), r.Key)
		case !bytes.Equal(r.Key, want.Key) || !bytes.Equal(r.Value, want.Value) || (r.Value == nil) != (want.Value == nil):
			return fmt.Sprintf("offset %d reads key %q value %.40q, acknowledged key %q value %.40q", r.Offset, r.Key, r.Value, want.Key, want.Value)
		case !r.Timestamp.Equal(want.Timestamp):
			return fmt.Sprintf("offset %d has timestamp %v, acknowledged %v", r.Offset, r.Timestamp, want.Timestamp)
		}
		previous = r.Offset
	}
	return ""
}

// missingRecords describes what acknowledged is missing from got (which holds only
// acknowledged records: see wrongRecord), or "" if nothing is: every record of a
// plain topic; a compacted topic's latest record of each key (its tombstone may be
// gone, but then no older record of the key may be left); and the start and end
// offsets.
func missingRecords(got []*log.Record, acked *acknowledgements, p log.TopicPartition, info log.PartitionInfo) string {
	var problems []string
	if info.StartOffset != 0 {
		problems = append(problems, fmt.Sprintf("the start offset is %d, not 0", info.StartOffset))
	}
	if end := acked.end(p); info.EndOffset != end {
		problems = append(problems, fmt.Sprintf("the end offset is %d, acknowledged %d", info.EndOffset, end))
	}
	read := map[int64]bool{}
	lastRead := map[string]int64{} // key -> offset of its last record read
	for _, r := range got {
		read[r.Offset] = true
		lastRead[string(r.Key)] = r.Offset
	}
	if !acked.compacted(p) {
		for _, r := range acked.records[p] {
			if !read[r.Offset] {
				problems = append(problems, fmt.Sprintf("offset %d is missing", r.Offset))
				break
			}
		}
		return strings.Join(problems, "; ")
	}
	latest := map[string]ackedRecord{}
	for _, r := range acked.records[p] {
		latest[string(r.Key)] = r
	}
	for key, want := range latest {
		last, ok := lastRead[key]
		switch {
		case want.Value == nil && (!ok || last == want.Offset):
		case !ok:
			problems = append(problems, fmt.Sprintf("key %q (latest at offset %d) is missing", key, want.Offset))
		case last != want.Offset:
			problems = append(problems, fmt.Sprintf("key %q reads as of offset %d, its latest is at %d", key, last, want.Offset))
		}
	}
	return strings.Join(problems, "; ")
}

// tailVerdict judges a partition that read without error but lacks acknowledged
// records. If only its end is gone (what it holds is exactly what was acknowledged
// below its end offset) and recovery logged cutting that partition, it is a
// truncation; otherwise it is silent.
func tailVerdict(got []*log.Record, p log.TopicPartition, info log.PartitionInfo, acked *acknowledgements, logs *logBuffer, missing string) verdict {
	v := verdict{outcome: silent, detail: fmt.Sprintf("%s: %s", p, missing)}
	if info.EndOffset < acked.end(p) && missingRecords(got, acked.below(p, info.EndOffset), p, info) == "" {
		v.outcome = truncationLogged(logs, p)
	}
	return v
}

// truncationLogged returns truncatedLoud if the store logged, at Error, cutting
// a batch of p's files, truncatedWarn if at Warn, and silent if it did not.
func truncationLogged(logs *logBuffer, p log.TopicPartition) outcome {
	result := silent
	for line := range strings.Lines(logs.String()) {
		if !strings.Contains(line, "truncated") || !strings.Contains(line, "/"+p.String()+"/") {
			continue
		}
		switch {
		case strings.Contains(line, "level=ERROR"):
			return truncatedLoud
		case strings.Contains(line, "level=WARN"):
			result = truncatedWarn
		}
	}
	return result
}

// judgeSeeks seeks to every third offset, and to the timestamp of every third
// record, and checks that the next record is the first read at or after it. The
// indexes serve these lookups: damage to them must not send a consumer elsewhere.
func judgeSeeks(ctx context.Context, s *log.Store, p log.TopicPartition, got []*log.Record) verdict {
	c, err := s.NewConsumer(log.ConsumerOptions{MaxPollRecords: 1, Reset: log.ResetNone})
	if err != nil {
		return detectedBy("seek", err)
	}
	defer c.Close()
	if err := c.Assign(p); err != nil {
		return detectedBy("seek", err)
	}
	for i := 0; i < len(got); i += 3 {
		for _, byTime := range []bool{false, true} {
			what := fmt.Sprintf("seek to offset %d", got[i].Offset)
			if byTime {
				what = fmt.Sprintf("seek to time %d", got[i].Timestamp.UnixMilli())
				err = c.SeekToTime(p, got[i].Timestamp)
			} else {
				err = c.Seek(p, got[i].Offset)
			}
			if err != nil {
				return detectedBy("seek", err)
			}
			records, err := c.Poll(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				return verdict{outcome: hung, detail: fmt.Sprintf("%s: after a %s, a consumer waits", p, what)}
			}
			if err != nil {
				return detectedBy("seek", err)
			}
			if records[0].Offset != got[i].Offset {
				return verdict{outcome: silent, detail: fmt.Sprintf("%s: %s reads offset %d", p, what, records[0].Offset)}
			}
		}
	}
	return verdict{outcome: harmless}
}

// judgeProduce produces one record to p (unless internal): it must get offset end.
func judgeProduce(ctx context.Context, s *log.Store, p log.TopicPartition, end int64) verdict {
	if strings.HasPrefix(p.Topic, "__") {
		return verdict{outcome: harmless}
	}
	r := &log.Record{Topic: p.Topic, Partition: p.Partition, ExplicitPartition: true, Key: []byte("sweep-probe"), Value: []byte("after the damage")}
	if err := s.Produce(ctx, r); err != nil {
		return detectedBy("produce", err)
	}
	if r.Offset != end {
		return verdict{outcome: silent, detail: fmt.Sprintf("%s: a record produced after the damage got offset %d, the end was %d", p, r.Offset, end)}
	}
	return verdict{outcome: harmless}
}

// judgeCommitted compares every group's committed offsets with those acknowledged.
func judgeCommitted(ctx context.Context, s *log.Store, acked *acknowledgements, logs *logBuffer) verdict {
	v := verdict{outcome: harmless}
	for group, want := range acked.committed {
		got, err := s.CommittedOffsets(ctx, group)
		if err != nil {
			v = worse(v, detectedBy("offsets", err))
			continue
		}
		var problems []string
		for p, offset := range want {
			if c, ok := got[p]; !ok || c.Offset != offset {
				problems = append(problems, fmt.Sprintf("%s: %d (committed %d)", p, c.Offset, offset))
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %d (never committed)", p, got[p].Offset))
			}
		}
		if problems == nil {
			continue
		}
		detail := fmt.Sprintf("group %s offsets %s", group, strings.Join(problems, ", "))
		switch skipped := s.Stats().SkippedOffsetsRecords; {
		case skipped > 0:
			v = worse(v, verdict{outcome: detected, how: "offsets-skipped", detail: detail})
		default:
			v = worse(v, verdict{outcome: truncationLogged(logs, tp(log.OffsetsTopic, 0)), detail: detail})
		}
	}
	return v
}
