package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// The aborted-transaction index: Kafka's .txnindex (TransactionIndex, AbortedTxn),
// one per segment, created at the segment's first entry. Each entry is a
// transaction an ABORT marker in the segment ended; readers in read_committed skip
// its records without scanning the log for markers. Entries are in marker order
// and are not checksummed (Kafka's bytes): the partition rebuilds the entries of
// the unflushed tail from the log after a crash, as Kafka's recovery does.

// TxnIndexSuffix is the suffix of a segment's aborted-transaction index.
const TxnIndexSuffix = ".txnindex" // Format: aborted transactions

// Format: an aborted-transaction index entry, all big-endian.
const (
	abortedTxnVersion int16 = 0
	// AbortedTxnSize is the size of one .txnindex entry: version int16,
	// producerId int64, firstOffset int64, lastOffset int64, lastStableOffset int64.
	AbortedTxnSize = 34
)

// TxnIndexPath returns the path of the .txnindex file of the segment.
func TxnIndexPath(dir string, base int64) string {
	return filepath.Join(dir, FileName(base, TxnIndexSuffix))
}

// AbortedTxn is an entry of the aborted-transaction index (Kafka's AbortedTxn).
type AbortedTxn struct {
	// ProducerID is the producer whose transaction aborted.
	ProducerID int64
	// FirstOffset is the offset of the transaction's first batch in the partition.
	FirstOffset int64
	// LastOffset is the offset of its ABORT marker.
	LastOffset int64
	// LastStableOffset is the partition's last stable offset once the transaction
	// was decided: no transaction aborted later began below it.
	LastStableOffset int64
}

// AppendAbortedTxnEntry appends t's 34 bytes to dst.
func AppendAbortedTxnEntry(dst []byte, t AbortedTxn) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(abortedTxnVersion))
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.ProducerID))
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.FirstOffset))
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.LastOffset))
	return binary.BigEndian.AppendUint64(dst, uint64(t.LastStableOffset))
}

// DecodeAbortedTxns decodes the whole entries of b, checking each: version 0, a
// producer id and offsets not negative, firstOffset <= lastOffset, markers in
// ascending order. A trailing partial entry is ignored (a torn append); whole tells
// how many bytes the entries took.
func DecodeAbortedTxns(b []byte) (txns []AbortedTxn, whole int, err error) {
	n := len(b) / AbortedTxnSize
	txns = make([]AbortedTxn, 0, n)
	for i := range n {
		t, err := decodeAbortedTxn(b[i*AbortedTxnSize:], txns)
		if err != nil {
			return nil, 0, fmt.Errorf("entry %d: %w", i, err)
		}
		txns = append(txns, t)
	}
	return txns, n * AbortedTxnSize, nil
}

// decodeAbortedTxn decodes and checks the entry at the start of e, which follows
// the entries before.
func decodeAbortedTxn(e []byte, before []AbortedTxn) (AbortedTxn, error) {
	if v := int16(binary.BigEndian.Uint16(e)); v != abortedTxnVersion {
		return AbortedTxn{}, fmt.Errorf("version %d", v)
	}
	t := AbortedTxn{
		ProducerID:       int64(binary.BigEndian.Uint64(e[2:])),
		FirstOffset:      int64(binary.BigEndian.Uint64(e[10:])),
		LastOffset:       int64(binary.BigEndian.Uint64(e[18:])),
		LastStableOffset: int64(binary.BigEndian.Uint64(e[26:])),
	}
	if t.ProducerID < 0 || t.FirstOffset < 0 || t.LastOffset < t.FirstOffset || t.LastStableOffset < 0 {
		return AbortedTxn{}, fmt.Errorf("invalid %+v", t)
	}
	if n := len(before); n > 0 && t.LastOffset <= before[n-1].LastOffset {
		return AbortedTxn{}, fmt.Errorf("marker offset %d not above %d", t.LastOffset, before[n-1].LastOffset)
	}
	return t, nil
}

