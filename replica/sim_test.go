package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// The deterministic simulation: R brokers, each on a crashable in-memory filesystem
// behind a fault switch, a Manual cluster (no goroutine: the simulation drives every
// fetch and ISR check), a transport whose links the schedule cuts, whose fetches it
// drops, delays (the answer comes steps later) or delivers again later (a stale
// duplicate), and a clock of its own. A seeded schedule of steps (produce at every
// acks level, consume, fetch, time passing, broker crash and restart, disk failures,
// cut links, preferred elections, configuration changes) runs against two
// partitions; after every step, and after a final heal, the invariants below are
// checked:
//
//   - no record acknowledged with acks=all is lost, nor moved, nor changed, unless
//     an unclean election happened (the topic opted into losing them);
//   - no record a consumer read (below the high watermark) later disappears or
//     changes, with the same exception;
//   - every open replica in the ISR or the ELR holds durably (fsynced) every record
//     below the greatest high watermark any replica of the partition had, at every
//     step;
//   - each open replica's high watermark never goes backwards;
//   - leader epochs never go backwards, and the batches of each log carry
//     non-decreasing epochs;
//   - once healed, every replica of a partition holds the same bytes;
//   - and those of transactions (a third of the produces, half the consumes in
//     read_committed): see sim_txn_test.go.
//
// One schedule in four runs its logs under SyncNone, as Kafka runs (acknowledged
// once written to the OS: what counts toward the high watermark), where a broker's
// power loss takes its unsynced records: the same checks hold, except that when the
// last replica that may lead (alone in the ISR and the ELR) loses power, committed
// records may go with it (KIP-966's last known leader), as after an unclean
// election. SyncNone rather than SyncPeriodic: its fsyncs come only at rolls and
// closes, never from a background goroutine, so that a seed replays exactly.
//
// STRATA_SIM_SEEDS sets how many schedules run (STRATA_LONG=1: 10,000), STRATA_SEED
// replays one, STRATA_SIM_STEPS sets the steps per schedule.
func TestSimulation(t *testing.T) { runSimulation(t, false) }

