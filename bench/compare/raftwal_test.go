package compare

import (
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
)

// raftWALStore is a github.com/hashicorp/raft-wal WAL (the log store of
// hashicorp/raft), records stored as raft.Log entries of type LogCommand with the
// value as Data and an AppendedAt time (strata's records carry a timestamp).
//
// Settings: StoreLogs always fsyncs before it returns; there is no option to skip
// it, so raft-wal runs only the sync=batch workloads (and the read workloads,
// whose fixture is written outside the timer). Segments of 64 MiB (the default),
// or sized to hold about segmentRecords entries.
//
// Indexes are chosen by the caller and must be contiguous, so concurrent writers
// take a lock around choosing the index and StoreLogs; the WAL itself serializes
// writers and fsyncs each StoreLogs.
type raftWALStore struct {
	wal  *raftwal.WAL
	dir  string
	mu   sync.Mutex // guards next
	next uint64     // index of the next entry; the first is 1
}

// raftWALFrameBytes is the size of one entry of this benchmark in a raft-wal
// segment: an 8-byte frame header, the codec's encoding (varints for index, term,
// type and lengths; 100 B of data; 15 B of AppendedAt) padded to 8 bytes.
const raftWALFrameBytes = 136

func openRaftWAL(tb testing.TB, dir string, cfg config) (store, string) {
	if !cfg.sync && !cfg.fixture {
		return nil, "StoreLogs always fsyncs; raft-wal has no option to append without fsync"
	}
	var w *raftwal.WAL
	var err error
	if cfg.segmentRecords > 0 {
		w, err = raftwal.Open(dir, raftwal.WithSegmentSize(cfg.segmentRecords*raftWALFrameBytes))
	} else {
		w, err = raftwal.Open(dir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return &raftWALStore{wal: w, dir: dir, next: 1}, ""
}

func (s *raftWALStore) prepare(values [][]byte) any {
	appendedAt := time.UnixMilli(baseTimestamp)
	logs := make([]*raft.Log, len(values))
	for i, v := range values {
		logs[i] = &raft.Log{Term: 1, Type: raft.LogCommand, Data: v, AppendedAt: appendedAt}
	}
	return logs
}

func (s *raftWALStore) append(batch any) error {
	logs := batch.([]*raft.Log)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range logs {
		l.Index = s.next + uint64(i)
	}
	if err := s.wal.StoreLogs(logs); err != nil {
		return err
	}
	s.next += uint64(len(logs))
	return nil
}

func (s *raftWALStore) close() error { return s.wal.Close() }

// readAll reads with GetLog, which decodes each entry into a raft.Log (copying
// Data).
func (s *raftWALStore) readAll(n int) (int64, error) {
	var valueBytes int64
	var l raft.Log
	for i := range uint64(n) {
		if err := s.wal.GetLog(i+1, &l); err != nil {
			return valueBytes, err
		}
		valueBytes += int64(len(l.Data))
	}
	return valueBytes, nil
}

func (s *raftWALStore) get(i int64) ([]byte, error) {
	var l raft.Log
	if err := s.wal.GetLog(uint64(i)+1, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}

func (s *raftWALStore) segments() int { return countFiles(s.dir, "*.wal") }
