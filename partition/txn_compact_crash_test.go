package partition_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// txnCompactOptions: small segments and a fixed clock.
func txnCompactOptions() partition.Options {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return partition.Options{SegmentBytes: 500, Compact: true, DeleteRetention: time.Hour, Now: func() time.Time { return now }}
}

// txnCompactSetup writes transactions of three producers over keys that replace
// each other, every third one aborted, on several segments.
func txnCompactSetup(t testing.TB, fsys vfs.FS) *partition.Partition {
	t.Helper()
	p, err := openAt(fsys, txnCompactOptions())
	require.NoError(t, err)
	ctx := context.Background()
	sequences := map[int64]int32{}
	for i := range 30 {
		id := int64(i % 3)
		outcome := "commit"
		if i%3 == 1 {
			outcome = "abort"
		}
		rs := []partition.Record{
			{Key: []byte(fmt.Sprintf("k%d", i%5)), Value: []byte(fmt.Sprintf("%s%d", outcome, i)), Timestamp: 1_772_000_000_000},
			{Key: []byte(fmt.Sprintf("u%d", i)), Value: []byte(fmt.Sprintf("%s%d", outcome, i)), Timestamp: 1_772_000_000_000},
		}
		_, err := p.AppendWith(ctx, rs, &partition.AppendOptions{Producer: &partition.Producer{ID: id, BaseSequence: sequences[id], Transactional: true}})
		require.NoError(t, err)
		sequences[id] += 2
		typ := partition.MarkerCommit
		if i%3 == 1 {
			typ = partition.MarkerAbort
		}
		_, err = p.AppendTxnMarker(ctx, partition.TxnMarker{ProducerID: id, Type: typ})
		require.NoError(t, err)
	}
	require.NoError(t, p.Roll())
	return p
}

// committedView maps each key a reader in read_committed sees to its latest value.
func committedView(t testing.TB, p *partition.Partition) map[string]string {
	t.Helper()
	r := p.NewReader(0, 0)
	require.NoError(t, r.SetIsolationLevel(partition.ReadCommitted))
	view := map[string]string{}
	for {
		rec, err := r.TryNext()
		require.NoError(t, err)
		if rec == nil {
			return view
		}
		require.NotContains(t, string(rec.Value), "abort", "an aborted record")
		view[string(rec.Key)] = string(rec.Value)
	}
}

// TestTxnCompactCrashAtEveryOperation crashes before each mutating file operation
// of a compaction of transactions (crash modes taking turns): after recovery the
// aborted-transaction index is whole (the cleaned segments' .txnindex took their
// place or the old ones stayed), no aborted record is read in read_committed, and
// the latest committed value of each key is unchanged.
func TestTxnCompactCrashAtEveryOperation(t *testing.T) {
	ref := vfs.NewMem()
	p := txnCompactSetup(t, ref)
	wantAborted := p.AbortedTxns(0, p.EndOffset())
	require.Len(t, wantAborted, 10)
	wantView := committedView(t, p)
	res, err := p.ForceCompact(context.Background())
	require.NoError(t, err)
	require.True(t, res.Compacted)
	require.Equal(t, wantAborted, p.AbortedTxns(0, p.EndOffset()))
	require.NoError(t, p.Close())

	for n := int64(1); ; n++ {
		mode := crashModes[n%int64(len(crashModes))]
		reached := true
		t.Run(fmt.Sprintf("op=%d/%v", n, mode), func(t *testing.T) {
			fsys := vfs.NewCrashable()
			gate := newOpGate()
			p := txnCompactSetup(t, vfs.NewFaulty(fsys, gate.inject))
			gate.arm(n)
			done := make(chan error, 1)
			go func() {
				_, err := p.ForceCompact(context.Background())
				done <- err
			}()
			var crashed *vfs.CrashableFS
			select {
			case <-gate.stopped:
				crashed = fsys.Crash(mode, n)
				close(gate.release)
				<-done
			case err := <-done:
				gate.disarm()
				require.NoError(t, err)
				reached = false
				crashed = fsys.Crash(mode, n)
			}
			require.NoError(t, p.Close())
			q, err := openAt(crashed, txnCompactOptions())
			require.NoError(t, err)
			defer q.Close()
			requireNoCompactionLeftovers(t, crashed)
			require.Equal(t, wantAborted, q.AbortedTxns(0, q.EndOffset()))
			require.Equal(t, wantView, committedView(t, q))
		})
		if !reached || t.Failed() {
			require.Greater(t, n, int64(20), "the compaction did little")
			return
		}
	}
}
