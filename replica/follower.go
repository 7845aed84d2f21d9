package replica

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

// errNotFollowing is fetchOnce's answer while the replica leads, or its partition
// has no leader: there is nothing to fetch until the state changes.
var errNotFollowing = errors.New("strata/replica: not following")

// fetchOnce is one round of the follower's side of the protocol: fetch from the
// leader what follows this replica's log end offset, then truncate where the leader
// says the logs diverge, or append what came and take the leader's high watermark.
// maxWait is how long the leader may hold the fetch while it has nothing new. A
// replica that leads only moves its high watermark to what its log acknowledged
// since, and returns errNotFollowing.
func (r *Replica) fetchOnce(ctx context.Context, maxWait time.Duration) error {
	err := r.fetch(ctx, maxWait)
	if err != nil {
		r.checkDisk(err)
	}
	return err
}

// fetch is fetchOnce; fetchOnce then checks whether the log failed.
func (r *Replica) fetch(ctx context.Context, maxWait time.Duration) error {
	s, req, err := r.nextFetch()
	if err != nil {
		return err
	}
	req.MaxWait = maxWait
	resp, err := r.env.transport.Fetch(ctx, r.broker, s.Leader, req)
	return r.applyFetch(ctx, &s, req, resp, err)
}

// nextFetch returns the state this replica follows and its next fetch request to
// that state's leader; errNotFollowing while it leads (having moved its high
// watermark) or its partition has no leader.
func (r *Replica) nextFetch() (State, *FetchRequest, error) {
	r.mu.Lock()
	s, closed := r.mu.state, r.mu.closed
	r.mu.Unlock()
	switch {
	case closed:
		return s, nil, ErrClosed
	case s.Leader == r.broker:
		// Leading: the log's acknowledged offset may have moved since (the
		// background fsync of a Write, acks=leader), and the high watermark with it.
		r.updateHighWatermark()
		return s, nil, errNotFollowing
	case s.Leader == NoBroker || !s.Hosts(r.broker):
		return s, nil, errNotFollowing
	}
	req, err := r.fetchRequest(&s)
	return s, req, err
}

// applyFetch takes the leader's answer (resp, err) to req, sent while following s:
// it starts over, truncates or appends, unless this replica's leadership state
// moved on meanwhile or it closed. The answer of a slow link may come late: the
// deterministic simulation delivers some in later steps.
func (r *Replica) applyFetch(ctx context.Context, s *State, req *FetchRequest, resp *FetchResponse, err error) error {
	startOver := errors.Is(err, partition.ErrOffsetOutOfRange) && resp != nil && resp.LogStartOffset > req.FetchOffset
	if err != nil && !startOver {
		return err
	}
	r.roleMu.RLock()
	defer r.roleMu.RUnlock()
	r.mu.Lock()
	current, closed := r.mu.state, r.mu.closed
	r.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if current.Leader != s.Leader || current.LeaderEpoch != s.LeaderEpoch {
		return nil // the answer of a leadership that ended
	}
	switch {
	case startOver:
		if err := r.beforeTruncate(req.FetchOffset); err != nil {
			return err
		}
		if err := r.log.TruncateFullyAndStartAt(resp.LogStartOffset); err != nil {
			r.checkDisk(err)
			return errorf("strata/replica: %s on broker %d: starting over at the leader's log start offset %d: %w", r.name, r.broker, resp.LogStartOffset, err)
		}
		return nil
	case resp.Diverging != nil:
		return r.truncateDiverging(resp.Diverging)
	}
	if len(resp.Batches) > 0 {
		if err := r.alignToLeaderStart(resp.Batches, resp.LogStartOffset); err != nil {
			return err
		}
		_, err := r.log.AppendReplica(ctx, resp.Batches)
		runtime.KeepAlive(resp.keep) // the leader's mapping, until the batches are written
		if err != nil && errors.Is(err, partition.ErrCorrupt) && r.env.corrupt != nil {
			// A batch of the leader's that fails its CRC: the leader's copy is
			// damaged (the leader serves its segments' bytes as they are).
			r.env.corrupt(r.name, s.Leader, err)
		}
		if err != nil {
			r.checkDisk(err)
			return err
		}
	}
	if !r.log.Replicated() {
		return nil
	}
	hw, err := r.log.SetHighWatermark(resp.HighWatermark)
	if err != nil {
		return err
	}
	// The leader's log start offset moved (retention, DeleteRecords): so does this
	// replica's, as far as its high watermark.
	if start := min(resp.LogStartOffset, hw); start > r.log.StartOffset() {
		if err := r.log.DeleteRecordsBefore(start); err != nil {
			r.checkDisk(err)
			return err
		}
	}
	return nil
}

