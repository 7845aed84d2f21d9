package log_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// The damage the corruption sweep does: one per case, of one class, at a place the
// case's seed chooses.

// damage is what one case did to its store.
type damage struct {
	class  string
	clean  bool   // the store had been closed cleanly (else: power lost while open)
	path   string // the file or directory damaged or planted
	detail string // what was done to it, to replay and to read the table
	// For the allow-list: where the damage lies.
	partition     string // the partition directory, "" for the store's own files
	newestSegment bool   // it is (a file of) the partition's newest segment
	lastBatch     bool   // it lies in the last batch of the partition's newest segment
	foreignCopy   bool   // a copy of another partition's segment
	// For a cut .log: the first offset cut away, and the partition's point in
	// recovery-points.checkpoint (0: none; every offset below it was fsynced).
	cutFrom, recoveryPoint int64
}

func (d damage) String() string {
	state := "unclean"
	if d.clean {
		state = "clean"
	}
	where := ""
	if d.lastBatch {
		where = " (the newest segment's last batch)"
	} else if d.newestSegment {
		where = " (the newest segment)"
	}
	return fmt.Sprintf("%s, %s: %s%s: %s", d.class, state, d.path, where, d.detail)
}

// compacted reports whether the damage is in a partition of a compacted topic.
func (d damage) compacted() bool {
	topic := d.partition[:max(strings.LastIndexByte(d.partition, '-'), 0)]
	return topic == log.OffsetsTopic || sweepTopics[topic].CleanupPolicy == log.CleanupCompact
}

// damager does one damage to fsys.
type damager struct {
	fsys  vfs.FS
	rng   *rand.Rand
	files []storeFile // the store's files before the damage
	// recoveryPoints is what the store's recovery-points file recorded (after a
	// power loss), by partition directory.
	recoveryPoints map[string]int64
}

// damageClass is a kind of damage. apply does it at a random place and describes
// it; it returns false only if the store has nothing it could damage.
type damageClass struct {
	name  string
	apply func(d *damager, out *damage) bool
}

// damageClasses are the classes of the "Tests that must exist", in the order
// of the table: bit flips in every file strata writes, inside and outside the
// CRC-covered bytes of a .log; truncations at and between batch boundaries; deleted,
// duplicated and stray files; directories where files belong. (Symlinks: see
// sweep_symlink_test.go, on the OS filesystem.)
var damageClasses = []damageClass{
	{"flip log records", func(d *damager, out *damage) bool { return d.flipLog(out, "", true) }},
	{"flip log header", func(d *damager, out *damage) bool { return d.flipLog(out, "", false) }},
	{"flip offsets log", func(d *damager, out *damage) bool { return d.flipLog(out, "__consumer_offsets-0", d.rng.IntN(2) == 0) }},
	{"flip index", func(d *damager, out *damage) bool { return d.flipFile(out, fileIndex) }},
	{"flip timeindex", func(d *damager, out *damage) bool { return d.flipFile(out, fileTimeIndex) }},
	{"flip partition.checkpoint", func(d *damager, out *damage) bool { return d.flipFile(out, filePartitionCheckpoint) }},
	{"flip cleaner.checkpoint", func(d *damager, out *damage) bool { return d.flipFile(out, fileCleanerCheckpoint) }},
	{"flip topics.json", func(d *damager, out *damage) bool { return d.flipFile(out, fileTopics) }},
	{"flip recovery-points", func(d *damager, out *damage) bool { return d.flipFile(out, fileRecoveryPoints) }},
	{"cut log at batch", func(d *damager, out *damage) bool { return d.cutLog(out, true) }},
	{"cut log mid-batch", func(d *damager, out *damage) bool { return d.cutLog(out, false) }},
	{"cut other file", (*damager).cutOther},
	{"delete segment", (*damager).deleteSegment},
	{"delete file", (*damager).deleteFile},
	{"duplicate segment", (*damager).duplicateSegment},
	{"stray segment", (*damager).straySegment},
	{"stray index", (*damager).strayIndex},
	{"stray other", (*damager).strayOther},
	{"dir for file", (*damager).directoryForFile},
}

// locate fills in where f lies.
func (out *damage) locate(f storeFile) {
	out.path, out.partition, out.newestSegment = f.path, f.partition, f.newest
}

