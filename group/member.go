package group

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemberConfig configures an in-process member of a consumer group.
type MemberConfig struct {
	// Group is the group to join.
	Group string
	// Topics the member subscribes to.
	Topics []string
	// ClientID names the client in member ids and descriptions. Default "strata".
	ClientID string
	// InstanceID makes the member static (see JoinRequest.InstanceID).
	InstanceID string
	// Assignors the member supports, in order of preference. Default: the
	// cooperative-sticky assignor. The member follows the cooperative protocol if
	// every one of them supports it, the eager one otherwise.
	Assignors []Assignor
	// SessionTimeout and RebalanceTimeout: see JoinRequest. Defaults
	// DefaultSessionTimeout and DefaultRebalanceTimeout.
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration

	// OnAssigned is called with the partitions the member gains, once it owns them.
	OnAssigned func(partitions []TopicPartition)
	// OnRevoked is called with the partitions the member is about to give up, while
	// it still owns them and can commit their offsets: under the eager protocol all
	// of them before every rejoin, under the cooperative one those it loses.
	OnRevoked func(partitions []TopicPartition)
	// OnLost is called with partitions the member has lost without revoking them
	// (it was removed from the group, or fenced): another member may own them
	// already, so their offsets can no longer be committed.
	OnLost func(partitions []TopicPartition)
}

// Assignment is a member's settled state after Join.
type Assignment struct {
	MemberID   string
	Generation int32
	Protocol   string           // the assignor that computed it
	Partitions []TopicPartition // what the member owns, sorted
	// Pending are the partitions the member's last SyncGroup gave it that it has
	// not taken yet: they join Partitions, and OnAssigned returns for them, before
	// its Join returns. A member with partitions pending is not settled.
	Pending []TopicPartition
}

// Member is an in-process member of a consumer group: the blocking, convenient face
// of the classic protocol. Join sends JoinGroup and SyncGroup (computing the
// assignment when it leads), revokes and adds partitions through the callbacks, and
// returns once the member is settled; Heartbeat keeps it in the group and says when
// to Join again; Commit commits with the member's generation, so that commits of a
// member fenced out by a rebalance are refused.
//
// The caller should call Heartbeat about every DefaultHeartbeatInterval (well
// within the session timeout), and Join whenever Heartbeat returns an error. The
// callbacks run on the goroutine calling Join, Heartbeat or Leave. A Member is safe
// for concurrent use: Join and Leave run one at a time, and a Heartbeat during a
// Join does nothing.
type Member struct {
	c   *Coordinator
	cfg MemberConfig
	// busy is held by Join and Leave, and briefly by Heartbeat.
	busy chan struct{}
	// rebalance receives when the coordinator starts a rebalance the member must
	// rejoin for (JoinRequest.OnRebalance): Run rejoins at once instead of at its
	// next heartbeat.
	rebalance chan struct{}
	mu        sync.Mutex // guards cl
	cl        *client
}

// NewMember returns a member of cfg.Group that has not joined yet.
func (c *Coordinator) NewMember(cfg MemberConfig) (*Member, error) {
	if err := validateGroupID(cfg.Group); err != nil {
		return nil, err
	}
	for _, topic := range cfg.Topics {
		if err := validateName("topic", topic, false); err != nil {
			return nil, err
		}
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "strata"
	}
	if len(cfg.Assignors) == 0 {
		cfg.Assignors = []Assignor{CooperativeStickyAssignor{}}
	}
	seen := make(map[string]bool)
	for _, a := range cfg.Assignors {
		if a == nil || seen[a.Name()] {
			return nil, fmt.Errorf("%w: nil or duplicate assignor", ErrInvalidArgument)
		}
		seen[a.Name()] = true
	}
	cfg.Assignors = slices.Clone(cfg.Assignors)
	cfg.Topics = slices.Clone(cfg.Topics)
	m := &Member{c: c, cfg: cfg, busy: make(chan struct{}, 1), rebalance: make(chan struct{}, 1), cl: newClient(c, cfg)}
	m.cl.onRebalance = func() {
		select {
		case m.rebalance <- struct{}{}:
		default: // Run is told already
		}
	}
	return m, nil
}

// Join joins the group, or rejoins it, and returns once the member is settled in a
// generation: under the eager protocol after revoking everything and receiving its
// new assignment; under the cooperative one after revoking what it loses, rejoining
// as often as that takes, and receiving what it gains. It waits for the rest of the
// group to rejoin (or for the rebalance timeout to remove the members that do not;
// that needs Start, or Tick). If ctx ends first, Join returns ctx.Err() and the
// member keeps what it owns; call Join again.
func (m *Member) Join(ctx context.Context) (Assignment, error) {
	return m.joinUntil(ctx, nil)
}

