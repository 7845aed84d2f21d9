package partition

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/vfs"
)

// The leader epoch cache (KIP-101, KIP-279): for each leader epoch that wrote to the
// partition, the first offset written in it. A follower that meets a new leader asks
// it for the end offset of its own latest epoch and truncates its log there (never at
// its high watermark), so replicas whose tails diverged converge on the leader's log;
// a consumer can check that its position is still on the log after a leader change
// (KIP-320). The cache is the first step of the replica layer; the partition does not
// keep one yet.

// LeaderEpochCheckpointFile is the name of the file in a partition directory that
// holds the leader epoch cache, in Kafka's format (so Kafka's tools read it): a line
// with the version, 0; a line with the number of entries; then one line per entry,
// "<epoch> <start offset>", in order:
//
//	0
//	2
//	0 0
//	3 1500
//
// Kafka's format has no checksum: the file is checked against the log instead (every
// entry names a batch of the log stamped with its epoch), and rebuilt from the log
// when it does not hold.
const LeaderEpochCheckpointFile = "leader-epoch-checkpoint"

// maxLeaderEpochFileBytes bounds what is read of the file: some 30 bytes per entry,
// an entry per leader change.
const maxLeaderEpochFileBytes = 16 << 20

// NoEpoch is Kafka's "undefined epoch" (UNDEFINED_EPOCH): a batch written without a
// leader epoch, or an end offset request for an epoch nothing is known of.
const NoEpoch int32 = -1

// NoOffset is Kafka's UNDEFINED_EPOCH_OFFSET, the end offset answered with NoEpoch.
const NoOffset int64 = -1

// EpochEntry is a leader epoch and the first offset written in it.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// leaderEpochs is the cache: entries with strictly increasing epochs and strictly
// increasing start offsets. The caller serializes access.
type leaderEpochs struct {
	entries []EpochEntry
}

// latest returns the latest entry, if any.
func (c *leaderEpochs) latest() (EpochEntry, bool) {
	if len(c.entries) == 0 {
		return EpochEntry{}, false
	}
	return c.entries[len(c.entries)-1], true
}

// assign records that epoch began at startOffset, as a leader does when it writes
// the first batch of its epoch and a follower when it copies one. Entries that would
// break the order (an epoch at or above epoch, or one starting at or above
// startOffset: a divergent tail the log has lost) are dropped first. It reports
// whether the cache changed; the latest epoch seen again at a later offset changes
// nothing. Negative values are an error and change nothing.
func (c *leaderEpochs) assign(e EpochEntry) (bool, error) {
	if e.Epoch < 0 || e.StartOffset < 0 {
		return false, errorf("strata/partition: leader epoch %d at offset %d: %w", e.Epoch, e.StartOffset, errs.ErrInvalidArgument)
	}
	if last, ok := c.latest(); ok && last.Epoch == e.Epoch && last.StartOffset <= e.StartOffset {
		return false, nil
	}
	n := len(c.entries)
	for n > 0 && (c.entries[n-1].Epoch >= e.Epoch || c.entries[n-1].StartOffset >= e.StartOffset) {
		n--
	}
	c.entries = append(c.entries[:n], e)
	return true, nil
}

// endOffsetFor answers Kafka's OffsetForLeaderEpoch for epoch, given the log end
// offset: the greatest epoch at or below it that the cache knows (or epoch itself, if
// it lies below every known one) and the offset where it ended, the start of the
// next known epoch (or logEnd, for the latest). An epoch above every known one, or
// NoEpoch, is (NoEpoch, NoOffset).
func (c *leaderEpochs) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	last, ok := c.latest()
	switch {
	case epoch == NoEpoch || !ok:
		return NoEpoch, NoOffset
	case epoch == last.Epoch:
		return epoch, logEnd
	}
	i, _ := slices.BinarySearchFunc(c.entries, epoch, func(e EpochEntry, epoch int32) int { return cmp.Compare(e.Epoch, epoch) })
	// entries[i] is the first entry whose epoch is at or above epoch.
	if i < len(c.entries) && c.entries[i].Epoch == epoch {
		i++
	}
	if i == len(c.entries) {
		return NoEpoch, NoOffset // above every known epoch
	}
	higher := c.entries[i]
	if i == 0 {
		return epoch, higher.StartOffset // below every known epoch
	}
	return c.entries[i-1].Epoch, higher.StartOffset
}