// loadTxnIndexLocked reads the segment's .txnindex, if any, whose .log holds
// logSize bytes, into memory: at most what logSize bytes of batches could index (one
// entry per smallest batch). Its entries must be valid (DecodeAbortedTxns) with
// markers in the segment at or above its base; a torn last entry is cut off, and so
// are entries whose marker lies at or above next (a torn tail or an interrupted
// truncation of the .log removed it).
//
// A segment that was fsynced whole (Open) must hold nothing else: anything else is a
// *errs.CorruptError. A recovered one (Recover) may end in whatever a crash left of
// unsynced appends, zeros or garbage: its entries are kept up to the first that is
// not valid, the rest cut off, and the partition rebuilds the entries of the
// unflushed tail from the log (its replay drops them first: valid-looking garbage
// does not survive either).
func (s *Segment) loadTxnIndexLocked(logSize int64, recovered bool) error {
	path := TxnIndexPath(s.dir, s.base) + s.suffix
	f, err := s.fsys.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	size, err := f.Size()
	var txns []AbortedTxn
	if err == nil {
		txns, err = s.readTxnIndex(f, path, size, logSize, recovered)
	}
	if kept := int64(len(txns)) * AbortedTxnSize; err == nil && kept != size {
		err = f.Truncate(kept)
	}
	if err != nil {
		f.Close()
		return err
	}
	s.mu.txnFile, s.mu.aborted = f, txns
	return nil
}

// readTxnIndex reads and checks the entries of f, of size bytes (see
// loadTxnIndexLocked).
func (s *Segment) readTxnIndex(f vfs.File, path string, size, logSize int64, recovered bool) ([]AbortedTxn, error) {
	if limit := (logSize/BatchHeaderSize + 1) * AbortedTxnSize; size > limit {
		if !recovered {
			return nil, errs.Corruptf(path, 0, "%d bytes, more than %d bytes of batches can index", size, logSize)
		}
		size = limit
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, err
	}
	txns := make([]AbortedTxn, 0, len(b)/AbortedTxnSize)
	for i := range len(b) / AbortedTxnSize {
		t, err := decodeAbortedTxn(b[i*AbortedTxnSize:], txns)
		if err == nil && t.LastOffset < s.base {
			err = fmt.Errorf("marker offset %d below the segment's base", t.LastOffset)
		}
		if err != nil {
			if recovered {
				break // what a crash left of unsynced appends
			}
			return nil, errs.Corruptf(path, int64(i)*AbortedTxnSize, "entry %d: %v", i, err)
		}
		if t.LastOffset >= s.mu.next {
			break // the .log no longer holds its marker, nor the later ones'
		}
		txns = append(txns, t)
	}
	return txns, nil
}

// AppendAbortedTxn appends t to the segment's aborted-transaction index, creating
// the file at the first entry. Its marker must lie in the segment, above every
// entry's (ErrInvalidArgument otherwise). It does not fsync: Seal does.
func (s *Segment) AppendAbortedTxn(t AbortedTxn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return errClosed
	}
	if n := len(s.mu.aborted); t.LastOffset < s.base || t.LastOffset < t.FirstOffset || (n > 0 && t.LastOffset <= s.mu.aborted[n-1].LastOffset) {
		return fmt.Errorf("strata/segment: aborted transaction %+v in segment %d: %w", t, s.base, errs.ErrInvalidArgument)
	}
	if s.mu.txnFile == nil {
		flag := os.O_RDWR | os.O_CREATE
		if len(s.mu.aborted) == 0 {
			flag |= os.O_TRUNC // a leftover of a segment once at this base
		}
		f, err := s.fsys.OpenFile(TxnIndexPath(s.dir, s.base)+s.suffix, flag, 0o644)
		if err != nil {
			return err
		}
		s.mu.txnFile = f
	}
	var e [AbortedTxnSize]byte
	if _, err := s.mu.txnFile.WriteAt(AppendAbortedTxnEntry(e[:0], t), int64(len(s.mu.aborted))*AbortedTxnSize); err != nil {
		return err
	}
	s.mu.aborted = append(s.mu.aborted, t)
	return nil
}

