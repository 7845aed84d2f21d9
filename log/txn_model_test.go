package log_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestTransactionModel runs random schedules of idempotent, plain and
// transactional producers (begin, produce, commit, abort, a new instance fencing
// the old one, the old one going on as a zombie), coordinator ticks on a fake
// clock (transaction timeouts), fsync failures, clean restarts and crashes of a
// CrashableFS, against a model of what each partition must hold. After every
// step, and after every reopen, for every partition:
//
//   - read_uncommitted returns exactly the acknowledged records, in offset
//     order: none lost, none twice, none of a refused zombie;
//   - the last stable offset is the first offset of the earliest open
//     transaction in the partition, or the end offset if none is open;
//   - read_committed returns exactly the acknowledged records below the last
//     stable offset that belong to no transaction or to a committed one: no
//     aborted record, no record of an open transaction.
//
// A produce whose fsync failed has an unknown outcome: the schedule crashes
// right after it, and the model takes the record as present if the reopened
// partition holds it at its offset (it must then be visible as any other record
// of its kind), else as never written. Topics are SyncEveryAppend: a SyncNone
// topic may lose any unsynced suffix in a crash, acknowledged records and
// markers included, which this model does not track (the partition crash tests
// cover that suffix).
//
// Each schedule's seed is printed on failure; STRATA_TXN_MODEL_SEED=n runs only
// seed n, with its trace. STRATA_LONG=1 runs 5,000 schedules.
func TestTransactionModel(t *testing.T) {
	schedules, steps := 150, 60
	if os.Getenv("STRATA_LONG") == "1" {
		schedules = 5000
	}
	first := int64(1)
	if seed := os.Getenv("STRATA_TXN_MODEL_SEED"); seed != "" {
		n, err := strconv.ParseInt(seed, 10, 64)
		if err != nil {
			t.Fatalf("STRATA_TXN_MODEL_SEED: %v", err)
		}
		first, schedules = n, 1
	}
	violations := 0
	events := map[string]int{}
	for i := range int64(schedules) {
		seed := first + i
		m := newTxnModel(t, seed)
		err := m.run(steps)
		m.close()
		for _, line := range m.trace {
			for _, event := range modelEvents {
				if strings.Contains(line, event) {
					events[event]++
				}
			}
		}
		if err != nil {
			violations++
			t.Errorf("seed %d (rerun: STRATA_TXN_MODEL_SEED=%d go test -run TestTransactionModel ./log/): %v\ntrace:\n  %s",
				seed, seed, err, strings.Join(m.trace, "\n  "))
			if violations >= 3 {
				break
			}
		}
	}
	t.Logf("%d schedules, %d violations", schedules, violations)
	var counts []string
	for _, event := range modelEvents {
		counts = append(counts, fmt.Sprintf("%s: %d", event, events[event]))
	}
	t.Logf("events: %s", strings.Join(counts, ", "))
}

// modelEvents are the trace's events counted over the schedules, to show what
// they covered.
var modelEvents = []string{"commit", "abort ", "aborts", "timed out", "zombie", "crash", "restart", "survived", "lost", "refused"}

// modelTopics are the schedules' topics: two of SyncEveryAppend, one rolling
// its segments often.
var modelTopics = map[string]log.TopicConfig{
	"m": {Partitions: 2, SegmentBytes: 600},
	"n": {Partitions: 1},
}

var modelPartitions = []log.TopicPartition{{Topic: "m", Partition: 0}, {Topic: "m", Partition: 1}, {Topic: "n", Partition: 0}}

const modelTxnTimeout = time.Minute

// modelTxn is a transaction as the model sees it.
type modelTxn struct {
	name  string // "<id>#<n>"
	state modelTxnState
	// start is when its first record was produced (the coordinator's start
	// time); first its first offset in each partition it wrote to.
	start time.Time
	first map[log.TopicPartition]int64
}

type modelTxnState int

const (
	txnBegun     modelTxnState = iota // begun by the producer, no record yet: the coordinator does not know it
	txnOpen                           // records written: open in the coordinator and the partitions
	txnCommitted                      // CommitTransaction returned nil
	txnAborted                        // aborted by the producer, a new instance, or the timeout
)

// modelRecord is an acknowledged record (or one of unknown outcome: maybe).
type modelRecord struct {
	value string
	txn   *modelTxn // nil: not transactional
	maybe bool
}

// modelInstance is a transactional producer instance.
type modelInstance struct {
	p   *log.Producer
	txn *modelTxn // begun and not ended, or nil
}