// alignToLeaderStart restarts the log at the base of the first batch fetched when
// the log's end lies inside that batch and the log is empty or ends at or below the
// leader's log start offset: DeleteRecords may put a log start offset inside a
// batch, and an empty follower starting there, or one whose last batches lie below
// the leader's start (deleted on the leader, and drawn on other boundaries there),
// cannot append the batch whole (Kafka's UnexpectedAppendOffsetException case). Nothing readable is lost: the
// records dropped lie below the leader's log start offset. The log start offset
// follows the leader's again once the batch is appended.
func (r *Replica) alignToLeaderStart(batches []byte, leaderStart int64) error {
	h, err := segment.ParseBatchHeader(batches, len(batches))
	if err != nil {
		return nil // AppendReplica reports it
	}
	end := r.log.WrittenOffset()
	empty := r.log.StartOffset() == end
	if h.BaseOffset >= end || h.LastOffset() < end || (end > leaderStart && !empty) {
		return nil
	}
	err = r.beforeTruncate(h.BaseOffset)
	if err == nil {
		err = r.log.TruncateFullyAndStartAt(end) // empty, at the same end
	}
	if err == nil {
		err = r.log.TruncateFullyAndStartAt(h.BaseOffset)
	}
	if err != nil {
		r.checkDisk(err)
		return errorf("strata/replica: %s on broker %d: starting over at %d: %w", r.name, r.broker, h.BaseOffset, err)
	}
	return nil
}

// fetchRequest builds the fetch of this replica as a follower of s.
func (r *Replica) fetchRequest(s *State) (*FetchRequest, error) {
	latest, ok, err := r.log.LatestEpoch()
	if err != nil {
		return nil, err
	}
	last := partition.NoEpoch
	if ok {
		last = latest.Epoch
	}
	end := r.log.WrittenOffset()
	return &FetchRequest{
		Partition: r.name, Replica: r.broker, LeaderEpoch: s.LeaderEpoch, BrokerEpoch: r.brokerEpoch,
		FetchOffset: end, LastFetchedEpoch: last, DurableOffset: min(r.log.AcknowledgedOffset(), end),
		MaxBytes: r.env.fetchBytes,
	}, nil
}

// truncateDiverging truncates the log where the leader says it diverges (Kafka's
// fetch-based truncation, KIP-595 on KIP-101/279): to the end of the diverging epoch
// on the leader or on this replica, whichever is lower. When this replica does not
// have the leader's epoch, it truncates to the end of its own latest epoch below it,
// and the next fetch, carrying that epoch, walks back further if needed. It never
// truncates at its high watermark alone (the data loss of KIP-101).
func (r *Replica) truncateDiverging(d *EpochEnd) error {
	end := r.log.WrittenOffset()
	target := min(d.EndOffset, end)
	if d.Epoch >= 0 {
		localEpoch, localEnd, err := r.log.EndOffsetForEpoch(d.Epoch)
		if err != nil {
			return err
		}
		switch {
		case localEpoch == partition.NoEpoch:
		case localEpoch == d.Epoch:
			target = min(target, localEnd)
		default:
			target = min(localEnd, end)
		}
	}
	target = max(target, r.log.StartOffset())
	if target > end {
		return nil
	}
	// Truncating at the end itself cuts no batch but drops the epochs that begin
	// there (an epoch this replica led without writing).
	if err := r.beforeTruncate(target); err != nil {
		return err
	}
	if _, err := r.log.TruncateTo(target); err != nil {
		r.checkDisk(err)
		return errorf("strata/replica: %s on broker %d: truncating to %d: %w", r.name, r.broker, target, err)
	}
	return nil
}

// beforeTruncate tells the owner (ClusterOptions.BeforeTruncate) that the log is
// about to lose its records at and above end, so that whatever it records of the
// log's durable offset comes down first (partition.Options.RecoveryPoint).
func (r *Replica) beforeTruncate(end int64) error {
	if r.env.beforeTruncate == nil {
		return nil
	}
	if err := r.env.beforeTruncate(r.broker, r.name, end); err != nil {
		return errorf("strata/replica: %s on broker %d: before truncating to %d: %w", r.name, r.broker, end, err)
	}
	return nil
}

// checkDisk tells the cluster when the replica's log failed closed (a write or an
// fsync failed): the broker leaves every ISR and gives up its leaderships.
func (r *Replica) checkDisk(err error) {
	if failure := r.log.Err(); failure != nil && r.env.diskFailed != nil {
		r.env.diskFailed(r, failure)
	}
}