// errJoinStopped ends a Join whose stop channel closed while it waited for the
// group in JoinGroup.
var errJoinStopped = errors.New("strata/group: join stopped")

// joinUntil is Join that also ends, with errJoinStopped, when stop closes while
// it waits for the group in JoinGroup: the member then still owns only what it
// owned in the group's current generation, whose commits are accepted.
func (m *Member) joinUntil(ctx context.Context, stop <-chan struct{}) (Assignment, error) {
	select {
	case m.busy <- struct{}{}:
	case <-ctx.Done():
		return Assignment{}, ctx.Err()
	}
	defer func() { <-m.busy }()
	a, err := m.join(ctx, stop)
	if err != nil {
		m.mu.Lock()
		m.cl.rejoin = true // whatever happened, the next Heartbeat asks for a Join
		m.mu.Unlock()
	}
	return a, err
}

func (m *Member) join(ctx context.Context, stop <-chan struct{}) (Assignment, error) {
	for {
		m.mu.Lock()
		revoke := m.cl.revokeBeforeJoin()
		m.mu.Unlock()
		m.revoke(revoke)

		m.mu.Lock()
		req := m.cl.joinRequest()
		m.mu.Unlock()
		// Stopped, the member takes its JoinGroup back, unless it was answered: a
		// generation formed with it would fence the member out of the one it
		// still owns partitions in, and refuse the commits of its Leave.
		withdraw := func() bool { return m.c.withdrawJoin(req.Group, req.MemberID, req.InstanceID) }
		resp, err, answered := await(ctx, stop, withdraw, func(respond func(JoinResponse, error)) { m.c.JoinGroup(req, respond) })
		if !answered {
			if ctx.Err() == nil {
				return Assignment{}, errJoinStopped
			}
			return Assignment{}, ctx.Err()
		}
		// An answer is digested even if ctx ended meanwhile, so that the member
		// knows the id it joined with and Leave can take it out of the group.
		m.mu.Lock()
		o := m.cl.onJoin(resp, err)
		m.mu.Unlock()
		if m.lose(o.lost); o.err != nil {
			return Assignment{}, o.err
		}
		if ctx.Err() != nil {
			return Assignment{}, ctx.Err()
		}
		if o.retry {
			continue
		}
		var assignments map[string][]byte
		if o.lead {
			if assignments, err = m.c.assignAsLeader(m.cfg.Group, resp, o.assignor); err != nil {
				return Assignment{}, err
			}
		}
		m.mu.Lock()
		sreq := m.cl.syncRequest(assignments)
		m.mu.Unlock()
		sresp, err, answered := await(ctx, nil, nil, func(respond func(SyncResponse, error)) { m.c.SyncGroup(sreq, respond) })
		if !answered || ctx.Err() != nil {
			return Assignment{}, ctx.Err()
		}
		m.mu.Lock()
		o = m.cl.onSync(sresp, err)
		m.mu.Unlock()
		if m.lose(o.lost); o.err != nil {
			return Assignment{}, o.err
		}
		m.revoke(o.revoked)
		m.add(o.added)
		if o.done {
			return m.Assignment(), nil
		}
	}
}

// Heartbeat tells the coordinator the member is alive. It returns nil if all is
// well (and while a Join is running); ErrRebalanceInProgress when the member must
// call Join (the group rebalances, or the subscription changed); ErrUnknownMemberID,
// ErrIllegalGeneration or ErrFencedInstanceID when the member was put out of the
// group, after calling OnLost with what it owned (call Join to return, except after
// ErrFencedInstanceID); ErrCoordinatorClosed.
func (m *Member) Heartbeat() error {
	select {
	case m.busy <- struct{}{}:
	default:
		return nil // a Join or Leave is running
	}
	defer func() { <-m.busy }()
	m.mu.Lock()
	req, ok := m.cl.heartbeatRequest()
	m.mu.Unlock()
	if !ok {
		return ErrRebalanceInProgress
	}
	err := m.c.Heartbeat(req)
	m.mu.Lock()
	o := m.cl.onHeartbeat(err)
	rejoin := m.cl.rejoin
	m.mu.Unlock()
	m.lose(o.lost)
	if err == nil && rejoin {
		return ErrRebalanceInProgress
	}
	return err
}

// KeepAlive sends a heartbeat of the member's generation without taking part in
// the protocol: for a rebalance callback that waits for its application (which
// holds up Join, and so Run's heartbeats). It keeps the member's session, and
// returns the coordinator's answer without acting on it: the Join running goes on
// as the coordinator tells it. It does nothing for a member not in a generation.
func (m *Member) KeepAlive() error {
	m.mu.Lock()
	req, ok := m.cl.heartbeatRequest()
	m.mu.Unlock()
	if !ok {
		return nil
	}
	return m.c.Heartbeat(req)
}

