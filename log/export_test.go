package log

import (
	"context"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// Abandon stops g as if its process died: no commit, no leave.
func Abandon(g *GroupConsumer) { g.abandon() }

// ZombieCommit commits records for g after it was abandoned, bypassing its closed
// state, as a zombie process would.
func ZombieCommit(g *GroupConsumer, ctx context.Context, records ...*Record) error {
	offsets := map[TopicPartition]OffsetAndMetadata{}
	for _, r := range records {
		offsets[TopicPartition{Topic: r.Topic, Partition: r.Partition}] = OffsetAndMetadata{Offset: r.Offset + 1}
	}
	return g.member.Commit(ctx, offsets)
}

// RollPartition rolls tp's active segment, so that what it held becomes sealed
// (compactable).
func RollPartition(t testing.TB, s *Store, tp TopicPartition) {
	t.Helper()
	p, err := s.lookupPartition(tp)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Roll(); err != nil {
		t.Fatal(err)
	}
}

// RecordedRecoveryPoints returns the recovery points the recovery-points file of the
// store in dir holds, by partition directory.
func RecordedRecoveryPoints(fsys vfs.FS, dir string) (map[string]int64, error) {
	points, err := readRecoveryPoints(fsys, dir)
	out := make(map[string]int64, len(points))
	for name, p := range points {
		out[name] = p.offset
	}
	return out, err
}

// RecordedSegmentMarks returns the segment marks the recovery-points file of the
// store in dir holds, by partition directory (unmarked lines are left out).
func RecordedSegmentMarks(fsys vfs.FS, dir string) (map[string]partition.SegmentMark, error) {
	points, err := readRecoveryPoints(fsys, dir)
	out := map[string]partition.SegmentMark{}
	for name, p := range points {
		if p.marked {
			out[name] = p.mark
		}
	}
	return out, err
}

// TruncatePartition truncates tp as the replica layer will (truncatePartition).
func TruncatePartition(s *Store, tp TopicPartition, offset int64) (int64, error) {
	return s.truncatePartition(tp, offset)
}
