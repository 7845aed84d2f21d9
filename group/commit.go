package group

import (
	"context"
	"fmt"
	"time"
)

// CommitRequest is an OffsetCommit.
type CommitRequest struct {
	Group string
	// MemberID, InstanceID and Generation identify the committing member of the
	// current generation. A consumer outside any group (assigning partitions itself)
	// commits with an empty MemberID and Generation -1, which is accepted only
	// while the group has no members, as in Kafka.
	MemberID   string
	InstanceID string
	Generation int32
	// Offsets to commit, by partition; all are stored in one write.
	Offsets map[TopicPartition]OffsetAndMetadata
}

// CommitOffsets validates the committing member and stores its offsets durably (as
// the offset store defines it: with PartitionOffsetStore, under the partition's sync
// policy), returning once they are stored. It rejects, storing nothing:
//
//   - a member the group does not know: ErrUnknownMemberID (ErrFencedInstanceID);
//   - a generation other than the group's: ErrIllegalGeneration. A member fenced
//     out by a rebalance can never overwrite the offsets of the member that took
//     its partitions over: commits of one group are serialized with their
//     validation, so a commit accepted for a generation is stored before any
//     commit of a later generation is validated;
//   - a commit while the group waits for its leader's assignment:
//     ErrRebalanceInProgress (during PreparingRebalance commits are accepted, so
//     that members can commit before they rejoin);
//   - bad input: ErrInvalidGroupID, ErrInvalidArgument (an empty topic, a negative
//     partition or offset), ErrOffsetMetadataTooLarge.
//
// A commit also keeps the member's session alive. If ctx ends while the offsets are
// written, CommitOffsets returns ctx.Err() and the commit may or may not survive a
// restart, as with a timed-out Kafka commit.
func (c *Coordinator) CommitOffsets(ctx context.Context, req CommitRequest) error {
	if err := c.validateCommit(req); err != nil {
		return err
	}
	if len(req.Offsets) == 0 {
		return nil
	}
	unlock, err := c.lockGroup(ctx, req.Group)
	if err != nil {
		return err
	}
	defer unlock()
	now, err := c.admitCommit(req)
	if err != nil {
		return err
	}
	return c.store.Write(ctx, req.Group, Write{Commits: committedAt(req.Offsets, now)})
}

// committedAt returns offsets as committed at now, in the log's millisecond
// precision.
func committedAt(offsets map[TopicPartition]OffsetAndMetadata, now time.Time) map[TopicPartition]CommittedOffset {
	commitTime := time.UnixMilli(now.UnixMilli()) // what the log stores
	commits := make(map[TopicPartition]CommittedOffset, len(offsets))
	for tp, o := range offsets {
		commits[tp] = CommittedOffset{Offset: o.Offset, Metadata: o.Metadata, CommitTime: commitTime}
	}
	return commits
}

// validateCommit checks the request's shape.
func (c *Coordinator) validateCommit(req CommitRequest) error {
	if err := validateGroupID(req.Group); err != nil {
		return err
	}
	for tp, o := range req.Offsets {
		if err := validateName("topic", tp.Topic, false); err != nil {
			return err
		}
		if tp.Partition < 0 || o.Offset < 0 {
			return fmt.Errorf("%w: commit of offset %d for %v", ErrInvalidArgument, o.Offset, tp)
		}
		if len(o.Metadata) > c.opts.MaxOffsetMetadataBytes {
			return fmt.Errorf("%w: %d bytes for %v (at most %d)", ErrOffsetMetadataTooLarge, len(o.Metadata), tp, c.opts.MaxOffsetMetadataBytes)
		}
	}
	return nil
}

// admitCommit decides whether the group accepts the commit now (Kafka's rules), and
// returns the time of the commit.
func (c *Coordinator) admitCommit(req CommitRequest) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return time.Time{}, ErrCoordinatorClosed
	}
	now := c.now()
	g := c.mu.groups[req.Group]
	if req.Generation < 0 && req.MemberID == "" {
		// A consumer outside any group: only while the group has no members.
		if g == nil {
			g = newGroupMetadata(req.Group, now)
			c.mu.groups[req.Group] = g
		}
		if g.state != Empty {
			return time.Time{}, ErrUnknownMemberID
		}
		return now, nil
	}
	if g == nil {
		return time.Time{}, ErrUnknownMemberID
	}
	if err := g.checkMember(req.MemberID, req.InstanceID); err != nil {
		return time.Time{}, err
	}
	if req.Generation != g.generation {
		return time.Time{}, ErrIllegalGeneration
	}
	if g.state == CompletingRebalance {
		return time.Time{}, ErrRebalanceInProgress
	}
	m := g.members[req.MemberID]
	m.sessionDeadline = now.Add(m.sessionTimeout)
	return now, nil
}

// FetchOffsets returns the group's committed offsets for partitions (all of them if
// partitions is nil); a partition without a committed offset is missing from the
// map, and so is every partition of a group that does not exist. It waits for
// commits of the group that are being written, so that a member that just got a
// partition sees the last commit of the member that had it. It blocks only as long
// as such a write; ctx bounds the wait.
func (c *Coordinator) FetchOffsets(ctx context.Context, group string, partitions []TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	if err := validateGroupID(group); err != nil {
		return nil, err
	}
	if c.isClosed() {
		return nil, ErrCoordinatorClosed
	}
	unlock, err := c.lockGroup(ctx, group)
	if err != nil {
		return nil, err
	}
	defer unlock()
	offsets := c.store.Offsets(group)
	if partitions == nil {
		if offsets == nil {
			offsets = map[TopicPartition]CommittedOffset{}
		}
		return offsets, nil
	}
	out := make(map[TopicPartition]CommittedOffset, len(partitions))
	for _, tp := range partitions {
		if o, ok := offsets[tp]; ok {
			out[tp] = o
		}
	}
	return out, nil
}

func (c *Coordinator) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.closed
}
