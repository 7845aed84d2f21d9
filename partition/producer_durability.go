package partition

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/stratalog/strata/vfs"
)

// The producer state's life on disk, as Kafka's: a snapshot (producer_snapshot.go)
// at every roll, at the new segment's base, and at Close, at the log end; Open loads
// the newest valid snapshot at or below the log end and replays the batches after
// it; truncation drops the snapshots above the new end and reloads; retention and
// compaction leave the state alone, so that a producer whose batches they removed
// is still known until it expires (ProducerIDExpiration).

// openProducers is Open's part: snapshots above the log end are deleted (their
// batches were lost or truncated); if the newest one left is at the log end (a clean
// shutdown), it is the whole state and is read only at its first use
// (readProducersLocked), so that opening thousands of partitions reads no snapshot;
// otherwise the state is loaded now, replaying the batches after the snapshot. A
// clean shutdown without any snapshot replays only the last two segments
// (producer_upgrade.go).
func (p *Partition) openProducers() error {
	if len(p.snapshots) == 0 && p.report.CleanShutdown {
		return p.upgradeProducersLocked() // producer_upgrade.go
	}
	end := p.mu.written.offset
	for len(p.snapshots) > 0 && p.snapshots[len(p.snapshots)-1] > end {
		if err := p.removeSnapshot(len(p.snapshots)-1, "above the log end offset", true); err != nil {
			return err
		}
	}
	p.pruneSnapshotsLocked()
	if n := len(p.snapshots); n > 0 && p.snapshots[n-1] == end {
		p.producersUnread = true
		p.forgetDecidedFromLocked(end) // the snapshot's markers decided what they ended
		p.publishTransactionsLocked()
		return nil
	}
	return p.loadProducersLocked(true)
}

// readProducersLocked reads the state from the snapshot at the log end that Open
// left unread, or, if it is damaged, loads it as Open would have. The caller holds
// appendMu.
func (p *Partition) readProducersLocked() error {
	if !p.producersUnread {
		return nil
	}
	s, err := readSnapshot(p.fsys, p.dir, p.snapshots[len(p.snapshots)-1])
	if err == nil {
		p.producers, p.producersUnread = s, false
		p.expireProducersLocked()
		p.publishTransactionsLocked()
		return nil
	}
	if !errors.Is(err, ErrCorrupt) {
		return err
	}
	// Every batch since Open is in the log: replaying after an older snapshot
	// finds them.
	return p.loadProducersLocked(false)
}

// loadProducersLocked sets the producer state from the newest valid snapshot at or
// below the written offset and the batches after it. Snapshots above the written
// offset (their batches were lost or truncated) and damaged ones are deleted, with a
// warning; the state is then rebuilt from an older one or from the first segment. The
// caller holds appendMu, or is Open (atOpen).
func (p *Partition) loadProducersLocked(atOpen bool) error {
	p.mu.RLock()
	end := p.mu.written.offset
	p.mu.RUnlock()
	return p.loadProducersAtLocked(end, atOpen)
}