// exists reports whether the store has a file or directory of that name.
func (d *damager) exists(name string) bool {
	_, err := d.fsys.Stat(name)
	return err == nil
}

// flipBit flips one bit of byte pos of the file.
func (d *damager) flipBit(name string, pos int64) (bit int) {
	data := readStoreFile(d.fsys, name)
	bit = d.rng.IntN(8)
	data[pos] ^= 1 << bit
	writeStoreFile(d.fsys, name, data)
	return bit
}

// flipLog flips a bit of a batch of a .log (of partition, or any): in its records
// and the CRC-covered header, or in the bytes before them, which the CRC does not
// cover (baseOffset, batchLength, partitionLeaderEpoch, magic) or are the CRC.
func (d *damager) flipLog(out *damage, partition string, covered bool) bool {
	logs := filesOf(d.fsys, d.files, partition, true, fileLog)
	if len(logs) == 0 {
		return false
	}
	f := pick(d.rng, logs)
	starts := batchStarts(readStoreFile(d.fsys, f.path))
	i := d.rng.IntN(len(starts) - 1)
	from, to := starts[i], starts[i]+21
	if covered {
		from, to = starts[i]+21, starts[i+1]
	}
	pos := from + d.rng.Int64N(to-from)
	bit := d.flipBit(f.path, pos)
	out.locate(f)
	out.lastBatch = f.newest && i == len(starts)-2
	out.detail = fmt.Sprintf("bit %d of byte %d: batch %d of %d (at %d), %s", bit, pos, i, len(starts)-1, starts[i], headerField(pos-starts[i]))
	return true
}

// flipFile flips a bit of a file of the given kind.
func (d *damager) flipFile(out *damage, kind string) bool {
	files := filesOf(d.fsys, d.files, "", true, kind)
	if len(files) == 0 {
		return false
	}
	f := pick(d.rng, files)
	pos := d.rng.Int64N(int64(len(readStoreFile(d.fsys, f.path))))
	bit := d.flipBit(f.path, pos)
	out.locate(f)
	out.detail = fmt.Sprintf("bit %d of byte %d", bit, pos)
	return true
}

// cutLog truncates a .log at the start of one of its batches, or inside one.
func (d *damager) cutLog(out *damage, atBatch bool) bool {
	logs := filesOf(d.fsys, d.files, "", true, fileLog)
	f := pick(d.rng, logs)
	starts := batchStarts(readStoreFile(d.fsys, f.path))
	i := d.rng.IntN(len(starts) - 1)
	size := starts[i]
	if !atBatch {
		size += 1 + d.rng.Int64N(starts[i+1]-starts[i]-1)
	}
	data := readStoreFile(d.fsys, f.path)
	d.truncate(f.path, size)
	out.locate(f)
	out.lastBatch = f.newest
	out.cutFrom = int64(binary.BigEndian.Uint64(data[starts[i]:])) // the batch's baseOffset
	out.recoveryPoint = d.recoveryPoints[f.partition]
	out.detail = fmt.Sprintf("cut to %d bytes: batch %d of %d (at %d) on are gone: offsets %d on (recorded recovery point %d)",
		size, i, len(starts)-1, starts[i], out.cutFrom, out.recoveryPoint)
	return true
}

func (d *damager) truncate(name string, size int64) {
	writeStoreFile(d.fsys, name, readStoreFile(d.fsys, name)[:size])
}

// cutOther truncates a file that is not a .log: an index, a checkpoint, topics.json.
func (d *damager) cutOther(out *damage) bool {
	f := pick(d.rng, filesOf(d.fsys, d.files, "", true, fileIndex, fileTimeIndex, filePartitionCheckpoint, fileCleanerCheckpoint, fileTopics, fileRecoveryPoints))
	size := d.rng.Int64N(int64(len(readStoreFile(d.fsys, f.path))))
	d.truncate(f.path, size)
	out.locate(f)
	out.detail = fmt.Sprintf("cut to %d bytes", size)
	return true
}

