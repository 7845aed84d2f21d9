package segment

import (
	"io"
	"os"

	"github.com/stratalog/strata/vfs"
)

// CreateWithSuffix creates a new, empty segment like Create, except that its three
// files carry suffix after their usual names: compaction builds a cleaned segment as
// "<base>.log.cleaned", ".index.cleaned" and ".timeindex.cleaned" (CleanedSuffix),
// next to the live segment of the same base, and renames it into place with
// RenameFiles. The caller fsyncs dir.
func CreateWithSuffix(fsys vfs.FS, dir string, base int64, opts *Options, suffix string) (*Segment, error) {
	return create(fsys, dir, base, opts, suffix)
}

// Suffix returns the suffix after the usual names of the segment's files: "" for a
// segment of the log, CleanedSuffix or SwapSuffix while compaction installs it.
func (s *Segment) Suffix() string { return s.suffix }

// RenameFiles renames the segment's files (three, and its .txnindex if it has one) to carry suffix instead of their
// current one (CleanedSuffix to SwapSuffix, SwapSuffix to "": the final names): the
// indexes first, the .log last. It does not fsync the directory. It must not run
// concurrently with any other call on the segment, Path included: compaction calls it
// only on segments it built and has not published yet.
func (s *Segment) RenameFiles(suffix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return errClosed
	}
	if err := s.mu.offsets.Rename(IndexPath(s.dir, s.base) + suffix); err != nil {
		return err
	}
	if err := s.mu.times.Rename(TimeIndexPath(s.dir, s.base) + suffix); err != nil {
		return err
	}
	if err := s.renameTxnIndexLocked(suffix); err != nil {
		return err
	}
	path := LogPath(s.dir, s.base) + suffix
	if err := s.fsys.Rename(s.path, path); err != nil {
		return err
	}
	s.path, s.suffix = path, suffix
	return nil
}

// ReadNextOffset reads the .log file at path, the log of a segment whose base offset
// is base under any suffix, checks every batch as recovery does (bounds, magic,
// CRC-32C, offsets rising from base, relative offsets within 32 bits) and returns the
// offset after its last batch (base if it holds none). Any invalid byte, a torn tail
// included, is a *CorruptError naming the file and position: it is for files that
// were fsynced whole, such as compaction's .swap files. It allocates at most
// opts.MaxBatchBytes (or 64 KiB) for reading.
func ReadNextOffset(fsys vfs.FS, path string, base int64, opts *Options) (int64, error) {
	next, _, err := ReadFingerprint(fsys, path, base, opts)
	return next, err
}

// ReadFingerprint is ReadNextOffset, and also returns the fingerprint of the file's
// batches (see Segment.Fingerprint; its digest is known).
func ReadFingerprint(fsys vfs.FS, path string, base int64, opts *Options) (int64, Fingerprint, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, Fingerprint{}, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, Fingerprint{}, err
	}
	o := opts.withDefaults()
	sc := scanner{w: &window{file: f}, path: path, base: base, end: size, next: base, maxBatch: o.MaxBatchBytes, verify: true}
	for {
		_, _, err := sc.batch()
		if err == io.EOF {
			return sc.next, sc.fingerprint(), nil
		}
		if err != nil {
			return 0, Fingerprint{}, err
		}
	}
}
