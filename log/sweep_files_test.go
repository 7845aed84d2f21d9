package log_test

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path"
	"slices"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// The files of a store, as the corruption sweep sees them: what it may damage, and
// where the batches of each .log begin.

// storeFile is one file strata wrote in the store.
type storeFile struct {
	path      string
	partition string // the partition's directory name; "" for the store's own files
	kind      string // fileLog, fileIndex, ...
	base      int64  // a segment file's base offset
	newest    bool   // a file of its partition's newest segment
}

// Kinds of file.
const (
	fileLog                 = "log"
	fileIndex               = "index"
	fileTimeIndex           = "timeindex"
	filePartitionCheckpoint = "partition.checkpoint"
	fileCleanerCheckpoint   = "cleaner.checkpoint"
	fileTopics              = "topics.json"
	fileRecoveryPoints      = "recovery-points.checkpoint"
)

// scanStore lists the files of the store in fsys, sorted by path.
func scanStore(fsys vfs.FS) []storeFile {
	var files []storeFile
	names, _ := fsys.ReadDir(sweepDir)
	for _, name := range names {
		full := path.Join(sweepDir, name)
		if name == fileTopics || name == fileRecoveryPoints {
			files = append(files, storeFile{path: full, kind: name})
		}
		info, err := fsys.Stat(full)
		if err != nil || !info.IsDir() {
			continue
		}
		entries, _ := fsys.ReadDir(full)
		newest := int64(-1)
		first := len(files)
		for _, entry := range entries {
			f := storeFile{path: path.Join(full, entry), partition: name}
			switch base, suffix, ok := segment.ParseFileName(entry); {
			case ok && suffix == segment.LogSuffix:
				f.kind, f.base = fileLog, base
				newest = max(newest, base)
			case ok && suffix == segment.IndexSuffix:
				f.kind, f.base = fileIndex, base
			case ok && suffix == segment.TimeIndexSuffix:
				f.kind, f.base = fileTimeIndex, base
			case entry == filePartitionCheckpoint || entry == fileCleanerCheckpoint:
				f.kind = entry
			default:
				continue
			}
			files = append(files, f)
		}
		for i := first; i < len(files); i++ {
			files[i].newest = files[i].kind != filePartitionCheckpoint && files[i].kind != fileCleanerCheckpoint && files[i].base == newest
		}
	}
	return files
}

// filesOf returns the files of the given kinds, of a partition (any if
// partition is ""), that hold at least one byte if nonEmpty.
func filesOf(fsys vfs.FS, files []storeFile, partition string, nonEmpty bool, kinds ...string) []storeFile {
	var out []storeFile
	for _, f := range files {
		if !slices.Contains(kinds, f.kind) || (partition != "" && f.partition != partition) {
			continue
		}
		if nonEmpty && len(readStoreFile(fsys, f.path)) == 0 {
			continue
		}
		out = append(out, f)
	}
	return out
}

// segmentsOf returns the .log files of a partition, by base offset.
func segmentsOf(files []storeFile, partition string) []storeFile {
	var out []storeFile
	for _, f := range files {
		if f.kind == fileLog && f.partition == partition {
			out = append(out, f)
		}
	}
	return out
}

// batchStarts returns where each batch of an undamaged .log begins, and its size as
// the last element: batch i occupies [starts[i], starts[i+1]).
func batchStarts(data []byte) []int64 {
	starts := []int64{0}
	for pos := int64(0); pos+segment.BatchOverhead <= int64(len(data)); {
		pos += segment.BatchOverhead + int64(binary.BigEndian.Uint32(data[pos+8:]))
		starts = append(starts, pos)
	}
	return starts
}

// batchAt returns the index of the batch holding byte pos.
func batchAt(starts []int64, pos int64) int {
	i, found := slices.BinarySearch(starts, pos)
	if found {
		return i
	}
	return i - 1
}

// segmentEnd returns the offset after the last batch of an undamaged .log, or base
// if it is empty.
func segmentEnd(data []byte, base int64) int64 {
	starts := batchStarts(data)
	if len(starts) < 2 {
		return base
	}
	last := starts[len(starts)-2]
	return int64(binary.BigEndian.Uint64(data[last:])) + int64(binary.BigEndian.Uint32(data[last+23:])) + 1
}

// headerField names the batch header field holding byte i of a batch (FORMAT.md);
// "records" past the header.
func headerField(i int64) string {
	switch {
	case i < 8:
		return "baseOffset"
	case i < 12:
		return "batchLength"
	case i < 16:
		return "partitionLeaderEpoch"
	case i < 17:
		return "magic"
	case i < 21:
		return "crc"
	case i < segment.BatchHeaderSize:
		return "header (CRC-covered)"
	}
	return "records"
}

func readStoreFile(fsys vfs.FS, name string) []byte {
	data, err := vfs.ReadFile(fsys, name)
	if err != nil {
		panic(err) // the sweep reads only files it listed, before damaging them
	}
	return data
}

// writeStoreFile replaces (or creates) a file's content, durably.
func writeStoreFile(fsys vfs.FS, name string, data []byte) {
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		panic(err)
	}
	if err := f.Sync(); err != nil {
		panic(err)
	}
	if err := fsys.SyncDir(path.Dir(name)); err != nil {
		panic(err)
	}
}

func mustDo(err error) {
	if err != nil {
		panic(err)
	}
}

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// farAhead is a base offset beyond any the store reached.
const farAhead = 1_000_000
