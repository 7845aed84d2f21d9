package partition_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestIdempotentModel drives a partition with random operations of a few producers
// (new batches, retries of acknowledged ones, gaps, epoch bumps) mixed with rolls,
// truncation, retention, compaction, clean reopens and crashes, and checks the
// property idempotence exists for: a retry of an acknowledged batch is never written
// a second time. It is answered as a duplicate at its original offset, or, once the
// state no longer remembers it (after a reopen, a snapshot keeps only each
// producer's newest batch), refused as out of order; a producer's newest batch is
// always a duplicate. Seeds as TestModel (STRATA_SEED, STRATA_OPS, STRATA_LONG).
func TestIdempotentModel(t *testing.T) {
	seeds, ops := modelSeeds(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runIdempotentModel(t, seed, ops)
		})
	}
}

// modelProducer is what the model knows of one producer: its epoch, next sequence
// and acknowledged batches of that epoch, oldest first.
type modelProducer struct {
	id      int64
	epoch   int16
	next    int32
	batches []producedBatch
}

type idempotentModel struct {
	t         *testing.T
	seed      int64
	rng       *rand.Rand
	fsys      *vfs.CrashableFS
	opts      partition.Options
	p         *partition.Partition
	producers []*modelProducer
	history   []string
}

func runIdempotentModel(t *testing.T, seed int64, ops int) {
	m := &idempotentModel{t: t, seed: seed, rng: rand.New(rand.NewPCG(uint64(seed), 14)), fsys: vfs.NewCrashable()}
	m.opts = partition.Options{FS: m.fsys, SegmentBytes: int64(300 + m.rng.IntN(600)), Compact: m.rng.IntN(2) == 0}
	m.open(m.fsys)
	defer func() { m.p.Close() }()
	for id := range int64(3) {
		m.producers = append(m.producers, &modelProducer{id: id})
	}
	for range ops {
		pr := m.producers[m.rng.IntN(len(m.producers))]
		switch k := m.rng.IntN(100); {
		case k < 50:
			m.produce(pr)
		case k < 70:
			m.retry(pr)
		case k < 74:
			m.gap(pr)
		case k < 77:
			m.bumpEpoch(pr)
		case k < 82:
			m.do("Roll", m.p.Roll())
		case k < 85:
			m.truncate()
		case k < 88:
			m.deleteRecords()
		case k < 91 && m.opts.Compact:
			_, err := m.p.ForceCompact(context.Background())
			m.do("ForceCompact", err)
		case k < 91:
		case k < 95:
			m.do("Close", m.p.Close())
			m.open(m.fsys)
		default:
			crashed := m.fsys.Crash(vfs.CrashMode(m.rng.IntN(2)*int(vfs.TearZeros)), m.rng.Int64())
			m.do("Close", m.p.Close())
			m.fsys = crashed
			m.opts.FS = crashed
			m.open(crashed)
		}
	}
}

func (m *idempotentModel) record(format string, args ...any) {
	m.history = append(m.history, fmt.Sprintf(format, args...))
}

func (m *idempotentModel) fatalf(format string, args ...any) {
	m.t.Helper()
	last := m.history[max(0, len(m.history)-20):]
	m.t.Fatalf("seed %d: %s\nreplay: STRATA_SEED=%d go test ./partition/ -run TestIdempotentModel\nlast operations:\n  %s",
		m.seed, fmt.Sprintf(format, args...), m.seed, strings.Join(last, "\n  "))
}

func (m *idempotentModel) do(what string, err error) {
	m.t.Helper()
	m.record("%s", what)
	if err != nil {
		m.fatalf("%s: %v", what, err)
	}
}

func (m *idempotentModel) open(fsys vfs.FS) {
	m.t.Helper()
	m.record("Open")
	p, err := partition.Open(leaderDir, &m.opts)
	if err != nil {
		m.fatalf("Open: %v", err)
	}
	m.p = p
}