// runSimulation runs the schedules; clean ones (TestSimulationTransactions) never
// elect a leader uncleanly nor run under SyncNone, so that no committed record
// may be lost.
func runSimulation(t *testing.T, clean bool) {
	seeds := envInt("STRATA_SIM_SEEDS", 40)
	if os.Getenv("STRATA_LONG") != "" {
		seeds = envInt("STRATA_SIM_SEEDS", 10000)
	}
	first := uint64(1)
	if s := os.Getenv("STRATA_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		first, seeds = v, 1
	}
	steps := envInt("STRATA_SIM_STEPS", 300)
	var faults, violations int
	for seed := first; seed < first+uint64(seeds); seed++ {
		s := newSim(t, seed, steps, clean)
		s.run()
		faults += s.faults
		if len(s.violations) > 0 {
			violations += len(s.violations)
			t.Errorf("seed %d: %d violations; replay: STRATA_SEED=%d go test ./replica -run 'TestSimulation$' -v\n%s\nlast steps:\n%s",
				seed, len(s.violations), seed, strings.Join(s.violations, "\n"), strings.Join(s.lastSteps(), "\n"))
		}
		s.close()
	}
	t.Logf("%d schedules, %d faults, %d violations", seeds, faults, violations)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type simBroker struct {
	id     BrokerID
	crash  *vfs.CrashableFS
	faults *vfs.Switch
	fs     vfs.FS
	up     bool
}

type simMarks struct{ hw, start int64 }

type simPending struct {
	part   string
	r      *Replica
	base   int64
	end    int64
	epoch  int32
	values []string
}

type sim struct {
	t          *testing.T
	seed       uint64
	rng        *rand.Rand
	steps      int
	now        time.Time
	brokers    []*simBroker
	c          *Cluster
	tr         *simTransport
	ctl        *simController
	parts      []string
	configs    map[string]Config
	minISR     int
	produced   int
	pending    []simPending
	acked      map[string]map[int64]string // acks=all acknowledged: offset -> value
	seen       map[string]map[int64]string // read by a consumer
	cursor     map[string]int64
	unclean    map[string]bool // an election outside the ISR and ELR happened, or a power loss of the last replica that may lead under SyncNone
	syncMode   partition.SyncMode
	deleted    map[string]int64 // records below it were deleted (DeleteRecords)
	states     map[string]State
	hw         map[*Replica]simMarks
	committed  map[string]int64 // the greatest high watermark of any replica
	inFlight   []simFetch       // slow fetches: answered, not yet delivered
	faults     int
	log        []string
	violations []string
	txns       simTxns // sim_txn_test.go
	clean      bool    // no unclean election, no SyncNone
}

func newSim(t *testing.T, seed uint64, steps int, clean bool) *sim {
	s := &sim{
		t: t, seed: seed, clean: clean, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), steps: steps,
		now:     time.Unix(1_700_000_000, 0),
		configs: map[string]Config{}, acked: map[string]map[int64]string{}, seen: map[string]map[int64]string{},
		cursor: map[string]int64{}, unclean: map[string]bool{}, deleted: map[string]int64{}, states: map[string]State{}, hw: map[*Replica]simMarks{},
		committed: map[string]int64{}, txns: newSimTxns(),
	}
	r := 3
	s.minISR = 1 + s.rng.IntN(2)
	// Explicit, not SyncDefault: powerLost and checkStep tell SyncEveryAppend
	// from the lazy modes.
	s.syncMode = partition.SyncEveryAppend
	if s.rng.IntN(4) == 0 && !clean {
		s.syncMode = partition.SyncNone
	}
	s.tr = &simTransport{handlers: map[BrokerID]Handler{}, cut: map[link]bool{}}
	for id := range r {
		b := &simBroker{id: BrokerID(id), crash: vfs.NewCrashable(), faults: new(vfs.Switch), up: true}
		b.fs = vfs.NewFaulty(b.crash, b.faults.Inject)
		s.brokers = append(s.brokers, b)
	}
	ctl, err := NewLocalController(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.ctl = &simController{LocalController: ctl, s: s, last: map[string]State{}}
	c, err := NewCluster(ClusterOptions{
		Controller: s.ctl, Transport: s.tr, OpenLog: s.openLog, Manual: true, Now: func() time.Time { return s.now },
		ReplicaLagTime: 10 * time.Second, FetchMaxBytes: 1 + s.rng.IntN(4096),
		Logger: slog.New(simLogHandler{s}),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	for _, b := range s.brokers {
		if err := c.StartBroker(b.id); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		name := fmt.Sprintf("t-%d", i)
		cfg := Config{MinInsyncReplicas: s.minISR, UncleanLeaderElection: s.rng.IntN(4) == 0 && !clean}
		replicas := []BrokerID{BrokerID(i % r), BrokerID((i + 1) % r), BrokerID((i + 2) % r)}
		if _, err := c.CreatePartition(name, replicas, cfg); err != nil {
			t.Fatal(err)
		}
		s.parts = append(s.parts, name)
		s.configs[name] = cfg
		s.acked[name], s.seen[name] = map[int64]string{}, map[int64]string{}
		st, _ := c.Controller().State(name)
		s.states[name] = st
	}
	return s
}

func (s *sim) openLog(b BrokerID, name string, replicated bool) (*partition.Partition, error) {
	return partition.Open(path.Join(fmt.Sprintf("/b%d", b), name), &partition.Options{
		FS: s.brokers[b].fs, Replicated: replicated, SegmentBytes: 2048, MaxBatchBytes: 1 << 16,
		Sync: partition.SyncPolicy{Mode: s.syncMode},
		Now:  func() time.Time { return s.now },
	})
}

func (s *sim) close() { _ = s.c.Close() }

func (s *sim) step(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

func (s *sim) lastSteps() []string {
	return s.log[max(0, len(s.log)-envInt("STRATA_SIM_TAIL", 40)):]
}

func (s *sim) violation(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf("step %d: ", len(s.log))+fmt.Sprintf(format, args...))
}

func (s *sim) run() {
	for i := 0; i < s.steps && len(s.violations) == 0; i++ {
		switch n := s.rng.IntN(100); {
		case n < 25:
			s.produce()
		case n < 55:
			s.fetch()
		case n < 62:
			s.consume()
		case n < 70:
			s.tick()
		case n < 74:
			s.crash()
		case n < 80:
			s.restart()
		case n < 82:
			s.diskFailure()
		case n < 88:
			s.cutLink()
		case n < 90:
			s.step("elect preferred")
			_, _ = s.c.ElectPreferred()
		case n < 92:
			s.deleteRecords()
		case n < 94:
			s.slowFetch()
		case n < 96:
			s.deliver()
		case n < 97:
			s.staleRequest()
		case n < 98:
			s.setConfig()
		case n < 99:
			s.reassign()
		default:
			s.fetch()
		}
		s.c.handleDiskFailures()
		s.settleAcks()
		s.checkStep()
	}
	if len(s.violations) == 0 {
		s.heal()
		s.endTransactions()
		s.heal()
		s.checkFinal()
	}
}

// produce appends a batch at a random acks level through the leader; one in three
// is transactional.
func (s *sim) produce() {
	if s.rng.IntN(3) == 0 {
		s.produceTxn()
		return
	}
	name := s.parts[s.rng.IntN(len(s.parts))]
	p := s.c.Partition(name)
	r, err := p.Leader()
	if err != nil {
		s.step("produce %s: %v", name, err)
		return
	}
	acks := Acks(s.rng.IntN(3))
	n := 1 + s.rng.IntN(5)
	recs := make([]partition.Record, n)
	values := make([]string, n)
	for i := range recs {
		s.produced++
		values[i] = fmt.Sprintf("%s/%d", name, s.produced)
		recs[i] = partition.Record{Value: []byte(values[i]), Timestamp: s.now.UnixMilli()}
	}
	base, end, epoch, err := r.appendAsLeader(context.Background(), recs, acks)
	s.step("produce %s acks=%v on %d: %d records at %d: %v", name, acks, r.broker, n, base, err)
	if err != nil {
		return
	}
	if acks != AcksAll {
		if s.syncMode == partition.SyncEveryAppend {
			// The background fsync, done now (deterministically).
			if err := r.log.Sync(context.Background()); err != nil {
				r.checkDisk(err)
			}
		}
		return
	}
	s.pending = append(s.pending, simPending{part: name, r: r, base: base, end: end, epoch: epoch, values: values})
}

// settleAcks acknowledges the pending acks=all produces that the high watermark
// covers, and forgets the failed ones.
func (s *sim) settleAcks() {
	kept := s.pending[:0]
	for _, pa := range s.pending {
		pa.r.mu.Lock()
		pa.r.updateHighWatermarkLocked()
		done, _, err := pa.r.ackStatusLocked(pa.end, pa.epoch)
		pa.r.mu.Unlock()
		switch {
		case done:
			for i, v := range pa.values {
				s.acked[pa.part][pa.base+int64(i)] = v
			}
			s.step("acked %s [%d, %d)", pa.part, pa.base, pa.end)
		case err != nil:
			s.step("ack of %s [%d, %d) failed: %v", pa.part, pa.base, pa.end, err)
		default:
			kept = append(kept, pa)
		}
	}
	s.pending = kept
}

// fetch runs one fetch of a random follower.
func (s *sim) fetch() {
	name := s.parts[s.rng.IntN(len(s.parts))]
	p := s.c.Partition(name)
	rs := p.sortedReplicas()
	if len(rs) == 0 {
		return
	}
	r := rs[s.rng.IntN(len(rs))]
	if s.fetching(r) {
		return // one fetch at a time
	}
	s.faultNextFetch()
	before := r.log.WrittenOffset()
	err := r.fetchOnce(context.Background(), 0)
	if !errors.Is(err, errNotFollowing) {
		s.step("fetch %s on %d: %d -> %d: %v", name, r.broker, before, r.log.WrittenOffset(), err)
	}
}

// faultNextFetch drops the next fetch, or keeps a copy of its request for a stale
// delivery, now and then.
func (s *sim) faultNextFetch() {
	switch s.rng.IntN(20) {
	case 0, 1:
		s.tr.dropNext = true
	case 2:
		s.tr.copyNext = true
	}
}

// simFetch is a fetch whose answer is on a slow link.
type simFetch struct {
	r     *Replica
	state State
	req   *FetchRequest
	resp  *FetchResponse
	err   error
}

// fetching reports whether r has a slow fetch in flight.
func (s *sim) fetching(r *Replica) bool {
	return slices.ContainsFunc(s.inFlight, func(f simFetch) bool { return f.r == r })
}

// slowFetch sends a random follower's fetch; the leader handles it now, and its
// answer comes in a later step (deliver).
func (s *sim) slowFetch() {
	name := s.parts[s.rng.IntN(len(s.parts))]
	rs := s.c.Partition(name).sortedReplicas()
	if len(rs) == 0 {
		return
	}
	r := rs[s.rng.IntN(len(rs))]
	if s.fetching(r) {
		return
	}
	st, req, err := r.nextFetch()
	if err != nil {
		if !errors.Is(err, errNotFollowing) {
			r.checkDisk(err)
		}
		return
	}
	s.faultNextFetch()
	resp, err := s.tr.Fetch(context.Background(), r.broker, st.Leader, req)
	s.step("slow fetch %s on %d from %d at %d: answer held: %v", name, r.broker, st.Leader, req.FetchOffset, err)
	s.inFlight = append(s.inFlight, simFetch{r: r, state: st, req: req, resp: resp, err: err})
}

// deliver delivers the answer of a random slow fetch.
func (s *sim) deliver() {
	if len(s.inFlight) == 0 {
		return
	}
	i := s.rng.IntN(len(s.inFlight))
	f := s.inFlight[i]
	s.inFlight = slices.Delete(s.inFlight, i, i+1)
	s.deliverFetch(f)
}

func (s *sim) deliverFetch(f simFetch) {
	before := f.r.log.WrittenOffset()
	err := f.r.applyFetch(context.Background(), &f.state, f.req, f.resp, f.err)
	if err != nil {
		f.r.checkDisk(err)
	}
	s.step("deliver fetch %s on %d (leader %d, epoch %d): %d -> %d: %v", f.r.name, f.r.broker, f.state.Leader, f.state.LeaderEpoch, before, f.r.log.WrittenOffset(), err)
}

// staleRequest delivers again, to whoever serves its broker now, a fetch request
// sent earlier: a retransmission that arrives late. Its answer is lost.
func (s *sim) staleRequest() {
	s.tr.mu.Lock()
	if len(s.tr.copies) == 0 {
		s.tr.mu.Unlock()
		return
	}
	i := s.rng.IntN(len(s.tr.copies))
	c := s.tr.copies[i]
	s.tr.copies = slices.Delete(s.tr.copies, i, i+1)
	h := s.tr.handlers[c.to]
	s.tr.mu.Unlock()
	if h == nil {
		return
	}
	_, err := h.HandleFetch(context.Background(), &c.req)
	s.step("stale fetch %s from %d to %d at %d (epoch %d): %v", c.req.Partition, c.req.Replica, c.to, c.req.FetchOffset, c.req.LeaderEpoch, err)
}

// setConfig changes a partition's min.insync.replicas, now and then its unclean
// election setting.
func (s *sim) setConfig() {
	name := s.parts[s.rng.IntN(len(s.parts))]
	cfg := s.configs[name]
	cfg.MinInsyncReplicas = 1 + s.rng.IntN(3)
	if s.rng.IntN(4) == 0 && !s.clean {
		cfg.UncleanLeaderElection = !cfg.UncleanLeaderElection
	}
	_, err := s.c.SetConfig(name, cfg)
	s.step("set config of %s: %+v: %v", name, cfg, err)
	if err == nil {
		s.configs[name] = cfg
	}
}

// consume reads what the leader's high watermark lets a consumer read; half the
// time in read_committed.
func (s *sim) consume() {
	if s.rng.IntN(2) == 0 {
		s.consumeCommitted()
		return
	}
	name := s.parts[s.rng.IntN(len(s.parts))]
	r, err := s.c.Partition(name).Leader()
	if err != nil {
		return
	}
	from := max(s.cursor[name], r.log.StartOffset())
	recs, err := r.log.Read(from, 0, 1<<16)
	s.step("consume %s from %d on %d: %d records: %v", name, from, r.broker, len(recs), err)
	for _, rec := range recs {
		v := string(rec.Value)
		if old, ok := s.seen[name][rec.Offset]; ok && old != v && !s.unclean[name] {
			s.violation("%s offset %d read as %q, earlier as %q", name, rec.Offset, v, old)
		}
		s.seen[name][rec.Offset] = v
		s.cursor[name] = rec.Offset + 1
	}
}

// reassign moves a partition's replicas to a random target of at least
// min.insync.replicas brokers, in a random order.
func (s *sim) reassign() {
	name := s.parts[s.rng.IntN(len(s.parts))]
	ids := []BrokerID{0, 1, 2}
	s.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	n := s.configs[name].MinInsyncReplicas + s.rng.IntN(3-s.configs[name].MinInsyncReplicas+1)
	target := ids[:max(n, 1)]
	_, err := s.c.Reassign(name, target)
	s.step("reassign %s to %v: %v", name, target, err)
}

// deleteRecords moves a leader's log start offset up, below its high watermark.
func (s *sim) deleteRecords() {
	name := s.parts[s.rng.IntN(len(s.parts))]
	r, err := s.c.Partition(name).Leader()
	if err != nil {
		return
	}
	hw, start := r.log.HighWatermark(), r.log.StartOffset()
	if hw <= start {
		return
	}
	offset := start + s.rng.Int64N(hw-start+1)
	err = r.log.DeleteRecordsBefore(offset)
	s.step("delete records of %s below %d on %d: %v", name, offset, r.broker, err)
	if err == nil {
		s.deleted[name] = max(s.deleted[name], offset)
	}
}

// tick lets time pass and runs the leaders' ISR checks.
func (s *sim) tick() {
	d := time.Duration(s.rng.Int64N(int64(8 * time.Second)))
	s.now = s.now.Add(d)
	s.step("tick %v", d)
	s.c.checkISRs()
}

func (s *sim) upBrokers() []*simBroker {
	var up []*simBroker
	for _, b := range s.brokers {
		if b.up {
			up = append(up, b)
		}
	}
	return up
}

// crash cuts a broker's power: its unsynced writes are lost.
func (s *sim) crash() {
	up := s.upBrokers()
	if len(up) == 0 {
		return
	}
	b := up[s.rng.IntN(len(up))]
	mode := []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefix, vfs.TearGarbage, vfs.TearZeros}[s.rng.IntN(4)]
	image := b.crash.Crash(mode, s.rng.Int64())
	s.step("crash %d (%v)", b.id, mode)
	s.faults++
	b.up = false
	_ = s.c.StopBroker(b.id)
	s.powerLost(b.id)
	b.crash = image
	b.faults = new(vfs.Switch)
	b.fs = vfs.NewFaulty(b.crash, b.faults.Inject)
}

// powerLost notes the partitions that may lose committed records now that broker
// id, offline, lost what it did not fsync: under SyncNone, those of which it is the
// last replica that may lead (the ISR empty, id in the ELR).
func (s *sim) powerLost(id BrokerID) {
	if s.syncMode == partition.SyncEveryAppend {
		return
	}
	for _, name := range s.parts {
		st, err := s.c.Controller().State(name)
		if err == nil && len(st.ISR) == 0 && slices.Contains(st.ELR, id) && !s.unclean[name] {
			s.unclean[name] = true
			s.step("  %s: its last replica that may lead, %d, lost power: committed records may be lost", name, id)
		}
	}
}

// restart starts a crashed or failed broker again.
func (s *sim) restart() {
	var down []*simBroker
	for _, b := range s.brokers {
		if !b.up || s.c.Failed(b.id) {
			down = append(down, b)
		}
	}
	if len(down) == 0 {
		return
	}
	b := down[s.rng.IntN(len(down))]
	s.restartBroker(b)
}

func (s *sim) restartBroker(b *simBroker) {
	if s.c.Failed(b.id) {
		// A failed disk is replaced by what it held durably.
		_ = s.c.StopBroker(b.id)
		s.powerLost(b.id)
		b.crash = b.crash.Crash(vfs.DropUnsynced, 0)
		b.faults = new(vfs.Switch)
		b.fs = vfs.NewFaulty(b.crash, b.faults.Inject)
	}
	err := s.c.StartBroker(b.id)
	s.step("start %d: %v", b.id, err)
	if err != nil {
		s.violation("broker %d does not start: %v", b.id, err)
		return
	}
	b.up = true
}

// diskFailure makes a broker's disk fail its writes or fsyncs.
func (s *sim) diskFailure() {
	up := s.upBrokers()
	if len(up) == 0 {
		return
	}
	b := up[s.rng.IntN(len(up))]
	op := []vfs.Op{vfs.OpWrite, vfs.OpSync}[s.rng.IntN(2)]
	err := []error{syscall.EIO, syscall.ENOSPC}[s.rng.IntN(2)]
	s.step("disk of %d fails %v with %v", b.id, op, err)
	s.faults++
	b.faults.Set(vfs.FailOp(op, err))
}

// cutLink cuts or heals the link between two brokers.
func (s *sim) cutLink() {
	a, b := BrokerID(s.rng.IntN(3)), BrokerID(s.rng.IntN(3))
	if a == b {
		return
	}
	cut := s.rng.IntN(2) == 0
	s.step("link %d-%d cut=%v", a, b, cut)
	if cut {
		s.faults++
	}
	s.tr.mu.Lock()
	s.tr.cut[linkOf(a, b)] = cut
	s.tr.mu.Unlock()
}

// checkStep checks the invariants that hold at every step.
func (s *sim) checkStep() {
	for _, name := range s.parts {
		st, err := s.c.Controller().State(name)
		if err != nil {
			s.violation("%s: %v", name, err)
			continue
		}
		prev := s.states[name]
		if st.LeaderEpoch < prev.LeaderEpoch || st.PartitionEpoch < prev.PartitionEpoch {
			s.violation("%s: epochs went backwards: %v -> %v", name, prev, st)
		}
		if st.PartitionEpoch != prev.PartitionEpoch {
			s.step("  state %s: %v", name, st)
		}
		s.states[name] = st
		s.checkStable(name)
		for _, r := range s.c.Partition(name).sortedReplicas() {
			now := simMarks{hw: r.log.HighWatermark(), start: r.log.StartOffset()}
			// A follower that starts over (TruncateFullyAndStartAt) may lower the high
			// watermark of a log in which nothing was visible.
			if old, ok := s.hw[r]; ok && now.hw < old.hw && old.start < old.hw && !s.unclean[name] {
				s.violation("%s on %d: high watermark went back from %d to %d", name, r.broker, old.hw, now.hw)
			}
			s.hw[r] = now
			if now.hw > s.committed[name] {
				s.step("  high watermark of %s: %d on %d", name, now.hw, r.broker)
				s.committed[name] = now.hw
			}
		}
		if s.unclean[name] {
			continue
		}
		for _, b := range append(slices.Clone(st.ISR), st.ELR...) {
			r := s.c.Partition(name).Replica(b)
			if r == nil || r.log.Err() != nil {
				// A failed log's DurableOffset says what is sure to survive a
				// truncation that failed midway; its disk is checked once replaced.
				continue
			}
			durable := r.log.DurableOffset()
			if s.syncMode != partition.SyncEveryAppend {
				durable = r.log.AcknowledgedOffset() // written to the OS: what counts
			}
			if durable < s.committed[name] {
				s.violation("%s on %d (ISR %v, ELR %v): durable only below %d, the high watermark reached %d", name, b, st.ISR, st.ELR, durable, s.committed[name])
			}
		}
	}
}

// heal ends every fault, restarts every broker and lets the followers catch up.
func (s *sim) heal() {
	s.step("heal")
	s.tr.mu.Lock()
	clear(s.tr.cut)
	s.tr.mu.Unlock()
	for _, f := range s.inFlight {
		s.deliverFetch(f)
	}
	s.inFlight = nil
	for _, b := range s.brokers {
		b.faults.Set(nil)
		if !b.up || s.c.Failed(b.id) {
			s.restartBroker(b)
		}
	}
	for round := 0; round < 200; round++ {
		progress := false
		s.c.handleDiskFailures()
		s.c.placeAll()
		for _, b := range s.brokers {
			b.faults.Set(nil)
			if s.c.Failed(b.id) {
				s.restartBroker(b)
				progress = true
			}
		}
		for _, name := range s.parts {
			for _, r := range s.c.Partition(name).sortedReplicas() {
				before, hw := r.log.WrittenOffset(), r.log.HighWatermark()
				err := r.fetchOnce(context.Background(), 0)
				if err != nil && !errors.Is(err, errNotFollowing) {
					s.step("heal fetch %s on %d: %v", name, r.broker, err)
				}
				if r.log.WrittenOffset() != before || r.log.HighWatermark() != hw || (err != nil && !errors.Is(err, errNotFollowing)) {
					progress = true
				}
			}
		}
		s.settleAcks()
		s.checkStep()
		if !progress {
			return
		}
	}
	s.violation("the replicas did not converge")
}

// checkFinal checks the healed cluster.
func (s *sim) checkFinal() {
	for _, name := range s.parts {
		p := s.c.Partition(name)
		leader, err := p.Leader()
		if err != nil {
			s.violation("%s has no leader once healed: %v (state %v)", name, err, p.State())
			continue
		}
		from := int64(0)
		for _, r := range p.sortedReplicas() {
			from = max(from, r.log.StartOffset())
		}
		want := logBytesFrom(s.t, leader, from)
		for _, r := range p.sortedReplicas() {
			if got := logBytesFrom(s.t, r, from); !bytes.Equal(got, want) {
				s.violation("%s: replica %d differs from leader %d (%d vs %d bytes, ends %d vs %d)", name, r.broker, leader.broker, len(got), len(want), r.log.WrittenOffset(), leader.log.WrittenOffset())
			}
			s.checkEpochOrder(name, r)
		}
		s.checkFinalTxns(name, leader, from)
		if s.unclean[name] {
			continue
		}
		values := s.values(leader)
		for off, v := range s.acked[name] {
			if off < s.deleted[name] {
				continue
			}
			if values[off] != v {
				s.violation("%s: acknowledged record %q at offset %d lost (now %q)", name, v, off, values[off])
			}
		}
		for off, v := range s.seen[name] {
			if off < s.deleted[name] {
				continue
			}
			if values[off] != v {
				s.violation("%s: record %q read at offset %d disappeared (now %q; leader %d's log [%d, %d), high watermark %d)", name, v, off, values[off], leader.broker, leader.log.StartOffset(), leader.log.WrittenOffset(), leader.log.HighWatermark())
			}
		}
	}
}

// values reads a replica's records below its high watermark.
func (s *sim) values(r *Replica) map[int64]string {
	out := map[int64]string{}
	for off := r.log.StartOffset(); off < r.log.HighWatermark(); {
		recs, err := r.log.Read(off, 0, 1<<16)
		if err == nil && len(recs) == 0 {
			// Read skips control batches (transaction markers): a marker last
			// below the high watermark leaves it nothing to return.
			if off, err = s.skipControl(r, off); err == nil {
				continue
			}
		}
		if err != nil || len(recs) == 0 {
			s.violation("reading %s on %d at %d: %v", r.name, r.broker, off, err)
			return out
		}
		for _, rec := range recs {
			out[rec.Offset] = string(rec.Value)
			off = rec.Offset + 1
		}
	}
	return out
}

// checkEpochOrder checks that the batches of a replica's log carry non-decreasing
// leader epochs.
func (s *sim) checkEpochOrder(name string, r *Replica) {
	b := logBytes(s.t, r)
	last := int32(-1)
	for pos := 0; pos < len(b); {
		h, err := segment.ParseBatchHeader(b[pos:], 1<<20)
		if err != nil {
			s.violation("%s on %d: %v", name, r.broker, err)
			return
		}
		if h.PartitionLeaderEpoch < last {
			s.violation("%s on %d: batch at %d has epoch %d after epoch %d", name, r.broker, h.BaseOffset, h.PartitionLeaderEpoch, last)
		}
		last = h.PartitionLeaderEpoch
		pos += h.Size()
	}
}

// simController records every state the controller decides, to tell unclean
// elections (a leader from outside the ISR and the ELR) from clean ones.
type simController struct {
	*LocalController
	s    *sim
	last map[string]State
}

func (c *simController) observe(name string, st State) {
	c.observeJoining(name, st, false)
}

// observeJoining is observe; joined says the change added a caught-up follower to
// the ISR, which a completed reassignment may make leader in the same change.
func (c *simController) observeJoining(name string, st State, joined bool) {
	prev, ok := c.last[name]
	c.last[name] = st.Clone()
	if !ok || st.Leader == prev.Leader || st.Leader == NoBroker || prev.InSync(st.Leader) || slices.Contains(prev.ELR, st.Leader) {
		return
	}
	if joined && st.InSync(st.Leader) {
		return
	}
	if !st.Config.UncleanLeaderElection {
		c.s.violation("%s: leader %d elected from outside the ISR %v and ELR %v", name, st.Leader, prev.ISR, prev.ELR)
	}
	c.s.unclean[name] = true
	c.s.step("  unclean election of %d for %s", st.Leader, name)
}

func (c *simController) observeAll(changed map[string]State) {
	names := slices.Sorted(maps.Keys(changed))
	for _, name := range names {
		c.observe(name, changed[name])
	}
}

func (c *simController) Create(specs []PartitionSpec) (map[string]State, error) {
	states, err := c.LocalController.Create(specs)
	for name, st := range states {
		c.last[name] = st.Clone()
	}
	return states, err
}

func (c *simController) AlterISR(name string, leaderEpoch, partitionEpoch int32, isr []BrokerID) (State, error) {
	st, err := c.LocalController.AlterISR(name, leaderEpoch, partitionEpoch, isr)
	if err == nil {
		c.observeJoining(name, st, true)
	}
	return st, err
}

func (c *simController) Reassign(name string, target []BrokerID) (State, error) {
	st, err := c.LocalController.Reassign(name, target)
	if err == nil {
		c.observe(name, st)
	}
	return st, err
}

func (c *simController) SetBrokersOnline(ids []BrokerID, online bool) (map[string]State, error) {
	changed, err := c.LocalController.SetBrokersOnline(ids, online)
	c.observeAll(changed)
	return changed, err
}

func (c *simController) SetConfig(name string, cfg Config) (State, error) {
	st, err := c.LocalController.SetConfig(name, cfg)
	if err == nil {
		c.observe(name, st)
	}
	return st, err
}

func (c *simController) LeaveELR(id BrokerID, names []string) (map[string]State, error) {
	changed, err := c.LocalController.LeaveELR(id, names)
	c.observeAll(changed)
	return changed, err
}

func (c *simController) ElectPreferred(names []string) (map[string]State, error) {
	changed, err := c.LocalController.ElectPreferred(names)
	c.observeAll(changed)
	return changed, err
}

// simLogHandler appends the cluster's log records to the schedule's steps.
type simLogHandler struct{ s *sim }

func (h simLogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h simLogHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h simLogHandler) WithGroup(string) slog.Handler            { return h }
func (h simLogHandler) Handle(_ context.Context, r slog.Record) error {
	line := "  " + r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	h.s.step("%s", line)
	return nil
}

// simTransport calls the destination's handler at once, unless the link is cut or
// the fetch is dropped; it keeps a copy of a request now and then, for the
// simulation to deliver again later.
type simTransport struct {
	mu       sync.Mutex
	handlers map[BrokerID]Handler
	cut      map[link]bool
	dropNext bool
	copyNext bool
	copies   []simRequest
}

type simRequest struct {
	to  BrokerID
	req FetchRequest
}

func (t *simTransport) Register(id BrokerID, h Handler) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h == nil {
		delete(t.handlers, id)
		return
	}
	t.handlers[id] = h
}

func (t *simTransport) Fetch(ctx context.Context, from, to BrokerID, req *FetchRequest) (*FetchResponse, error) {
	t.mu.Lock()
	h, cut, drop := t.handlers[to], t.cut[linkOf(from, to)], t.dropNext
	t.dropNext = false
	if t.copyNext {
		t.copies = append(t.copies, simRequest{to: to, req: *req})
		t.copyNext = false
	}
	t.mu.Unlock()
	if h == nil || cut || drop {
		return nil, ErrBrokerOffline
	}
	resp, err := h.HandleFetch(ctx, req)
	if os.Getenv("STRATA_SIM_TRACE") != "" {
		if resp != nil {
			fmt.Printf("fetch %d->%d %+v: hw %d diverging %+v, %d bytes, err %v\n", from, to, *req, resp.HighWatermark, resp.Diverging, len(resp.Batches), err)
		} else {
			fmt.Printf("fetch %d->%d %+v: err %v\n", from, to, *req, err)
		}
	}
	return resp, err
}
