package partition_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// txnRepairLog is a partition with two aborted transactions for the repair tests:
// the first's records and marker in the first segment, the second wholly in later
// ones; damaged is the offset of a plain batch between the first transaction's
// records and its marker.
type txnRepairLog struct {
	first, second partition.AbortedTxn
	damaged       int64
	secondBase    int64 // base of the segment holding the second marker
}

func writeTxnRepairLog(t *testing.T, fsys vfs.FS) txnRepairLog {
	t.Helper()
	p, err := openAt(fsys, damageOptions())
	require.NoError(t, err)
	var l txnRepairLog
	appendBatches(t, p, 3)
	f1, err := appendTransactional(p, 3, 0, 0, 2)
	require.NoError(t, err)
	l.damaged = appendBatches(t, p, 3)[0]
	m1 := endTxn(t, p, 3, 0, partition.MarkerAbort)
	l.first = partition.AbortedTxn{ProducerID: 3, FirstOffset: f1, LastOffset: m1}
	for range 6 {
		appendBatches(t, p, 3)
	}
	f2, err := appendTransactional(p, 4, 0, 0, 2)
	require.NoError(t, err)
	for range 6 {
		appendBatches(t, p, 3)
	}
	m2 := endTxn(t, p, 4, 0, partition.MarkerAbort)
	l.second = partition.AbortedTxn{ProducerID: 4, FirstOffset: f2, LastOffset: m2}
	appendBatches(t, p, 3, 3)
	loc1, err := p.Locate(m1)
	require.NoError(t, err)
	loc2, err := p.Locate(m2)
	require.NoError(t, err)
	loc, err := p.Locate(f2)
	require.NoError(t, err)
	require.NotEqual(t, loc1.Path, loc.Path, "the second transaction is wholly after the first segment")
	l.secondBase = segmentBaseOf(t, loc2.Path)
	require.Equal(t, []partition.AbortedTxn{l.first, l.second}, abortedIDs(p.AbortedTxns(0, p.WrittenOffset())))
	loc, err = p.Locate(l.damaged)
	require.NoError(t, err)
	require.Equal(t, loc1.Path, loc.Path)
	require.NoError(t, p.Close())
	xorBytes(t, fsys, loc.Path, loc.Position+segment.BatchHeaderSize, 1<<60) // a record byte: the CRC fails
	return l
}

func segmentBaseOf(t *testing.T, path string) int64 {
	base, _, ok := segment.ParseFileName(filepath.Base(path))
	require.True(t, ok, path)
	return base
}

// TestTxnRepairDropsAbortsOfMarkersGivenUp: Repair cuts the segment holding the
// first transaction's marker below it, and drops the marker's .txnindex entry with
// it (as Kafka's truncation of a segment truncates its transaction index): the
// index describes the repaired log, not ranges that no longer exist. The
// transaction's records below the cut, without a marker now, hold the last stable
// offset (a hanging transaction, for its coordinator or an operator to abort): no
// reader in read_committed reads them meanwhile. By default the later segments are
// moved to KeepDir with their .txnindex; with KeepLater they stay, and so does the
// second transaction's entry.
func TestTxnRepairDropsAbortsOfMarkersGivenUp(t *testing.T) {
	for _, keepLater := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "KeepLater"}[keepLater], func(t *testing.T) {
			fsys := vfs.NewMem()
			l := writeTxnRepairLog(t, fsys)
			opts := damageOptions()
			opts.FS = fsys
			report, err := partition.Repair(partitionDir, &opts, &partition.RepairOptions{KeepLater: keepLater})
			require.NoError(t, err)
			require.NotEmpty(t, report.Lost)
			require.Equal(t, l.damaged, report.Lost[0].From)

			p, err := openAt(fsys, damageOptions())
			require.NoError(t, err)
			defer p.Close()
			want := []partition.AbortedTxn{}
			if keepLater {
				want = []partition.AbortedTxn{l.second}
			} else {
				_, err := fsys.Stat(filepath.Join(report.KeepDir, segment.FileName(l.secondBase, segment.TxnIndexSuffix)))
				require.NoError(t, err, "a segment moved away keeps its aborted transactions")
			}
			require.Equal(t, want, abortedIDs(p.AbortedTxns(0, p.WrittenOffset())))
			require.Equal(t, l.first.FirstOffset, p.LastStableOffset(), "the transaction lost its marker")

			// Its coordinator (or an operator) aborts it again: read_committed skips it.
			m, err := p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: 3, ProducerEpoch: 0, Type: partition.MarkerAbort})
			require.NoError(t, err)
			require.Equal(t, append(want, partition.AbortedTxn{ProducerID: 3, FirstOffset: l.first.FirstOffset, LastOffset: m}),
				abortedIDs(p.AbortedTxns(0, p.WrittenOffset())))
		})
	}
}