func (m *idempotentModel) produce(pr *modelProducer) {
	m.t.Helper()
	n := 1 + m.rng.IntN(3)
	end := m.p.WrittenOffset()
	base, err := appendProduced(m.p, pr.id, pr.epoch, pr.next, n)
	m.record("produce p%d e%d seq %d n %d at %d: %d %v", pr.id, pr.epoch, pr.next, n, end, base, err)
	if err != nil || base != end {
		m.fatalf("a new batch: base %d, err %v; want %d", base, err, end)
	}
	pr.batches = append(pr.batches, producedBatch{sequence: pr.next, n: n, base: base})
	pr.next += int32(n)
}

func (m *idempotentModel) retry(pr *modelProducer) {
	m.t.Helper()
	if len(pr.batches) == 0 {
		return
	}
	i := len(pr.batches) - 1 - m.rng.IntN(min(len(pr.batches), 5))
	b := pr.batches[i]
	end := m.p.WrittenOffset()
	base, err := appendProduced(m.p, pr.id, pr.epoch, b.sequence, b.n)
	m.record("retry p%d e%d seq %d n %d (batch at %d): %d %v", pr.id, pr.epoch, b.sequence, b.n, b.base, base, err)
	switch {
	case m.p.WrittenOffset() != end:
		m.fatalf("a retry was written again")
	case errors.Is(err, partition.ErrDuplicateSequence) && base == b.base:
	case errors.Is(err, partition.ErrOutOfOrderSequence) && i < len(pr.batches)-1:
	default:
		m.fatalf("retry of the batch at %d: base %d, err %v", b.base, base, err)
	}
}

func (m *idempotentModel) gap(pr *modelProducer) {
	m.t.Helper()
	if len(pr.batches) == 0 {
		return
	}
	_, err := appendProduced(m.p, pr.id, pr.epoch, pr.next+1+m.rng.Int32N(5), 1)
	m.record("gap p%d: %v", pr.id, err)
	if !errors.Is(err, partition.ErrOutOfOrderSequence) {
		m.fatalf("a gap: %v", err)
	}
}

func (m *idempotentModel) bumpEpoch(pr *modelProducer) {
	m.t.Helper()
	if len(pr.batches) > 0 {
		_, err := appendProduced(m.p, pr.id, pr.epoch+1, 1, 1)
		m.record("new epoch not from 0 p%d: %v", pr.id, err)
		if !errors.Is(err, partition.ErrOutOfOrderSequence) {
			m.fatalf("a new epoch from sequence 1: %v", err)
		}
	}
	pr.epoch++
	pr.next, pr.batches = 0, nil
	m.produce(pr)
	if pr.epoch > 1 {
		_, err := appendProduced(m.p, pr.id, pr.epoch-1, 0, 1)
		m.record("old epoch p%d: %v", pr.id, err)
		if !errors.Is(err, partition.ErrInvalidProducerEpoch) {
			m.fatalf("the old epoch: %v", err)
		}
	}
}

// truncate cuts the log at the base of a random batch of the last few, and forgets
// the batches it removed.
func (m *idempotentModel) truncate() {
	m.t.Helper()
	var cut int64 = -1
	for _, pr := range m.producers {
		if n := len(pr.batches); n > 0 && pr.batches[n-1].base >= m.p.StartOffset() && m.rng.IntN(2) == 0 {
			cut = max(cut, pr.batches[n-1].base)
		}
	}
	if cut < 0 {
		return
	}
	end, err := m.p.TruncateTo(cut)
	m.do(fmt.Sprintf("TruncateTo(%d) = %d", cut, end), err)
	for _, pr := range m.producers {
		for len(pr.batches) > 0 && pr.batches[len(pr.batches)-1].base >= end {
			last := pr.batches[len(pr.batches)-1]
			pr.batches, pr.next = pr.batches[:len(pr.batches)-1], last.sequence
		}
	}
}

func (m *idempotentModel) deleteRecords() {
	m.t.Helper()
	start, end := m.p.StartOffset(), m.p.EndOffset()
	if end <= start {
		return
	}
	offset := start + m.rng.Int64N(end-start+1)
	m.do(fmt.Sprintf("DeleteRecordsBefore(%d)", offset), m.p.DeleteRecordsBefore(offset))
}
