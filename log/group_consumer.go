package log

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/stratalog/strata/group"
)

// DefaultAutoCommitInterval is how often a GroupConsumer commits by default
// (Kafka's auto.commit.interval.ms).
const DefaultAutoCommitInterval = 5 * time.Second

// closeTimeout bounds each step of GroupConsumer.Close: the rebalance in flight,
// then the commit and leave (the Java consumer's close waits 30 s too).
const closeTimeout = 30 * time.Second

// GroupConsumerOptions configure a GroupConsumer. Group and Topics are required;
// every other zero field means its default.
type GroupConsumerOptions struct {
	// Group is the consumer group to join.
	Group string
	// Topics the consumer subscribes to. Give either Topics or TopicPattern.
	Topics []string
	// TopicPattern subscribes the consumer to every topic whose whole name it
	// matches (as the Java consumer's subscribe(Pattern); kgo's ConsumeRegex):
	// those that exist when the consumer starts, and those created later, which
	// join the subscription at once; a deleted topic leaves it. Internal topics
	// (OffsetsTopic) never match.
	TopicPattern *regexp.Regexp
	// ClientID names the consumer in member ids and descriptions. Default "strata".
	ClientID string
	// InstanceID makes the member static (Kafka's group.instance.id): a consumer
	// that crashed and restarts with the same InstanceID within the session
	// timeout gets its partitions back without a rebalance. Close leaves the
	// group all the same, so a restart after Close rebalances twice (Kafka's
	// static members stay in the group on close, until their session timeout).
	InstanceID string
	// Assignors the consumer supports, in order of preference. Default: the
	// cooperative-sticky assignor (incremental rebalances: members keep consuming the
	// partitions that do not move).
	Assignors []Assignor
	// SessionTimeout: a consumer that does not heartbeat for this long is removed
	// from the group and its partitions reassigned. Default 45 s; it must lie in
	// [MinGroupSessionTimeout, MaxGroupSessionTimeout], [6 s, 30 min].
	SessionTimeout time.Duration
	// RebalanceTimeout bounds how long a rebalance waits for members to rejoin.
	// Default MaxPollInterval, as in the Java consumer (kgo's default is 60 s):
	// a member rejoins once its revocation is done, which waits for its
	// application up to MaxPollInterval.
	RebalanceTimeout time.Duration
	// MaxPollInterval is how long the application may stay away from Poll (Kafka's
	// max.poll.interval.ms): a consumer whose application has not called Poll again
	// within it, after Poll returned, leaves the group, its partitions lost
	// (OnLost; what it was handed is not committed) and given to the other
	// members; the next Poll joins the group again. Default 5 minutes; negative is
	// invalid. Consume calls Poll after each batch, so there the bound is the
	// time its handler takes for one Poll's records.
	MaxPollInterval time.Duration
	// HeartbeatInterval is how often the consumer heartbeats. Default 3 s; it must be
	// at least MinGroupHeartbeatInterval (1 ms) and below SessionTimeout.
	HeartbeatInterval time.Duration
	// Reset is where to start in a partition with no committed offset, or whose
	// committed offset is out of range (Kafka's auto.offset.reset). Default
	// ResetEarliest.
	Reset ResetPolicy
	// DisableAutoCommit turns automatic commits off: then only Commit,
	// CommitRecords, CommitOffsets, and Consume's commits after each batch, commit.
	DisableAutoCommit bool
	// AutoCommitInterval is how often processed positions are committed. Default 5 s.
	AutoCommitInterval time.Duration
	// CloseCommitsProcessedOnly makes Close (with auto-commit) commit only what was
	// processed: not the records of the last Poll, which are then delivered again
	// after a restart. By default Close commits the position after everything Poll
	// returned, as kgo and the Java consumer do: an application that calls Close
	// has finished with what it polled.
	CloseCommitsProcessedOnly bool
	// MaxPollRecords and MaxPollBytes bound what one Poll returns (see
	// ConsumerOptions).
	MaxPollRecords int
	MaxPollBytes   int
	// SkipCRCChecks reads without verifying batch CRCs (see ConsumerOptions).
	SkipCRCChecks bool
	// IsolationLevel says which records of transactions the consumer reads
	// (Kafka's isolation.level; see ConsumerOptions). Default ReadUncommitted;
	// with ReadCommitted, Lag and CaughtUp count to the last stable offset.
	IsolationLevel IsolationLevel

	// OnAssigned is called with the partitions the consumer gains, once it owns
	// them and its positions are set from the committed offsets.
	OnAssigned func(partitions []TopicPartition)
	// OnRevoked is called with partitions the consumer is about to give up, while it
	// still owns them, once the application has finished the records of theirs Poll
	// returned (see GroupConsumer): commit their offsets here (with auto-commit,
	// the consumer commits what was processed right after OnRevoked returns).
	OnRevoked func(partitions []TopicPartition)
	// OnLost is called with partitions the consumer lost without revoking them (it
	// missed its session timeout, or MaxPollInterval): another member may own them
	// already, and their offsets can no longer be committed.
	OnLost func(partitions []TopicPartition)
}

