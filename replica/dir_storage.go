package replica

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/vfs"
)

// ControllerStateFile is the name of the controller's state in each broker
// directory (the format is in controller_state.go and FORMAT.md).
const ControllerStateFile = "controller-state.json"

// maxControllerStateBytes bounds what is read of the file: some 200 bytes per
// partition.
const maxControllerStateBytes = 256 << 20

// DirStorage is a Storage that keeps a copy of the controller's state in each of
// several directories (one per broker: one per disk). Save replaces every copy it
// can reach, crash-atomically, and succeeds if it wrote at least Quorum of them;
// Load takes the valid copy with the greatest sequence, skipping missing,
// unreadable and damaged ones (each reported to Skipped).
//
// With the default quorum, a majority of the directories, every saved state is in
// at least one directory of any majority, so the state survives the loss of any
// minority of the disks (one of three), and a save still succeeds while a minority
// of them fails. With two directories the majority is both: a save fails while
// either disk does, and the controller then changes nothing.
type DirStorage struct {
	FS   vfs.FS
	Dirs []string
	// Quorum is how many copies a Save must write. Default: a majority of Dirs. A
	// Quorum above len(Dirs) fails every Save: a store whose broker directories are
	// not all usable gives only the usable ones as Dirs, and a majority of all of
	// them as Quorum.
	Quorum int
	// Skipped, if not nil, is told of every copy Load skipped and why.
	Skipped func(path string, err error)
}

// Load implements Storage.
func (d *DirStorage) Load() ([]byte, error) {
	var best []byte
	bestSequence := int64(-1)
	var failures []error
	for _, dir := range d.Dirs {
		path := filepath.Join(dir, ControllerStateFile)
		data, err := keyvalue.ReadFile(d.FS, path, maxControllerStateBytes)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var sequence int64
		if err == nil {
			sequence, err = DecodeControllerSequence(path, data)
		}
		if err != nil {
			failures = append(failures, err)
			if d.Skipped != nil {
				d.Skipped(path, err)
			}
			continue
		}
		if sequence > bestSequence {
			best, bestSequence = data, sequence
		}
	}
	if best == nil && len(failures) > 0 {
		return nil, errorf("strata/replica: no readable copy of the controller state: %w", errors.Join(failures...))
	}
	return best, nil
}

// Save implements Storage.
func (d *DirStorage) Save(doc []byte) error {
	quorum := d.Quorum
	if quorum <= 0 {
		quorum = len(d.Dirs)/2 + 1
	}
	written := 0
	var failures []error
	for _, dir := range d.Dirs {
		if err := vfs.WriteFileAtomic(d.FS, filepath.Join(dir, ControllerStateFile), doc); err != nil {
			failures = append(failures, err)
			continue
		}
		written++
	}
	if written < quorum {
		return errorf("strata/replica: the controller state reached %d of %d directories, %d needed: %w", written, len(d.Dirs), quorum, errors.Join(failures...))
	}
	return nil
}
