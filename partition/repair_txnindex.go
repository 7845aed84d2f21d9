package partition

import (
	"errors"
	"io/fs"
	"os"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// cutAbortedTxns drops from the .txnindex of the i-th segment the entries whose
// marker is at or above the offset after the batches the repair keeps of it: their
// markers are given up, as Kafka's truncation of a segment truncates its
// transaction index, so that the index describes the repaired log and no reader in
// read_committed skips a range for a marker that no longer exists. A transaction
// whose records are kept is then open, without its marker (a hanging one, as after
// Kafka's loss of a marker): it holds the last stable offset until its coordinator
// or an operator ends it. It runs before the .log is cut, so that a crash in
// between leaves a damage the next Repair finds again.
func (r *repair) cutAbortedTxns(i int) error {
	s := r.sv.segments[i]
	next := s.scan.NextOffset
	path := segment.TxnIndexPath(r.dir, s.base)
	b, err := vfs.ReadFileLimit(r.fsys, path, segment.MaxSegmentBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	txns, whole, err := segment.DecodeAbortedTxns(b)
	if err != nil {
		return errs.Corruptf(path, 0, "%v", err)
	}
	kept := 0
	for kept < len(txns) && txns[kept].LastOffset < next {
		kept++
	}
	if kept == len(txns) && whole == len(b) {
		return nil
	}
	f, err := r.fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := errors.Join(f.Truncate(int64(kept)*segment.AbortedTxnSize), f.Sync(), f.Close()); err != nil {
		return err
	}
	r.act("dropped %d entries of %s whose ABORT markers, from offset %d on, were given up", len(txns)-kept, segment.FileName(s.base, segment.TxnIndexSuffix), next)
	return nil
}