// modelTxnID is a transactional id: its current instance, the older ones still
// running (zombies), and its transaction open in the coordinator, if any (which
// may have lost its instance in a crash).
type modelTxnID struct {
	name    string
	current *modelInstance
	zombies []*modelInstance
	open    *modelTxn
	count   int
}

// txnModel is one schedule: the store under test and the model.
type txnModel struct {
	t     *testing.T
	ctx   context.Context
	seed  int64
	rng   *rand.Rand
	now   atomic.Int64
	opts  *log.Options
	base  *vfs.CrashableFS
	fault vfs.Switch
	store *log.Store
	// idempotent and plain are the store's producers of each kind, made when
	// first used.
	idempotent, plain *log.Producer
	ids               []*modelTxnID
	records           map[log.TopicPartition]map[int64]*modelRecord
	// refused are values of produces that must never appear (a zombie's).
	refused map[string]bool
	seq     int
	trace   []string
}

func newTxnModel(t *testing.T, seed int64) *txnModel {
	m := &txnModel{
		t: t, ctx: context.Background(), seed: seed,
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x7478_6e6d_6f64_656c)),
		base:    vfs.NewCrashable(),
		records: map[log.TopicPartition]map[int64]*modelRecord{},
		refused: map[string]bool{},
	}
	m.now.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	m.opts = &log.Options{
		Now:                      func() time.Time { return time.Unix(0, m.now.Load()) },
		TransactionCheckInterval: -1,
		RetentionCheckInterval:   -1,
	}
	for _, tp := range modelPartitions {
		m.records[tp] = map[int64]*modelRecord{}
	}
	for _, name := range []string{"tx0", "tx1"} {
		m.ids = append(m.ids, &modelTxnID{name: name})
	}
	return m
}

func (m *txnModel) logf(format string, args ...any) {
	m.trace = append(m.trace, fmt.Sprintf(format, args...))
}

func (m *txnModel) clock() time.Time { return time.Unix(0, m.now.Load()) }

// open opens the store on m.base, through the fault switch.
func (m *txnModel) open() error {
	o := *m.opts
	o.FS = vfs.NewFaulty(m.base, m.fault.Inject)
	s, err := log.Open("/data", &o)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	m.store = s
	return nil
}

// close closes every producer and the store (after a crash: the dead process's).
func (m *txnModel) close() {
	for _, id := range m.ids {
		for _, in := range append(id.zombies, id.current) {
			if in != nil {
				in.p.Close()
			}
		}
		id.current, id.zombies = nil, nil
	}
	for _, p := range []*log.Producer{m.idempotent, m.plain} {
		if p != nil {
			p.Close()
		}
	}
	m.idempotent, m.plain = nil, nil
	if m.store != nil {
		m.store.Close()
		m.store = nil
	}
}

func (m *txnModel) run(steps int) error {
	if err := m.open(); err != nil {
		return err
	}
	for name, config := range modelTopics {
		if err := m.store.CreateTopic(m.ctx, name, config); err != nil {
			return err
		}
	}
	for step := range steps {
		if err := m.step(); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if err := m.check(); err != nil {
			return fmt.Errorf("after step %d: %w", step, err)
		}
	}
	return nil
}

// step runs one random operation and updates the model.
func (m *txnModel) step() error {
	id := m.ids[m.rng.IntN(len(m.ids))]
	switch op := m.rng.IntN(100); {
	case op < 30:
		return m.txnProduce(id)
	case op < 40:
		return m.txnEnd(id, true)
	case op < 46:
		return m.txnEnd(id, false)
	case op < 51:
		return m.newInstance(id)
	case op < 59:
		return m.zombieProduce(id)
	case op < 69:
		return m.produce(true)
	case op < 75:
		return m.produce(false)
	case op < 86:
		return m.tick()
	case op < 91:
		return m.crash()
	case op < 94:
		return m.restart()
	default:
		return m.fsyncFailureThenCrash()
	}
}

// nextRecord returns a new record for a random partition.
func (m *txnModel) nextRecord(kind string) *log.Record {
	m.seq++
	tp := modelPartitions[m.rng.IntN(len(modelPartitions))]
	return &log.Record{Topic: tp.Topic, Partition: tp.Partition, ExplicitPartition: true,
		Key: fmt.Appendf(nil, "k%d", m.rng.IntN(4)), Value: fmt.Appendf(nil, "%s:v%d", kind, m.seq)}
}

func topicPartition(r *log.Record) log.TopicPartition {
	return log.TopicPartition{Topic: r.Topic, Partition: r.Partition}
}