// deleteSegment removes a segment's three files.
func (d *damager) deleteSegment(out *damage) bool {
	f := pick(d.rng, filesOf(d.fsys, d.files, "", false, fileLog))
	dir := path.Dir(f.path)
	for _, name := range []string{segment.LogPath(dir, f.base), segment.IndexPath(dir, f.base), segment.TimeIndexPath(dir, f.base)} {
		mustDo(d.fsys.Remove(name))
	}
	mustDo(d.fsys.SyncDir(dir))
	out.locate(f)
	out.detail = fmt.Sprintf("segment %d removed (%d segments)", f.base, len(segmentsOf(d.files, f.partition)))
	return true
}

// deleteFile removes one file strata wrote, of any kind.
func (d *damager) deleteFile(out *damage) bool {
	f := pick(d.rng, d.files)
	mustDo(d.fsys.Remove(f.path))
	mustDo(d.fsys.SyncDir(path.Dir(f.path)))
	out.locate(f)
	out.detail = "removed"
	return true
}

// duplicateSegment copies a segment's .log (and its indexes, or not) over another
// segment's, of the same partition or another.
func (d *damager) duplicateSegment(out *damage) bool {
	logs := filesOf(d.fsys, d.files, "", false, fileLog)
	from, to := pick(d.rng, logs), pick(d.rng, logs)
	for from.path == to.path {
		to = pick(d.rng, logs)
	}
	writeStoreFile(d.fsys, to.path, readStoreFile(d.fsys, from.path))
	withIndexes := d.rng.IntN(2) == 0
	if withIndexes {
		fromDir, toDir := path.Dir(from.path), path.Dir(to.path)
		writeStoreFile(d.fsys, segment.IndexPath(toDir, to.base), readStoreFile(d.fsys, segment.IndexPath(fromDir, from.base)))
		writeStoreFile(d.fsys, segment.TimeIndexPath(toDir, to.base), readStoreFile(d.fsys, segment.TimeIndexPath(fromDir, from.base)))
	}
	out.locate(to)
	out.foreignCopy = from.partition != to.partition
	out.detail = fmt.Sprintf("replaced by a copy of %s (indexes too: %v)", from.path, withIndexes)
	return true
}

// straySegment plants a segment file strata did not write: empty or a copy of a
// segment (of this partition or another), named far ahead of the end, between two
// segments, or exactly at the end offset (what a roll leaves, when empty).
func (d *damager) straySegment(out *damage) bool {
	logs := filesOf(d.fsys, d.files, "", false, fileLog)
	target := pick(d.rng, logs)
	dir := path.Dir(target.path)
	segments := segmentsOf(d.files, target.partition)
	newest := segments[len(segments)-1]
	end := segmentEnd(readStoreFile(d.fsys, newest.path), newest.base)
	var base int64
	var where string
	switch d.rng.IntN(3) {
	case 0:
		base, where = end+farAhead, "far ahead of the end"
	case 1:
		base, where = target.base+1, fmt.Sprintf("just after segment %d", target.base)
	default:
		base, where = end, "at the end offset"
	}
	content, what := []byte(nil), "empty"
	if d.rng.IntN(2) == 0 {
		source := pick(d.rng, logs)
		content, what = readStoreFile(d.fsys, source.path), "a copy of "+source.path
	}
	name := segment.LogPath(dir, base)
	if d.exists(name) { // a segment of one offset, or an empty newest segment: not stray
		name = segment.LogPath(dir, end+farAhead)
		where = "far ahead of the end"
	}
	writeStoreFile(d.fsys, name, content)
	out.path, out.partition = name, target.partition
	out.detail = fmt.Sprintf("%s, %s (end %d)", what, where, end)
	return true
}

// strayIndex plants an index file strata did not write: an orphan (no .log of its
// base), or a copy of another segment's index over a segment's own.
func (d *damager) strayIndex(out *damage) bool {
	indexes := filesOf(d.fsys, d.files, "", false, fileIndex, fileTimeIndex)
	source := pick(d.rng, indexes)
	suffix := "." + source.kind
	data := readStoreFile(d.fsys, source.path)
	if d.rng.IntN(2) == 0 {
		dir := path.Join(sweepDir, pick(d.rng, indexes).partition)
		base := source.base + 1 + d.rng.Int64N(farAhead)
		for d.exists(segment.LogPath(dir, base)) {
			base++
		}
		out.path = path.Join(dir, segment.FileName(base, suffix))
		out.detail = "an orphan: a copy of " + source.path
	} else {
		targets := filesOf(d.fsys, d.files, "", false, source.kind)
		target := pick(d.rng, targets)
		for target.path == source.path && len(targets) > 1 {
			target = pick(d.rng, targets)
		}
		out.locate(target)
		out.detail = "replaced by a copy of " + source.path
	}
	writeStoreFile(d.fsys, out.path, data)
	return true
}