// Commit commits offsets for the member's generation (see
// Coordinator.CommitOffsets). A commit refused because the member is no longer in
// the group's current generation (ErrIllegalGeneration, ErrUnknownMemberID,
// ErrRebalanceInProgress) makes the next Heartbeat ask for a Join.
func (m *Member) Commit(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata) error {
	m.mu.Lock()
	if m.cl.memberID == "" {
		m.mu.Unlock()
		return ErrUnknownMemberID
	}
	req := CommitRequest{
		Group:      m.cfg.Group,
		MemberID:   m.cl.memberID,
		InstanceID: m.cfg.InstanceID,
		Generation: m.cl.generation,
		Offsets:    offsets,
	}
	m.mu.Unlock()
	err := m.c.CommitOffsets(ctx, req)
	if errors.Is(err, ErrIllegalGeneration) || errors.Is(err, ErrUnknownMemberID) || errors.Is(err, ErrRebalanceInProgress) {
		m.mu.Lock()
		m.cl.rejoin = true
		m.mu.Unlock()
	}
	return err
}

// WaitJoin waits until no Join or Leave of the member is running, or ctx ends:
// for a commit refused because the member is rejoining (ErrIllegalGeneration,
// ErrRebalanceInProgress), to commit again in the generation its Join settles
// in. It must not be called from the rebalance callbacks, which run inside the
// Join.
func (m *Member) WaitJoin(ctx context.Context) error {
	select {
	case m.busy <- struct{}{}:
		<-m.busy
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fetch returns the group's committed offsets of partitions (see
// Coordinator.FetchOffsets).
func (m *Member) Fetch(ctx context.Context, partitions []TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	return m.c.FetchOffsets(ctx, m.cfg.Group, partitions)
}

// FetchStable is Fetch for a read_committed consumer (see
// Coordinator.FetchStableOffsets): ErrUnstableOffsetCommit while a transaction
// holds offsets of partitions pending.
func (m *Member) FetchStable(ctx context.Context, partitions []TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	return m.c.FetchStableOffsets(ctx, m.cfg.Group, partitions)
}

// Subscribe replaces the member's subscription; the next Heartbeat asks for a Join,
// which makes the group rebalance. Run heartbeats at once.
func (m *Member) Subscribe(topics []string) error {
	for _, topic := range topics {
		if err := validateName("topic", topic, false); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.cl.subscribe(topics)
	m.mu.Unlock()
	select {
	case m.rebalance <- struct{}{}: // Run rejoins at once
	default:
	}
	return nil
}

// Leave revokes everything the member owns (OnRevoked, where it can commit) and
// leaves the group, which rebalances at once instead of waiting for the session
// timeout. The member may Join again later.
func (m *Member) Leave(ctx context.Context) error {
	select {
	case m.busy <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-m.busy }()
	return m.leave(m.revoke)
}

// LeaveLost leaves the group as Leave does, but gives up what the member owns as
// lost (OnLost, where offsets can no longer be committed) instead of revoking it:
// for a member whose application stopped polling, which cannot give its
// partitions up in order (Kafka's consumer after max.poll.interval.ms).
func (m *Member) LeaveLost(ctx context.Context) error {
	select {
	case m.busy <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-m.busy }()
	return m.leave(m.lose)
}

// leave gives up what the member owns with giveUp, then leaves the group.
func (m *Member) leave(giveUp func([]TopicPartition)) error {
	m.mu.Lock()
	owned, memberID, joinSent := slices.Clone(m.cl.owned), m.cl.memberID, m.cl.joinSent
	m.mu.Unlock()
	giveUp(owned)
	m.mu.Lock()
	m.cl.left()
	m.mu.Unlock()
	if memberID == "" && (m.cfg.InstanceID == "" || !joinSent) {
		return nil // never in the group: a dynamic member learns its id before it is
	}
	err := m.c.LeaveGroup(m.cfg.Group, memberID, m.cfg.InstanceID)
	if errors.Is(err, ErrUnknownMemberID) || errors.Is(err, ErrFencedInstanceID) {
		return nil // already out
	}
	return err
}

// Assignment returns what the member owns now, with its member id and generation.
func (m *Member) Assignment() Assignment {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Assignment{
		MemberID:   m.cl.memberID,
		Generation: m.cl.generation,
		Protocol:   m.cl.selected,
		Partitions: slices.Clone(m.cl.owned),
		Pending:    slices.Clone(m.cl.pending),
	}
}

// RebalanceProtocol returns the protocol the member follows.
func (m *Member) RebalanceProtocol() RebalanceProtocol { return m.cl.protocol }

// revoke calls OnRevoked, then gives the partitions up.
func (m *Member) revoke(tps []TopicPartition) {
	if len(tps) == 0 {
		return
	}
	if m.cfg.OnRevoked != nil {
		m.cfg.OnRevoked(tps)
	}
	m.mu.Lock()
	m.cl.drop(tps)
	m.mu.Unlock()
}

// add takes the partitions, then calls OnAssigned.
func (m *Member) add(tps []TopicPartition) {
	if len(tps) == 0 {
		return
	}
	m.mu.Lock()
	m.cl.add(tps)
	m.mu.Unlock()
	if m.cfg.OnAssigned != nil {
		m.cfg.OnAssigned(tps)
	}
	m.mu.Lock()
	m.cl.pending = minus(m.cl.pending, tps)
	m.mu.Unlock()
}

// lose gives the partitions up at once, then calls OnLost.
func (m *Member) lose(tps []TopicPartition) {
	if len(tps) == 0 {
		return
	}
	m.mu.Lock()
	m.cl.drop(tps)
	m.mu.Unlock()
	if m.cfg.OnLost != nil {
		m.cfg.OnLost(tps)
	}
}

// await starts a call that answers through a callback and waits for the answer,
// the end of ctx or the closing of stop (nil: never); answered is false if one of
// those came first. When stop closes, withdraw (if not nil) takes the call back:
// if it cannot, the call was answered and await waits for the answer (or ctx). A
// late answer goes to a buffered channel nobody reads.
func await[T any](ctx context.Context, stop <-chan struct{}, withdraw func() bool, start func(respond func(T, error))) (value T, err error, answered bool) {
	type answer struct {
		value T
		err   error
	}
	ch := make(chan answer, 1)
	start(func(v T, err error) { ch <- answer{v, err} })
	select {
	case a := <-ch:
		return a.value, a.err, true
	case <-ctx.Done():
	case <-stop:
		if withdraw != nil && !withdraw() {
			select {
			case a := <-ch: // answered as it stopped: the answer counts
				return a.value, a.err, true
			case <-ctx.Done():
			}
		}
	}
	select {
	case a := <-ch: // answered as it ended: the answer counts
		return a.value, a.err, true
	default:
	}
	var zero T
	return zero, ctx.Err(), false
}

// Run keeps the member in its group until ctx ends: it joins (unless it is settled
// in a generation already), then heartbeats every interval (0:
// DefaultHeartbeatInterval) and joins again whenever Heartbeat asks for it. The
// coordinator tells Run when the group starts a rebalance, so that it rejoins at
// once rather than at its next heartbeat: in one process a group settles in
// milliseconds, where Kafka's members each wait for a heartbeat. Run returns
// ctx.Err(), or the error that keeps the member out for good
// (ErrFencedInstanceID, ErrInconsistentProtocol, ErrCoordinatorClosed, an
// assignor's error). Run it on a goroutine of its own, which the callbacks then
// run on; call Leave after it returns to leave the group promptly.
func (m *Member) Run(ctx context.Context, interval time.Duration) error {
	return m.RunUntil(ctx, nil, interval)
}

// RunUntil is Run that also returns, with nil, once stop is closed: between
// steps, or while its Join waits for the group in JoinGroup (the JoinGroup is
// taken back, so that the group does not form its next generation with it), but
// not between a JoinGroup's answer and the assignment that follows (a SyncGroup,
// answered as soon as the leader assigns), which completes first (or ends with
// ctx). A member stopped so is in the group's current generation, owns only
// partitions of it, and its commits in Leave's OnRevoked are accepted; one whose
// Join ctx cut short after its JoinGroup was answered is fenced out of the
// generation formed, and commits nothing. Call Leave after RunUntil returned for
// stop: until then, the group's rebalance waits for the member (up to its
// rebalance timeout).
func (m *Member) RunUntil(ctx context.Context, stop <-chan struct{}, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	m.mu.Lock()
	join := m.cl.memberID == "" || m.cl.rejoin // a settled member just heartbeats
	m.mu.Unlock()
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if join {
			if _, err := m.joinUntil(ctx, stop); errors.Is(err, errJoinStopped) {
				return nil
			} else if err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return nil
		case <-ticker.C:
		case <-m.rebalance: // the coordinator says the group rebalances: heartbeat now
		}
		err := m.Heartbeat()
		if errors.Is(err, ErrFencedInstanceID) || errors.Is(err, ErrCoordinatorClosed) {
			return err
		}
		join = err != nil
	}
}