// truncateFromEnd drops the entries starting at or above end: the log was
// truncated there. It reports whether the cache changed.
func (c *leaderEpochs) truncateFromEnd(end int64) bool {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].StartOffset >= end {
		n--
	}
	changed := n < len(c.entries)
	c.entries = c.entries[:n]
	return changed
}

// truncateFromStart drops the entries wholly below start (the log start offset
// moved there) and moves the start of the epoch holding start to it, as Kafka does.
// It reports whether the cache changed.
func (c *leaderEpochs) truncateFromStart(start int64) bool {
	n := 0
	for n < len(c.entries) && c.entries[n].StartOffset <= start {
		n++
	}
	if n == 0 {
		return false
	}
	first := EpochEntry{Epoch: c.entries[n-1].Epoch, StartOffset: start}
	changed := n > 1 || c.entries[0] != first
	c.entries = append([]EpochEntry{first}, c.entries[n:]...)
	return changed
}

// encodeLeaderEpochs returns entries in the format of LeaderEpochCheckpointFile.
func encodeLeaderEpochs(entries []EpochEntry) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(entries))
	for _, e := range entries {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	return b.Bytes()
}

// decodeLeaderEpochs parses the file read from path. Anything but version 0, the
// announced number of entries, and entries with strictly increasing epochs and start
// offsets, none negative, is a *CorruptError.
func decodeLeaderEpochs(path string, data []byte) ([]EpochEntry, error) {
	corrupt := func(format string, args ...any) ([]EpochEntry, error) {
		return nil, errs.Corruptf(path, 0, "leader epoch checkpoint: "+format, args...)
	}
	text, ok := strings.CutSuffix(string(data), "\n")
	if !ok {
		return corrupt("does not end with a newline")
	}
	lines := strings.Split(text, "\n")
	if len(lines) < 2 || lines[0] != "0" {
		return corrupt("unknown version %q", lines[0])
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return corrupt("%q entries announced, %d found", lines[1], len(lines)-2)
	}
	entries := make([]EpochEntry, 0, n)
	for _, line := range lines[2:] {
		epochText, offsetText, ok := strings.Cut(line, " ")
		epoch, err1 := strconv.ParseInt(epochText, 10, 32)
		offset, err2 := strconv.ParseInt(offsetText, 10, 64)
		if !ok || err1 != nil || err2 != nil || epoch < 0 || offset < 0 {
			return corrupt("bad entry %q", line)
		}
		e := EpochEntry{Epoch: int32(epoch), StartOffset: offset}
		if k := len(entries); k > 0 && (entries[k-1].Epoch >= e.Epoch || entries[k-1].StartOffset >= e.StartOffset) {
			return corrupt("entry %q out of order", line)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// readLeaderEpochs reads the leader epoch checkpoint in dir; found is false if there
// is none.
func readLeaderEpochs(fsys vfs.FS, dir string) (entries []EpochEntry, found bool, err error) {
	path := filepath.Join(dir, LeaderEpochCheckpointFile)
	data, err := keyvalue.ReadFile(fsys, path, maxLeaderEpochFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	entries, err = decodeLeaderEpochs(path, data)
	return entries, err == nil, err
}

// writeLeaderEpochs replaces the leader epoch checkpoint in dir, crash-atomically.
func writeLeaderEpochs(fsys vfs.FS, dir string, entries []EpochEntry) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, LeaderEpochCheckpointFile), encodeLeaderEpochs(entries))
}