// strayOther plants files that are not segments: an unknown file, a directory named
// like a partition, leftovers of a compaction (.cleaned, a .swap of a segment or of
// a prefix of it), and temporary files of the crash-atomic replacements.
func (d *damager) strayOther(out *damage) bool {
	logs := filesOf(d.fsys, d.files, "", true, fileLog)
	source := pick(d.rng, logs)
	dir := path.Dir(source.path)
	data := readStoreFile(d.fsys, source.path)
	garbage := []byte("strata-partition-checkpoint 1\nlog-start-offset 7\n")
	switch variant := d.rng.IntN(8); variant {
	case 0:
		out.path, out.detail = path.Join(dir, "notes.txt"), "an unknown file"
		writeStoreFile(d.fsys, out.path, []byte("hello"))
	case 1:
		out.path, out.detail = path.Join(sweepDir, "orders-9"), "a directory named like a partition, holding a copy of "+source.path
		mustDo(d.fsys.MkdirAll(out.path, 0o755))
		writeStoreFile(d.fsys, segment.LogPath(out.path, 0), data)
	case 2:
		out.path, out.detail = source.path+segment.CleanedSuffix, "a copy of the segment, as a compaction's unfinished output"
		writeStoreFile(d.fsys, out.path, data)
	case 3:
		out.path, out.detail = source.path+segment.SwapSuffix, "a copy of the segment, as a compaction's finished output"
		writeStoreFile(d.fsys, out.path, data)
	case 4:
		starts := batchStarts(data)
		size := starts[d.rng.IntN(len(starts)-1)]
		out.path, out.detail = source.path+segment.SwapSuffix, fmt.Sprintf("the segment's first %d bytes (a batch boundary), as a compaction's finished output", size)
		writeStoreFile(d.fsys, out.path, data[:size])
		out.newestSegment = source.newest
	case 5:
		out.path, out.detail = path.Join(dir, filePartitionCheckpoint+".tmp"), "a half-written checkpoint replacement"
		writeStoreFile(d.fsys, out.path, garbage)
	case 6:
		out.path, out.detail = path.Join(sweepDir, fileTopics+".tmp"), "a half-written topics.json replacement"
		writeStoreFile(d.fsys, out.path, []byte(`{"version": 2, "topics": [`))
	default:
		out.path, out.detail = path.Join(dir, fileCleanerCheckpoint+".tmp"), "a half-written cleaner checkpoint replacement"
		writeStoreFile(d.fsys, out.path, garbage)
	}
	out.partition = source.partition
	if strings.HasPrefix(out.path, sweepDir+"/orders-9") || strings.HasPrefix(out.path, sweepDir+"/"+fileTopics) {
		out.partition = ""
	}
	return true
}

// directoryForFile puts a directory where a file belongs: in place of one strata
// wrote (empty, or holding a file), or at a name strata writes later (the next
// segment, a checkpoint's temporary file).
func (d *damager) directoryForFile(out *damage) bool {
	f := pick(d.rng, d.files)
	out.locate(f)
	switch d.rng.IntN(3) {
	case 0:
		mustDo(d.fsys.Remove(f.path))
		out.detail = "replaced by an empty directory"
	case 1:
		mustDo(d.fsys.Remove(f.path))
		mustDo(d.fsys.MkdirAll(f.path, 0o755))
		writeStoreFile(d.fsys, path.Join(f.path, "inside"), []byte("x"))
		out.detail = "replaced by a directory holding a file"
	default:
		if f.partition == "" {
			out.path = path.Join(sweepDir, fileTopics+".tmp")
		} else {
			out.path = path.Join(sweepDir, f.partition, filePartitionCheckpoint+".tmp")
		}
		out.newestSegment = false
		out.detail = "a directory at the name of a temporary file"
	}
	mustDo(d.fsys.MkdirAll(out.path, 0o755))
	mustDo(d.fsys.SyncDir(path.Dir(out.path)))
	return true
}