// acknowledge adds an acknowledged record to the model.
func (m *txnModel) acknowledge(r *log.Record, tx *modelTxn) error {
	tp := topicPartition(r)
	if prev := m.records[tp][r.Offset]; prev != nil {
		return fmt.Errorf("%s acknowledged at %s@%d, which holds %s", r.Value, tp, r.Offset, prev.value)
	}
	m.records[tp][r.Offset] = &modelRecord{value: string(r.Value), txn: tx}
	if tx != nil {
		if _, ok := tx.first[tp]; !ok {
			tx.first[tp] = r.Offset
		}
	}
	return nil
}

// instance returns id's current instance, starting one if it has none.
func (m *txnModel) instance(id *modelTxnID) (*modelInstance, error) {
	if id.current == nil {
		if err := m.newInstance(id); err != nil {
			return nil, err
		}
	}
	return id.current, nil
}

// newInstance starts a new producer for id: the previous one becomes a zombie,
// and the transaction open in the coordinator, if any, is aborted.
func (m *txnModel) newInstance(id *modelTxnID) error {
	m.logf("new instance of %s", id.name)
	p, err := m.store.NewProducer(log.ProducerOptions{TransactionalID: id.name, TransactionTimeout: modelTxnTimeout, Linger: -1})
	if err != nil {
		return fmt.Errorf("new instance of %s: %w", id.name, err)
	}
	if id.current != nil {
		id.zombies = append(id.zombies, id.current)
	}
	id.current = &modelInstance{p: p}
	if id.open != nil {
		m.logf("  aborts %s", id.open.name)
		id.open.state, id.open = txnAborted, nil
	}
	return nil
}

// begin makes sure id's current instance is in a transaction.
func (m *txnModel) begin(id *modelTxnID) (*modelInstance, error) {
	in, err := m.instance(id)
	if err != nil {
		return nil, err
	}
	if in.txn == nil {
		if err := in.p.BeginTransaction(); err != nil {
			return nil, fmt.Errorf("begin %s: %w", id.name, err)
		}
		id.count++
		in.txn = &modelTxn{name: fmt.Sprintf("%s#%d", id.name, id.count), first: map[log.TopicPartition]int64{}}
		m.logf("begin %s", in.txn.name)
	}
	return in, nil
}

func (m *txnModel) txnProduce(id *modelTxnID) error {
	in, err := m.begin(id)
	if err != nil {
		return err
	}
	tx := in.txn
	records := make([]*log.Record, 1+m.rng.IntN(3))
	for i := range records {
		records[i] = m.nextRecord(tx.name)
	}
	m.logf("produce %d in %s", len(records), tx.name)
	if err := in.p.ProduceSync(m.ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("produce in %s: %w", tx.name, err)
	}
	if tx.state == txnBegun {
		tx.state, tx.start, id.open = txnOpen, m.clock(), tx
	}
	for _, r := range records {
		m.logf("  %s at %s@%d", r.Value, topicPartition(r), r.Offset)
		if err := m.acknowledge(r, tx); err != nil {
			return err
		}
	}
	return nil
}

func (m *txnModel) txnEnd(id *modelTxnID, commit bool) error {
	in, err := m.begin(id)
	if err != nil {
		return err
	}
	tx := in.txn
	if commit {
		m.logf("commit %s", tx.name)
		err = in.p.CommitTransaction(m.ctx)
	} else {
		m.logf("abort %s", tx.name)
		err = in.p.AbortTransaction(m.ctx)
	}
	if err != nil {
		return fmt.Errorf("end %s (commit %v): %w", tx.name, commit, err)
	}
	in.txn = nil
	if tx.state == txnOpen {
		id.open = nil
	}
	tx.state = txnAborted
	if commit {
		tx.state = txnCommitted
	}
	return nil
}

// zombieProduce has a zombie of id produce: the produce must be refused as
// fenced, and its record never written.
func (m *txnModel) zombieProduce(id *modelTxnID) error {
	if len(id.zombies) == 0 {
		return m.newInstance(id)
	}
	z := id.zombies[m.rng.IntN(len(id.zombies))]
	r := m.nextRecord(id.name + "-zombie")
	m.logf("zombie of %s produces %s to %s", id.name, r.Value, topicPartition(r))
	m.refused[string(r.Value)] = true
	beginErr := z.p.BeginTransaction()
	err := z.p.ProduceSync(m.ctx, r).FirstErr()
	if !errors.Is(err, log.ErrProducerFenced) {
		return fmt.Errorf("a zombie's produce: %v (begin: %v), want ErrProducerFenced", err, beginErr)
	}
	if err := z.p.CommitTransaction(m.ctx); !errors.Is(err, log.ErrProducerFenced) {
		return fmt.Errorf("a zombie's commit: %v, want ErrProducerFenced", err)
	}
	return nil
}

