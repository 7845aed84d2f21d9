package partition_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// reviewTxn is the model's transaction: its first offset and its marker's.
type reviewTxn struct {
	pid           int64
	first, marker int64 // marker -1: open
	aborted       bool
}

// reviewBatch is the model's batch.
type reviewBatch struct {
	pid     int64
	base, n int64
	seq     int32
	txn     int // index in txns, or -1
	epoch   int16
	control bool
}

// TestTxnReviewModelLastStableOffset drives a Replicated partition with
// transactions of three producers, markers (retried ones too), plain appends,
// high watermark moves, truncations above the high watermark, DeleteRecordsBefore,
// compactions, clean reopens (some without any snapshot: the upgrade rule) and
// crashes, and checks after every step the last stable offset and what a
// read_committed reader returns against a model. A failure prints its seed and
// the trace of operations.
func TestTxnReviewModelLastStableOffset(t *testing.T) {
	seeds := uint64(300)
	if testing.Short() {
		seeds = 40
	}
	for seed := range seeds {
		runTxnReviewModel(t, seed)
		if t.Failed() {
			return
		}
	}
}

func runTxnReviewModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	fsys := vfs.NewCrashable()
	opts := partition.Options{Replicated: true, SegmentBytes: 700, IndexIntervalBytes: 1, Compact: true}
	p := openDir(t, fsys, leaderDir, opts)
	defer func() { p.Close() }()
	var txns []reviewTxn
	var batches []reviewBatch
	open := map[int64]int{} // pid -> txn index
	hw, start := int64(0), int64(0)
	upgrades, upgraded := seed%2 == 1, false
	epochs := map[int64]int16{}
	var trace []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d: "+format+"\ntrace: %v", append([]any{seed}, append(args, trace)...)...)
	}
	nextSeq := func(pid int64) int32 {
		var s int32
		for _, b := range batches {
			if b.pid == pid && !b.control && b.epoch == epochs[pid] {
				s = b.seq + int32(b.n)
			}
		}
		return s
	}
	for step := 0; step < 120; step++ {
		switch op := rng.IntN(12); {
		case op < 3:
			pid := rng.Int64N(3)
			n := 1 + rng.IntN(3)
			seq := nextSeq(pid)
			rs := records(p.WrittenOffset(), n, 1<<30)
			for i := range rs {
				rs[i].Timestamp = 0 // now: producers expire by their batches' timestamps
			}
			base, err := p.AppendWith(context.Background(), rs,
				&partition.AppendOptions{Producer: &partition.Producer{ID: pid, Epoch: epochs[pid], BaseSequence: seq, Transactional: true}})
			if upgraded && errors.Is(err, partition.ErrOutOfOrderSequence) {
				// The upgrade rule forgot the producer's batches but a marker in
				// the last two segments left it known without a sequence: as a
				// Kafka producer would after InitProducerId, it bumps its epoch.
				epochs[pid]++
				seq = 0
				base, err = p.AppendWith(context.Background(), rs,
					&partition.AppendOptions{Producer: &partition.Producer{ID: pid, Epoch: epochs[pid], BaseSequence: seq, Transactional: true}})
				trace = append(trace, "E")
			}
			if err != nil {
				fail("step %d: txn append pid %d seq %d: %v", step, pid, seq, err)
			}
			ti, ok := open[pid]
			if !ok {
				txns = append(txns, reviewTxn{pid: pid, first: base, marker: -1})
				ti = len(txns) - 1
				open[pid] = ti
			}
			batches = append(batches, reviewBatch{pid: pid, base: base, n: int64(n), seq: seq, txn: ti, epoch: epochs[pid]})
			trace = append(trace, "T")
		case op < 5:
			pid := rng.Int64N(3)
			typ := partition.MarkerCommit
			if rng.IntN(2) == 0 {
				typ = partition.MarkerAbort
			}
			off, err := p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: pid, ProducerEpoch: epochs[pid], Type: typ})
			if err != nil {
				fail("step %d: marker: %v", step, err)
			}
			ti := -1
			if i, ok := open[pid]; ok {
				txns[i].marker, txns[i].aborted = off, typ == partition.MarkerAbort
				delete(open, pid)
				ti = i
			}
			batches = append(batches, reviewBatch{pid: pid, base: off, n: 1, txn: ti, control: true})
			trace = append(trace, "M")
		case op < 6:
			base := appendBatches(t, p, 1+rng.IntN(2))[0]
			batches = append(batches, reviewBatch{pid: -1, base: base, n: 1, txn: -1})
			trace = append(trace, "P")
		case op < 8:
			w := p.WrittenOffset()
			target := hw + rng.Int64N(w-hw+1)
			got, err := p.SetHighWatermark(target)
			require.NoError(t, err)
			hw = got
			trace = append(trace, "H")
		case op < 9:
			w := p.WrittenOffset()
			target := hw + rng.Int64N(w-hw+1)
			end, err := p.TruncateTo(target)
			if err != nil {
				fail("step %d: truncate: %v", step, err)
			}
			kept := batches[:0]
			for _, b := range batches {
				if b.base < end {
					kept = append(kept, b)
				}
			}
			batches = kept
			open = map[int64]int{}
			kt := txns[:0]
			remap := map[int]int{}
			for i, x := range txns {
				if x.first >= end {
					continue
				}
				if x.marker >= end {
					x.marker = -1
				}
				remap[i] = len(kt)
				kt = append(kt, x)
			}
			txns = kt
			for i := range batches {
				if batches[i].txn >= 0 {
					if j, ok := remap[batches[i].txn]; ok {
						batches[i].txn = j
					} else {
						batches[i].txn = -1
					}
				}
			}
			for i, x := range txns {
				if x.marker < 0 {
					open[x.pid] = i
				}
			}
			trace = append(trace, "X")
		case op < 10 && hw > start:
			target := start + rng.Int64N(hw-start+1)
			require.NoError(t, p.DeleteRecordsBefore(target))
			start = p.StartOffset()
			trace = append(trace, "D")
		case op == 11:
			if _, err := p.ForceCompact(context.Background()); err != nil {
				fail("step %d: compact: %v", step, err)
			}
			trace = append(trace, "Z")
		case op == 10:
			if rng.IntN(2) == 0 {
				require.NoError(t, p.Close())
				trace = append(trace, "C")
				decided := len(open) == 0
				for _, x := range txns {
					decided = decided && x.marker < hw
				}
				// The upgrade rule (no snapshot after a clean shutdown) knows no
				// transaction begun below the last two segments, as Kafka's: only
				// with every transaction decided below the high watermark is the
				// last stable offset exact after it.
				if upgrades && decided && rng.IntN(2) == 0 {
					removeSnapshots(t, fsys, leaderDir)
					upgraded = true
					trace = append(trace, "U")
				}
				p = openDir(t, fsys, leaderDir, opts)
			} else {
				crashed := fsys.Crash(vfs.DropUnsynced, int64(step))
				p.Close()
				fsys = crashed
				trace = append(trace, "K")
				p = openDir(t, fsys, leaderDir, opts)
			}
			// The high watermark is the log start at Open; the owner sets it below
			// the log end first, then checks.
			got, err := p.SetHighWatermark(hw)
			require.NoError(t, err)
			hw = got
		}
		want := hw
		for _, x := range txns {
			if x.marker < 0 || x.marker >= hw {
				want = min(want, x.first)
			}
		}
		want = max(want, start)
		if got := p.LastStableOffset(); got != want {
			fail("step %d: last stable offset %d, want %d (hw %d) txns %+v", step, got, want, hw, txns)
		}
		r := p.NewReader(start, 1<<20)
		require.NoError(t, r.SetIsolationLevel(partition.ReadCommitted))
		for {
			rec, err := r.TryNext()
			require.NoError(t, err)
			if rec == nil {
				break
			}
			for _, b := range batches {
				if b.base <= rec.Offset && rec.Offset < b.base+b.n && b.txn >= 0 && !b.control {
					x := txns[b.txn]
					if x.marker < 0 || x.marker >= hw || x.aborted {
						fail("step %d: read_committed returned offset %d of %+v (hw %d)", step, rec.Offset, x, hw)
					}
				}
			}
		}
	}
}