// loadProducersAtLocked is loadProducersLocked from the newest valid snapshot at
// or below limit (at most the written offset): the decided transactions are then
// known from there on (knowTransactions passes the high watermark).
func (p *Partition) loadProducersAtLocked(limit int64, atOpen bool) error {
	p.mu.RLock()
	end := p.mu.written.offset
	p.mu.RUnlock()
	for len(p.snapshots) > 0 && p.snapshots[len(p.snapshots)-1] > end {
		if err := p.removeSnapshot(len(p.snapshots)-1, "above the log end offset", atOpen); err != nil {
			return err
		}
	}
	p.pruneSnapshotsLocked()
	p.producers, p.producersUnread = newProducerStates(), false
	// The replay starts at the snapshot, or at the first batch on disk, even below
	// the log start offset: batches that DeleteRecordsBefore or retention made
	// unreadable, but whose segment is still there, still made the state.
	from := int64(0)
	for i := len(p.snapshots) - 1; i >= 0; i-- {
		offset := p.snapshots[i]
		if offset > limit {
			continue
		}
		s, err := readSnapshot(p.fsys, p.dir, offset)
		if errors.Is(err, ErrCorrupt) {
			p.logger.Warn("producer snapshot damaged; rebuilding the producer state from an older one or the log", "err", err)
			if err := p.removeSnapshot(i, "damaged", atOpen); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		p.producers, from = s, offset
		break
	}
	// The replay finds again the transactions its markers decide, and indexes
	// again those that aborted: at Open, after a crash, the .txnindex of the last
	// segment may hold anything (as Kafka's recoverSegment assumes), and is rebuilt.
	p.forgetDecidedFromLocked(from)
	p.publishTransactionsLocked()
	if atOpen {
		if err := p.dropTailAbortedLocked(from); err != nil {
			return err
		}
	}
	if err := p.replayProducersLocked(from); err != nil {
		return err
	}
	p.producers.expire(p.opts.Now().UnixMilli(), p.opts.ProducerIDExpiration.Milliseconds())
	p.publishTransactionsLocked()
	return nil
}

// removeSnapshot deletes the i-th snapshot file (the newest, in practice) and
// forgets it; at Open (atOpen) the RecoveryReport lists it.
func (p *Partition) removeSnapshot(i int, why string, atOpen bool) error {
	name := snapshotName(p.snapshots[i])
	if err := p.fsys.Remove(filepath.Join(p.dir, name)); err != nil {
		return err
	}
	if err := p.fsys.SyncDir(p.dir); err != nil {
		return err
	}
	p.logger.Info("deleted producer snapshot", "file", name, "reason", why)
	if atOpen {
		p.report.RemovedFiles = append(p.report.RemovedFiles, name)
	}
	p.snapshots = append(p.snapshots[:i], p.snapshots[i+1:]...)
	return nil
}

// takeSnapshotLocked writes the producer state of every batch below offset (the
// written offset, durable: called after a roll's or Close's fsync) to a snapshot
// file, crash-atomically.
// A failure costs only the time of a longer rebuild at the next Open: it is logged,
// not returned; ok says whether a snapshot at offset is on disk now (Close records
// a clean shutdown only then). The caller holds appendMu.
func (p *Partition) takeSnapshotLocked(offset int64) (ok bool) {
	if n := len(p.snapshots); n > 0 && p.snapshots[n-1] >= offset {
		return p.snapshots[n-1] == offset // written already; a truncation removed any above offset
	}
	if err := p.readProducersLocked(); err != nil {
		p.logger.Error("cannot read producer snapshot", "err", err)
		return false
	}
	return p.writeSnapshotLocked(offset, encodeSnapshot(&p.producers))
}

// writeSnapshotLocked writes b, the producer state of every batch below offset, to
// the snapshot file at offset, above every listed one, as takeSnapshotLocked says.
// The caller holds appendMu.
func (p *Partition) writeSnapshotLocked(offset int64, b []byte) (ok bool) {
	name := snapshotName(offset)
	path := filepath.Join(p.dir, name)
	if err := vfs.WriteFileAtomic(p.fsys, path, b); err != nil {
		p.logger.Error("cannot write producer snapshot", "file", name, "err", err)
		// The rename may have happened before the directory fsync failed. Left
		// unlisted, the file would survive a truncation below it, and an Open after
		// the log regrew past it would load the state of the truncated batches.
		if err := p.fsys.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			p.logger.Warn("cannot delete failed producer snapshot", "file", name, "err", err)
			if _, err := p.fsys.Stat(path); err == nil {
				p.snapshots = append(p.snapshots, offset) // listed, a truncation deletes it
			}
		}
		return false
	}
	p.snapshots = append(p.snapshots, offset)
	p.pruneSnapshotsLocked()
	return true
}

// pruneSnapshotsLocked keeps one snapshot per segment, as Kafka does: those at a
// segment's base (a truncation anywhere in the log finds one at or below its end),
// the newest (Close's, at the log end) and the newest below the first segment (the
// state of the batches retention deleted); it deletes the others (older Close's,
// those of deleted segments). The deletions are not made durable: a crash may bring
// one back, and an old snapshot is still a valid one (the next prune deletes it
// again). The caller holds appendMu, or is Open.
func (p *Partition) pruneSnapshotsLocked() {
	if len(p.snapshots) < 2 {
		return
	}
	p.mu.RLock()
	segments := p.mu.segments
	p.mu.RUnlock()
	bases := make(map[int64]bool, len(segments))
	for _, s := range segments {
		bases[s.Base()] = true
	}
	newestBelow := int64(-1)
	for _, offset := range p.snapshots {
		if offset < segments[0].Base() {
			newestBelow = offset
		}
	}
	kept := p.snapshots[:0]
	for i, offset := range p.snapshots {
		if bases[offset] || offset == newestBelow || i == len(p.snapshots)-1 {
			kept = append(kept, offset)
			continue
		}
		name := snapshotName(offset)
		if err := p.fsys.Remove(filepath.Join(p.dir, name)); err != nil {
			p.logger.Warn("cannot delete old producer snapshot", "file", name, "err", err)
			kept = append(kept, offset)
		}
	}
	p.snapshots = kept
}

// dropSnapshotsLocked deletes every snapshot, durably, and empties the producer
// state: the log starts over (TruncateFullyAndStartAt). The caller holds appendMu.
func (p *Partition) dropSnapshotsLocked() error {
	for len(p.snapshots) > 0 {
		if err := p.removeSnapshot(len(p.snapshots)-1, "the log started over", false); err != nil {
			return p.fail(err)
		}
	}
	p.producers, p.producersUnread = newProducerStates(), false
	p.forgetDecidedFromLocked(0)
	p.publishTransactionsLocked()
	return nil
}

// producerLastOffsetsLocked returns the last offset of each known producer's newest
// batch, for compaction to keep. The caller holds appendMu.
func (p *Partition) producerLastOffsetsLocked() (map[int64]int64, error) {
	if err := p.readProducersLocked(); err != nil {
		return nil, err
	}
	last := make(map[int64]int64, len(p.producers.producers))
	for id, e := range p.producers.producers {
		if n := len(e.batches); n > 0 {
			last[id] = e.batches[n-1].lastOffset
		}
	}
	return last, nil
}

// expireProducersLocked forgets the producers idle longer than ProducerIDExpiration.
// The caller holds appendMu.
func (p *Partition) expireProducersLocked() {
	if p.producersUnread || len(p.producers.producers) == 0 {
		return
	}
	if n := p.producers.expire(p.opts.Now().UnixMilli(), p.opts.ProducerIDExpiration.Milliseconds()); n > 0 {
		p.logger.Debug("expired producers", "count", n)
	}
}
