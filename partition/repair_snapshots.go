package partition

import "path/filepath"

// removeSnapshotsAboveLost deletes the producer snapshots above the first offset
// Repair gives up: they describe batches the log no longer holds, and a producer's
// resend of one would be answered as a duplicate at an offset that no longer holds
// its records. Open rebuilds the producer state from an older snapshot and the
// repaired log. A crash midway leaves fewer snapshots, which is always safe.
func (r *repair) removeSnapshotsAboveLost() error {
	if len(r.report.Lost) == 0 {
		return nil
	}
	from := r.report.Lost[0].From
	for _, lost := range r.report.Lost {
		from = min(from, lost.From)
	}
	names, err := r.fsys.ReadDir(r.dir)
	if err != nil {
		return err
	}
	removed := false
	for _, name := range names {
		if offset, ok := parseSnapshotName(name); ok && offset > from {
			if err := r.fsys.Remove(filepath.Join(r.dir, name)); err != nil {
				return err
			}
			r.act("deleted %s: the producer state of batches given up", name)
			removed = true
		}
	}
	if removed {
		return r.fsys.SyncDir(r.dir)
	}
	return nil
}