// LastAbortedTxn returns the newest entry of the aborted-transaction index.
func (s *Segment) LastAbortedTxn() (AbortedTxn, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n := len(s.mu.aborted); n > 0 {
		return s.mu.aborted[n-1], true
	}
	return AbortedTxn{}, false
}

// AbortedTxns appends to dst every entry whose marker is at or above from
// (Kafka's TransactionIndex.allAbortedTxns with a lower bound).
func (s *Segment) AbortedTxns(dst []AbortedTxn, from int64) []AbortedTxn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.mu.aborted), func(i int) bool { return s.mu.aborted[i].LastOffset >= from })
	return append(dst, s.mu.aborted[i:]...)
}

// CollectAbortedTxns appends to dst the entries of transactions that overlap the
// offsets from to upper-1 (Kafka's TransactionIndex.collectAbortedTxns): marker at
// or above from, first offset below upper. complete is true once an entry's last
// stable offset reaches upper: no later segment holds another.
func (s *Segment) CollectAbortedTxns(dst []AbortedTxn, from, upper int64) (_ []AbortedTxn, complete bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.mu.aborted), func(i int) bool { return s.mu.aborted[i].LastOffset >= from })
	for _, t := range s.mu.aborted[i:] {
		if t.FirstOffset < upper {
			dst = append(dst, t)
		}
		if t.LastStableOffset >= upper {
			return dst, true
		}
	}
	return dst, false
}

// DropAbortedTxnsFrom removes the entries whose marker is at or above offset, from
// memory and from the file: a recovery rebuilds them from the log (Kafka's
// recoverSegment truncates the transaction index first).
func (s *Segment) DropAbortedTxnsFrom(offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropAbortedTxnsFromLocked(offset)
}

func (s *Segment) dropAbortedTxnsFromLocked(offset int64) error {
	i := sort.Search(len(s.mu.aborted), func(i int) bool { return s.mu.aborted[i].LastOffset >= offset })
	if i == len(s.mu.aborted) {
		return nil
	}
	s.mu.aborted = s.mu.aborted[:i]
	if s.mu.txnFile == nil {
		f, err := s.fsys.OpenFile(TxnIndexPath(s.dir, s.base)+s.suffix, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		s.mu.txnFile = f
	}
	if err := s.mu.txnFile.Truncate(int64(i) * AbortedTxnSize); err != nil {
		return err
	}
	return s.mu.txnFile.Sync()
}

// syncTxnIndexLocked fsyncs the .txnindex, if the segment has entries (its file
// reopened if CloseIndexes closed it).
func (s *Segment) syncTxnIndexLocked() error {
	if s.mu.txnFile == nil {
		if len(s.mu.aborted) == 0 {
			return nil
		}
		f, err := s.fsys.OpenFile(TxnIndexPath(s.dir, s.base)+s.suffix, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		s.mu.txnFile = f
	}
	return s.mu.txnFile.Sync()
}

// closeTxnIndexLocked closes the .txnindex, keeping its entries; it is reopened at
// the next append.
func (s *Segment) closeTxnIndexLocked() error {
	if s.mu.txnFile == nil {
		return nil
	}
	err := s.mu.txnFile.Close()
	s.mu.txnFile = nil
	return err
}

// renameTxnIndexLocked renames the .txnindex, if any, to carry suffix.
func (s *Segment) renameTxnIndexLocked(suffix string) error {
	from := TxnIndexPath(s.dir, s.base) + s.suffix
	if _, err := s.fsys.Stat(from); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return s.fsys.Rename(from, TxnIndexPath(s.dir, s.base)+suffix)
}

// openTxnIndex loads the .txnindex of a segment just opened (Open) or recovered
// (Recover), whose .log holds size bytes.
func (s *Segment) openTxnIndex(size int64, recovered bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadTxnIndexLocked(size, recovered)
}