// produce writes records through the store's idempotent or plain producer.
func (m *txnModel) produce(idempotent bool) error {
	p, kind := &m.plain, "plain"
	if idempotent {
		p, kind = &m.idempotent, "idem"
	}
	if *p == nil {
		var err error
		*p, err = m.store.NewProducer(log.ProducerOptions{Linger: -1, DisableIdempotence: !idempotent})
		if err != nil {
			return err
		}
	}
	records := make([]*log.Record, 1+m.rng.IntN(3))
	for i := range records {
		records[i] = m.nextRecord(kind)
	}
	m.logf("produce %d %s", len(records), kind)
	if err := (*p).ProduceSync(m.ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("produce %s: %w", kind, err)
	}
	for _, r := range records {
		m.logf("  %s at %s@%d", r.Value, topicPartition(r), r.Offset)
		if err := m.acknowledge(r, nil); err != nil {
			return err
		}
	}
	return nil
}

// tick advances the clock and runs the coordinator's Tick: every open
// transaction older than its timeout is aborted, and its instance fenced.
func (m *txnModel) tick() error {
	advance := []time.Duration{0, 5 * time.Second, 20 * time.Second, 61 * time.Second, 150 * time.Second}[m.rng.IntN(5)]
	m.now.Add(int64(advance))
	m.logf("tick after %v", advance)
	if err := log.TickTransactions(m.ctx, m.store); err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	now := m.clock()
	for _, id := range m.ids {
		if id.open == nil || !now.After(id.open.start.Add(modelTxnTimeout)) {
			continue
		}
		m.logf("  %s timed out", id.open.name)
		id.open.state = txnAborted
		if id.current != nil && id.current.txn == id.open {
			id.zombies, id.current = append(id.zombies, id.current), nil
		}
		id.open = nil
	}
	return nil
}

// crash loses what was not fsynced, as a power loss does, and opens the store
// again: every producer is gone; transactions left open stay open until their
// timeout or their id's next instance.
func (m *txnModel) crash() error {
	mode := vfs.CrashMode(m.rng.IntN(4))
	m.logf("crash (%v)", mode)
	after := m.base.Crash(mode, m.rng.Int64())
	m.close()
	m.base = after
	return m.reopened()
}

// restart closes the store cleanly and opens it again. Closing a transactional
// producer aborts its transaction in progress.
func (m *txnModel) restart() error {
	m.logf("restart")
	for _, id := range m.ids {
		if id.current != nil && id.current.txn != nil && id.current.txn == id.open {
			m.logf("  closing the producer aborts %s", id.open.name)
			id.open.state, id.open = txnAborted, nil
		}
	}
	m.close()
	return m.reopened()
}

func (m *txnModel) reopened() error {
	for _, id := range m.ids {
		if id.open != nil {
			m.logf("  %s left open", id.open.name)
		}
	}
	if err := m.open(); err != nil {
		return err
	}
	return m.resolveMaybe()
}

// fsyncFailureThenCrash fails the fsync of a produce (idempotent, plain or
// transactional) after its write: its outcome is unknown, the partition fails
// closed, and the process dies; the store is reopened after a crash.
func (m *txnModel) fsyncFailureThenCrash() error {
	var (
		r    *log.Record
		p    *log.Producer
		tx   *modelTxn
		id   *modelTxnID
		kind string
	)
	switch m.rng.IntN(3) {
	case 0:
		id = m.ids[m.rng.IntN(len(m.ids))]
		in, err := m.begin(id)
		if err != nil {
			return err
		}
		p, tx, kind = in.p, in.txn, in.txn.name
	case 1:
		if err := m.produce(true); err != nil { // makes the producer
			return err
		}
		p, kind = m.idempotent, "idem"
	default:
		if err := m.produce(false); err != nil {
			return err
		}
		p, kind = m.plain, "plain"
	}
	r = m.nextRecord(kind)
	tp := topicPartition(r)
	part, err := log.TxnPartition(m.store, tp)
	if err != nil {
		return err
	}
	offset := part.EndOffset()
	dir := fmt.Sprintf("/%s-%d/", tp.Topic, tp.Partition)
	var syncs atomic.Int32
	m.fault.Set(func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpSync && strings.Contains(path, dir) && strings.HasSuffix(path, ".log") && syncs.Add(1) == 1 {
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	})
	m.logf("fsync failure: %s to %s@%d", r.Value, tp, offset)
	err = p.ProduceSync(m.ctx, r).FirstErr()
	m.fault.Set(nil)
	switch {
	case err == nil:
		return fmt.Errorf("a produce whose fsync failed succeeded")
	case !errors.Is(err, log.ErrOutcomeUnknown):
		// The fsync that failed was not the batch's (a roll's, before the
		// write): the record was not written.
		m.logf("  refused: %v", err)
		m.refused[string(r.Value)] = true
		return m.crash()
	}
	m.records[tp][offset] = &modelRecord{value: string(r.Value), txn: tx, maybe: true}
	if tx != nil {
		if tx.state == txnBegun {
			tx.state, tx.start, id.open = txnOpen, m.clock(), tx
		}
		if _, ok := tx.first[tp]; !ok {
			tx.first[tp] = offset
		}
	}
	return m.crash()
}