// GroupConsumer consumes a topic's partitions as one member of a consumer group:
// the group's members share the partitions, each partition consumed by one member
// at a time, and positions survive in committed offsets. A consumer joins at once
// (in the background), heartbeats, follows rebalances, and leaves on Close.
//
// Delivery is at least once. Poll returns records from the partitions the consumer
// owns; the consumer counts the records of a Poll as processed when the next Poll
// (or Consume's handler) returns, and auto-commit commits only processed positions,
// so a crash redelivers what was not processed, never skips it. Close commits what
// Poll returned (see CloseCommitsProcessedOnly) and leaves the group.
//
// Poll, Consume and the Commit methods are for one goroutine at a time; Close may
// be called from any goroutine but the callbacks'. The rebalance callbacks run on
// the consumer's own goroutines, one at a time (the heartbeat goroutine; OnLost
// after MaxPollInterval on the goroutine that watches it), concurrently with Poll
// and Consume, and may call Commit and CommitOffsets. The member keeps
// heartbeating while OnAssigned or OnRevoked runs, for up to MaxPollInterval (the
// Java consumer's bound on them): a callback that runs longer lets the session
// lapse, and the group gives the member's partitions to the others.
//
// A revocation waits for the application, as the Java consumer's (whose
// callbacks run inside poll) and kgo's with BlockRebalanceOnPoll do: the revoked
// partitions are no longer read, and OnRevoked and the commit come once every
// record of theirs that Poll returned is processed (the next Poll, or Consume's
// handler returned for them), or the consumer closes; if MaxPollInterval passes
// without a Poll first, they are lost instead (OnLost, no commit), as the member
// leaves the group. The member heartbeats meanwhile. So a graceful rebalance
// redelivers nothing; only a member that dies or is put out of the group leaves
// records to be processed again by the next owner (at least once, never lost).
//
// A partition the group assigns to the consumer that is offline (see
// Store.OfflinePartitions) is not read, and the consumer neither hangs on it nor
// retries it in a loop: the next Poll (or Consume) returns a
// *PartitionOfflineError naming it (ErrPartitionOffline), once per assignment, and
// later Polls serve the consumer's other partitions, waiting as usual when they
// have no records. The partition stays assigned to this member (another member
// could not read it either), and its committed offset is kept; once
// Store.ReopenPartition brings it back online, this member reads it from there.
type GroupConsumer struct {
	s      *Store
	opts   GroupConsumerOptions
	member *group.Member

	// run is the heartbeat goroutine of the current membership (a member put out
	// of the group by MaxPollInterval joins again with a new one). Lock order:
	// run, then mu.
	run struct {
		sync.Mutex
		cancel context.CancelFunc
		done   chan struct{}
	}
	// pollActivity receives when the application enters or leaves Poll.
	pollActivity chan struct{}

	// onlineMu orders partitionOnline (a ReopenPartition caller's goroutine) with
	// the heartbeat goroutine's assignment changes: revoking holds the partitions
	// being given up, which the member still lists as its own until OnRevoked
	// returns, so that a partition coming back online is not read again by a member
	// that is giving it up. Lock order: onlineMu, then mu.
	onlineMu sync.Mutex
	revoking map[TopicPartition]bool

	mu struct {
		sync.Mutex
		inner     *Consumer                // assigned the owned partitions
		delivered map[TopicPartition]int64 // next offset after what Poll returned
		processed map[TopicPartition]int64 // next offset after what was processed
		committed map[TopicPartition]int64 // last committed offset
		changed   chan struct{}            // closed and replaced when the assignment changes
		// runErr is why the heartbeat loop stopped for good (the consumer owns
		// nothing from then on); every Poll returns it.
		runErr error
		// pendingErr is an error a fetch met after reading records: Poll returned
		// the records, and returns the error next.
		pendingErr error
		// byConsume says the last records were returned to Consume, which counts
		// those its handler finished as processed: Close commits no others.
		byConsume bool
		// consumeOwes says a commit of Consume's (DisableAutoCommit) was refused
		// because the group rebalanced: a revocation commits what was processed.
		consumeOwes bool
		// starting counts the calls of read fetching committed offsets: their
		// partitions are not read yet.
		starting int
		// withdrawn holds the partitions being revoked, no longer read, while the
		// revocation waits for the application to finish their records.
		withdrawn map[TopicPartition]bool
		// progress is closed and replaced when processed positions move.
		progress chan struct{}
		// away says the application is outside Poll since awaySince (it has
		// called Poll at least once); expired is closed once it stayed away
		// longer than MaxPollInterval and the member left the group.
		away      bool
		awaySince time.Time
		expired   chan struct{}
	}

	ctx       context.Context    // of the background goroutines
	cancel    context.CancelFunc // stops the heartbeat and auto-commit goroutines
	stop      chan struct{}      // closed by Close: the heartbeat goroutine returns between steps
	done      sync.WaitGroup
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// NewGroupConsumer returns a consumer that joins opts.Group, subscribed to
// opts.Topics. It returns at once; the consumer joins the group in the background,
// and Poll waits until it owns partitions with records. Invalid options are a
// *ConfigError naming every invalid field.
func (s *Store) NewGroupConsumer(opts GroupConsumerOptions) (*GroupConsumer, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	coordinator, err := s.coordinatorFor(true)
	if err != nil {
		return nil, errorf("strata/log: group consumer: %w", err)
	}
	inner, err := s.NewConsumer(ConsumerOptions{MaxPollRecords: opts.MaxPollRecords, MaxPollBytes: opts.MaxPollBytes, Reset: opts.Reset, SkipCRCChecks: opts.SkipCRCChecks, IsolationLevel: opts.IsolationLevel})
	if err != nil {
		return nil, err
	}
	g := &GroupConsumer{s: s, opts: opts, closed: make(chan struct{}), stop: make(chan struct{}), pollActivity: make(chan struct{}, 1)}
	g.mu.inner = inner
	g.mu.delivered = map[TopicPartition]int64{}
	g.mu.processed = map[TopicPartition]int64{}
	g.mu.committed = map[TopicPartition]int64{}
	g.mu.changed = make(chan struct{})
	g.mu.withdrawn = map[TopicPartition]bool{}
	g.mu.progress = make(chan struct{})
	g.mu.expired = make(chan struct{})
	if opts.TopicPattern != nil {
		g.opts.Topics = g.matchingTopics() // followPattern keeps it current
	}
	g.member, err = coordinator.NewMember(group.MemberConfig{
		Group:            opts.Group,
		Topics:           g.opts.Topics,
		ClientID:         opts.ClientID,
		InstanceID:       opts.InstanceID,
		Assignors:        opts.Assignors,
		SessionTimeout:   opts.SessionTimeout,
		RebalanceTimeout: opts.RebalanceTimeout,
		OnAssigned:       g.assigned,
		OnRevoked:        g.revoked,
		OnLost:           g.lost,
	})
	if err != nil {
		inner.Close()
		return nil, errorf("strata/log: group consumer: %w", err)
	}
	// The goroutines start before the store knows the consumer, so that a Store.Close
	// closing it finds them running and waits for them.
	ctx, cancel := context.WithCancel(context.Background())
	g.ctx, g.cancel = ctx, cancel
	g.startRun()
	g.done.Go(func() { g.pollWatchdog(ctx) })
	if !opts.DisableAutoCommit {
		g.done.Go(func() { g.autoCommitLoop(ctx) })
	}
	if opts.TopicPattern != nil {
		g.done.Go(func() { g.followPattern(ctx, coordinator) })
	}
	if err := s.registerGroupConsumer(g); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// stopped handles the heartbeat loop stopping for good (fenced, an assignor's
// error, the coordinator closed): the consumer gives up every partition at once,
// since the group will give them to others, and Poll returns err from then on.
func (g *GroupConsumer) stopped(err error) {
	g.s.logger.Error("group consumer stopped", "group", g.opts.Group, "err", err)
	g.mu.Lock()
	g.mu.runErr = errorf("strata/log: group consumer of %q stopped: %w", g.opts.Group, err)
	g.changedLocked() // a blocked Poll returns runErr
	g.mu.Unlock()
	g.lost(g.Assignment())
}

// Poll returns the next records of the partitions the consumer owns, waiting until
// there are some, ctx ends, or the consumer is closed (ErrClosed). The records of
// the previous Poll count as processed from this call on. Records of one partition
// come in offset order. A partition whose position is out of range, or that has no
// committed offset, starts where Reset says (ResetNone: an error matching
// ErrOffsetOutOfRange). Poll returns records or an error, never both: an error met
// after some records were read is returned by the next Poll.
func (g *GroupConsumer) Poll(ctx context.Context) ([]*Record, error) {
	return g.poll(ctx, false)
}

// poll is Poll; byConsume says Consume calls it, and counts what its handler
// processed itself.
func (g *GroupConsumer) poll(ctx context.Context, byConsume bool) ([]*Record, error) {
	g.enterPoll()
	defer g.leavePoll()
	g.mu.Lock()
	maps.Copy(g.mu.processed, g.mu.delivered)
	g.mu.byConsume = byConsume
	g.progressedLocked()
	g.mu.Unlock()
	for {
		if err := g.usable(); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g.mu.Lock()
		if err := g.mu.runErr; err != nil {
			g.mu.Unlock()
			return nil, err
		}
		if err := g.mu.pendingErr; err != nil {
			g.mu.pendingErr = nil
			g.mu.Unlock()
			return nil, err
		}
		var (
			records []*Record
			err     error
		)
		if len(g.mu.inner.assigned) > 0 {
			records, err = g.mu.inner.fetch()
			for _, r := range records {
				g.mu.delivered[TopicPartition{Topic: r.Topic, Partition: r.Partition}] = r.Offset + 1
			}
		}
		if len(records) > 0 && err != nil {
			// Return the records alone, and the error at the next Poll: a caller
			// that drops records returned with an error would otherwise lose them.
			g.mu.pendingErr, err = err, nil
		}
		if len(records) > 0 || err != nil {
			g.mu.Unlock()
			return records, err
		}
		targets, changed := g.mu.inner.waitTargets(), g.mu.changed
		g.mu.Unlock()
		if err := waitAny(ctx, targets, changed, g.closed); err != nil {
			return nil, err
		}
	}
}

// Consume calls handle with every record, in order within each partition, until ctx
// ends, handle returns an error, or the consumer is closed; it returns that error.
// The records of a Poll count as processed once handle has returned nil for all of
// them (for those before the first failure, if it fails); with
// DisableAutoCommit, Consume commits after each Poll's records are handled (a
// commit the group refuses because it rebalances is made again once the member
// settled, or, for a partition the rebalance revokes, by the revocation; any
// other commit error ends Consume, which returns it). When
// handle fails, the consumer moves back to the failed record (and every record
// after it that handle did not see), so the next Poll or Consume returns them again.
func (g *GroupConsumer) Consume(ctx context.Context, handle func(*Record) error) error {
	for {
		records, err := g.poll(ctx, true)
		if err != nil {
			return err
		}
		for i, r := range records {
			if err := handle(r); err != nil {
				g.markProcessed(records[:i])
				g.rewind(records[i:])
				return err
			}
		}
		g.markProcessed(records) // once per Poll: no lock per record
		if g.opts.DisableAutoCommit && len(records) > 0 {
			if err := g.consumeCommit(ctx); err != nil {
				return err
			}
		}
	}
}

// rewind moves the consumer back to the first of records in each of their
// partitions that it still owns: they were returned but not processed.
func (g *GroupConsumer) rewind(records []*Record) {
	first := map[TopicPartition]int64{}
	for _, r := range records {
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if o, ok := first[tp]; !ok || r.Offset < o {
			first[tp] = r.Offset
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for tp, offset := range first {
		if g.mu.withdrawn[tp] {
			g.mu.delivered[tp] = offset // being revoked: the next owner reads it
			continue
		}
		if _, owned := g.mu.inner.byTP[tp]; owned && g.mu.inner.Seek(tp, offset) == nil {
			g.mu.delivered[tp] = offset
		}
	}
	g.progressedLocked()
}

// markProcessed counts records as processed.
func (g *GroupConsumer) markProcessed(records []*Record) {
	if len(records) == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range records {
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if _, owned := g.mu.inner.byTP[tp]; (owned || g.mu.withdrawn[tp]) && r.Offset+1 > g.mu.processed[tp] {
			g.mu.processed[tp] = r.Offset + 1
		}
	}
	g.progressedLocked()
}

// Commit commits the position after every record Poll has returned, for every
// partition the consumer owns (Kafka's commitSync). It fails with
// ErrIllegalGeneration, ErrUnknownMemberID or ErrRebalanceInProgress if the
// consumer is no longer in the group's current generation.
func (g *GroupConsumer) Commit(ctx context.Context) error {
	g.mu.Lock()
	offsets := maps.Clone(g.mu.delivered)
	g.mu.Unlock()
	return g.commitMap(ctx, offsets)
}

// CommitRecords commits, for each partition of records, the offset after its
// highest record there.
func (g *GroupConsumer) CommitRecords(ctx context.Context, records ...*Record) error {
	offsets := map[TopicPartition]int64{}
	for _, r := range records {
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		offsets[tp] = max(offsets[tp], r.Offset+1)
	}
	return g.commitMap(ctx, offsets)
}

// CommitOffsets commits the given offsets (the next record to read) with their
// metadata. An offset for an offline partition fails the call
// (ErrPartitionOffline) and nothing is committed.
func (g *GroupConsumer) CommitOffsets(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata) error {
	if err := g.usable(); err != nil {
		return err
	}
	for tp := range offsets {
		if _, err := g.s.lookupPartition(tp); errors.Is(err, ErrPartitionOffline) {
			return errorf("strata/log: commit for group %q: %w", g.opts.Group, err)
		}
	}
	if err := g.member.Commit(ctx, offsets); err != nil {
		return errorf("strata/log: commit for group %q: %w", g.opts.Group, err)
	}
	g.mu.Lock()
	for tp, o := range offsets {
		g.mu.committed[tp] = o.Offset
	}
	g.mu.Unlock()
	return nil
}

// commitMap commits offsets that differ from the last commit. An offline partition
// is left out (logged): its records are delivered again once it is back, and the
// others' commits go on.
func (g *GroupConsumer) commitMap(ctx context.Context, offsets map[TopicPartition]int64) error {
	g.mu.Lock()
	todo := map[TopicPartition]OffsetAndMetadata{}
	for tp, o := range offsets {
		if committed, ok := g.mu.committed[tp]; !ok || committed != o {
			todo[tp] = OffsetAndMetadata{Offset: o}
		}
	}
	g.mu.Unlock()
	for tp := range todo {
		if _, err := g.s.lookupPartition(tp); errors.Is(err, ErrPartitionOffline) {
			g.s.logger.Warn("not committing an offline partition", "group", g.opts.Group, "partition", tp.String(), "err", err)
			delete(todo, tp)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	return g.CommitOffsets(ctx, todo)
}

// processedOffsets returns a copy of the processed positions.
func (g *GroupConsumer) processedOffsets() map[TopicPartition]int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.mu.processed)
}

// Committed returns the group's committed offsets of tps.
func (g *GroupConsumer) Committed(ctx context.Context, tps ...TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	return g.member.Fetch(ctx, tps)
}

// Seek moves the consumer's position in tp, a partition it owns now, to offset: the
// next Poll returns tp's records from offset on (to replay, or to skip). It does not
// commit: the next commit of tp commits the new position once records after it are
// processed. A partition the consumer does not own is ErrUnknownPartition; a
// negative offset ErrInvalidArgument. An offset outside the partition's records is
// handled by Reset at the next Poll.
func (g *GroupConsumer) Seek(tp TopicPartition, offset int64) error {
	if err := g.usable(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.mu.inner.Seek(tp, offset); err != nil {
		return err
	}
	g.mu.delivered[tp], g.mu.processed[tp] = offset, offset
	g.progressedLocked()
	return nil
}

// Position returns the offset of the next record Poll returns for tp, a partition
// the consumer owns (ErrUnknownPartition otherwise).
func (g *GroupConsumer) Position(tp TopicPartition) (int64, error) {
	if err := g.usable(); err != nil {
		return 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.inner.Position(tp)
}

// Assignment returns the partitions the consumer owns now.
func (g *GroupConsumer) Assignment() []TopicPartition {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.inner.Assignment()
}

// MemberID returns the consumer's member id in its group ("" before it joined).
func (g *GroupConsumer) MemberID() string { return g.member.Assignment().MemberID }

// autoCommitLoop commits processed positions every AutoCommitInterval.
func (g *GroupConsumer) autoCommitLoop(ctx context.Context) {
	t := time.NewTicker(g.opts.AutoCommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.stop:
			return
		case <-t.C:
		}
		err := g.commitMap(ctx, g.processedOffsets())
		if err != nil && ctx.Err() == nil {
			g.s.logger.Debug("auto-commit failed; the next one retries", "group", g.opts.Group, "err", err)
		}
	}
}

// assigned adds partitions to the consumer, positioned at their committed offsets
// (heartbeat goroutine).
func (g *GroupConsumer) assigned(tps []TopicPartition) {
	g.mu.Lock()
	g.mu.starting++
	g.mu.Unlock()
	committed, err := g.fetchCommitted(tps) // may wait: outside onlineMu
	g.onlineMu.Lock()
	for _, tp := range tps {
		delete(g.revoking, tp)
	}
	g.read(tps, committed, err)
	g.onlineMu.Unlock()
	if g.opts.OnAssigned != nil {
		g.heartbeating(func() { g.opts.OnAssigned(tps) })
	}
}

// read starts reading tps, partitions the consumer owns, from their committed
// offsets, which the caller fetched (fetchCommitted, err its failure) after
// counting itself in starting. An offline one is not read: the next Poll returns
// its error, once.
func (g *GroupConsumer) read(tps []TopicPartition, committed map[TopicPartition]CommittedOffset, err error) {
	if err != nil {
		g.s.logger.Error("fetch committed offsets", "group", g.opts.Group, "err", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mu.starting--
	current := slices.DeleteFunc(g.mu.inner.Assignment(), g.missing) // a topic deleted meanwhile
	var offline []error
	for _, tp := range tps {
		_, err := g.s.lookupPartition(tp)
		if errors.Is(err, ErrPartitionOffline) {
			offline = append(offline, err)
			continue
		}
		if err == nil && !slices.Contains(current, tp) {
			current = append(current, tp)
		}
	}
	if offline != nil {
		g.s.logger.Error("assigned offline partitions: not reading them", "group", g.opts.Group, "err", errors.Join(offline...))
		if g.mu.pendingErr == nil {
			g.mu.pendingErr = errorf("strata/log: group %q: %w", g.opts.Group, errors.Join(offline...))
		}
	}
	if err := g.mu.inner.Assign(current...); err != nil {
		g.s.logger.Error("assign partitions", "group", g.opts.Group, "err", err)
	}
	for _, tp := range tps {
		if c, ok := committed[tp]; ok {
			if g.mu.inner.Seek(tp, c.Offset) == nil {
				g.mu.delivered[tp], g.mu.processed[tp], g.mu.committed[tp] = c.Offset, c.Offset, c.Offset
			}
		}
	}
	g.changedLocked()
}

// partitionOnline starts reading tp, back online after Store.ReopenPartition, if
// the consumer owns it.
func (g *GroupConsumer) partitionOnline(tp TopicPartition) {
	if !slices.Contains(g.member.Assignment().Partitions, tp) {
		return
	}
	g.mu.Lock()
	g.mu.starting++
	g.mu.Unlock()
	committed, err := g.fetchCommitted([]TopicPartition{tp}) // may wait: outside onlineMu
	g.onlineMu.Lock()
	defer g.onlineMu.Unlock()
	if !g.revoking[tp] && slices.Contains(g.member.Assignment().Partitions, tp) && !slices.Contains(g.Assignment(), tp) {
		g.read([]TopicPartition{tp}, committed, err)
		return
	}
	g.mu.Lock()
	g.mu.starting--
	g.mu.Unlock()
}

// partitionOffline stops reading tp, which went offline while the consumer reads
// it: the next Poll returns err, once, and the other partitions are served; the
// consumer still owns tp, and reads it again from its committed offset once
// Store.ReopenPartition brings it back.
func (g *GroupConsumer) partitionOffline(tp TopicPartition, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	current := g.mu.inner.Assignment()
	if !slices.Contains(current, tp) {
		return
	}
	keep := slices.DeleteFunc(current, func(x TopicPartition) bool { return x == tp })
	if assignErr := g.mu.inner.Assign(keep...); assignErr != nil {
		g.s.logger.Error("assign partitions", "group", g.opts.Group, "err", assignErr)
	}
	if g.mu.pendingErr == nil {
		g.mu.pendingErr = errorf("strata/log: group %q: %w", g.opts.Group, err)
	}
	g.changedLocked()
}

// lost drops partitions taken away without a revocation (heartbeat goroutine).
func (g *GroupConsumer) lost(tps []TopicPartition) {
	if len(tps) == 0 {
		return
	}
	if g.opts.OnLost != nil {
		g.opts.OnLost(tps)
	}
	g.remove(tps)
}

// remove takes tps out of the consumer's assignment.
func (g *GroupConsumer) remove(tps []TopicPartition) {
	g.mu.Lock()
	defer g.mu.Unlock()
	keep := slices.DeleteFunc(g.mu.inner.Assignment(), func(tp TopicPartition) bool { return slices.Contains(tps, tp) || g.missing(tp) })
	if err := g.mu.inner.Assign(keep...); err != nil {
		g.s.logger.Error("assign partitions", "group", g.opts.Group, "err", err)
	}
	for _, tp := range tps {
		delete(g.mu.delivered, tp)
		delete(g.mu.processed, tp)
		delete(g.mu.committed, tp)
		delete(g.mu.withdrawn, tp)
	}
	g.changedLocked()
	g.progressedLocked()
}

// missing reports whether tp's topic or partition no longer exists or is offline:
// the consumer does not read it.
func (g *GroupConsumer) missing(tp TopicPartition) bool {
	_, err := g.s.lookupPartition(tp)
	return err != nil
}

// progressedLocked wakes a revocation waiting for processed positions to move.
func (g *GroupConsumer) progressedLocked() {
	close(g.mu.progress)
	g.mu.progress = make(chan struct{})
}

// changedLocked wakes a Poll waiting with the old assignment.
func (g *GroupConsumer) changedLocked() {
	close(g.mu.changed)
	g.mu.changed = make(chan struct{})
}

// usable returns ErrClosed once the consumer or its store is closed.
func (g *GroupConsumer) usable() error {
	select {
	case <-g.closed:
		return ErrClosed
	default:
	}
	return g.mu.inner.usable()
}

// Close leaves the group promptly (the group rebalances at once instead of after
// the session timeout). Unless auto-commit is disabled, it first commits the
// position after every record Poll returned, as Kafka's close does (with
// CloseCommitsProcessedOnly: only what was processed, not the records of the last
// Poll). Called from another goroutine while the application still processes what
// Poll returned, it commits those records all the same: stop processing first (or
// use Consume, whose records count once its handler returned for them, in Close
// too). So that the commit is accepted, a join waiting for the rest of the group
// is taken back, and an assignment the group has formed is taken first (in
// process, within milliseconds; Close cuts it short after 30 s). A Poll blocked in another goroutine returns ErrClosed. Close is idempotent. It must
// not be called from the rebalance callbacks (it waits for the goroutine that runs
// them).
func (g *GroupConsumer) Close() error {
	g.closeOnce.Do(func() {
		// The heartbeat goroutine stops: a join waiting for the group is taken
		// back, an assignment in flight is taken (in process, within
		// milliseconds; cut short after closeTimeout), so that the commit below
		// is of the group's current generation.
		if !g.opts.DisableAutoCommit && !g.opts.CloseCommitsProcessedOnly {
			g.mu.Lock()
			if !g.mu.byConsume {
				maps.Copy(g.mu.processed, g.mu.delivered) // the application is done with them
				g.progressedLocked()
			}
			g.mu.Unlock()
		}
		g.run.Lock() // no heartbeat goroutine starts once stop is closed (startRun)
		close(g.stop)
		g.run.Unlock()
		cut := time.AfterFunc(closeTimeout, g.cancel)
		g.waitRun()
		g.done.Wait()
		cut.Stop()
		g.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		err := g.member.Leave(ctx) // revokes everything: commits with auto-commit
		if errors.Is(err, group.ErrCoordinatorClosed) {
			err = nil
		}
		close(g.closed)
		g.mu.Lock()
		g.mu.inner.Close()
		g.mu.Unlock()
		g.s.unregisterGroupConsumer(g)
		if err != nil {
			g.closeErr = errorf("strata/log: leave group %q: %w", g.opts.Group, err)
		}
	})
	return g.closeErr
}

// abandon stops the consumer as if its process died: no commit, no leave; the
// group notices at the session timeout. For tests.
func (g *GroupConsumer) abandon() {
	g.closeOnce.Do(func() {
		g.cancel()
		g.waitRun()
		g.done.Wait()
		close(g.closed)
		g.mu.Lock()
		g.mu.inner.Close()
		g.mu.Unlock()
		g.s.unregisterGroupConsumer(g)
	})
}