// resolveMaybe decides, after a reopen, each record of unknown outcome: present
// if its partition holds it at its offset, else never written.
func (m *txnModel) resolveMaybe() error {
	for _, tp := range modelPartitions {
		for offset, rec := range m.records[tp] {
			if !rec.maybe {
				continue
			}
			got, err := m.read(tp, partition.ReadUncommitted)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(got, func(o offsetValue) bool { return o.offset == offset })
			if i >= 0 && got[i].value == rec.value {
				m.logf("  %s survived at %s@%d", rec.value, tp, offset)
				rec.maybe = false
				continue
			}
			m.logf("  %s lost (%s@%d)", rec.value, tp, offset)
			delete(m.records[tp], offset)
			if rec.txn != nil && rec.txn.first[tp] == offset {
				delete(rec.txn.first, tp)
			}
		}
	}
	return nil
}

type offsetValue struct {
	offset int64
	value  string
}

func (o offsetValue) String() string { return fmt.Sprintf("%d:%s", o.offset, o.value) }

// read returns every record of tp at level.
func (m *txnModel) read(tp log.TopicPartition, level partition.IsolationLevel) ([]offsetValue, error) {
	p, err := log.TxnPartition(m.store, tp)
	if err != nil {
		return nil, err
	}
	r := p.NewReader(p.StartOffset(), 0)
	if err := r.SetIsolationLevel(level); err != nil {
		return nil, err
	}
	var out []offsetValue
	for {
		rec, err := r.TryNext()
		if err != nil {
			return nil, fmt.Errorf("read %s at %v: %w", tp, level, err)
		}
		if rec == nil {
			return out, nil
		}
		out = append(out, offsetValue{rec.Offset, string(rec.Value)})
	}
}

// check compares every partition with the model.
func (m *txnModel) check() error {
	for _, tp := range modelPartitions {
		p, err := log.TxnPartition(m.store, tp)
		if err != nil {
			return err
		}
		end, lastStable := p.EndOffset(), p.LastStableOffset()
		wantStable := end
		for _, id := range m.ids {
			if id.open == nil {
				continue
			}
			if first, ok := id.open.first[tp]; ok {
				wantStable = min(wantStable, first)
			}
		}
		var all, committed []offsetValue
		for _, offset := range slices.Sorted(maps.Keys(m.records[tp])) {
			rec := m.records[tp][offset]
			all = append(all, offsetValue{offset, rec.value})
			if offset < wantStable && (rec.txn == nil || rec.txn.state == txnCommitted) {
				committed = append(committed, offsetValue{offset, rec.value})
			}
		}
		if lastStable != wantStable {
			return fmt.Errorf("%s: last stable offset %d, want %d (end %d)", tp, lastStable, wantStable, end)
		}
		uncommittedRead, err := m.read(tp, partition.ReadUncommitted)
		if err != nil {
			return err
		}
		if !slices.Equal(uncommittedRead, all) {
			return fmt.Errorf("%s read_uncommitted:\n  got  %v\n  want %v", tp, uncommittedRead, all)
		}
		committedRead, err := m.read(tp, partition.ReadCommitted)
		if err != nil {
			return err
		}
		if !slices.Equal(committedRead, committed) {
			return fmt.Errorf("%s read_committed:\n  got  %v\n  want %v", tp, committedRead, committed)
		}
		for _, o := range uncommittedRead {
			if m.refused[o.value] {
				return fmt.Errorf("%s: a zombie's refused record %v is in the log", tp, o)
			}
		}
	}
	return nil
}
