package log

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// Partition directories are created and removed only under names strata marks as
// its own, as Kafka renames a deleted partition to "<topic>-<n>.<id>-delete":
//
//	orders-0.5f3a9c0d1e2b4a68-create   a partition being created, not yet listed
//	orders-0.5f3a9c0d1e2b4a68-delete   a partition being deleted
//
// CreateTopic and AddPartitions make each new partition's directory under a
// "-create" name, then list the partitions in topics.json (the commit point), then
// rename the directories to their final names. DeleteTopic renames each partition
// directory to a "-delete" name, then writes topics.json without the topic (the
// commit point), then removes the "-delete" directories. Open settles what a crash
// interrupted from the marks alone:
//
//   - a listed partition whose directory is missing is renamed back from its
//     "-create" directory (a creation that committed) or else from its "-delete"
//     directory (a deletion that did not commit); with neither, it is offline;
//   - every other marked directory is removed (a creation that did not commit, a
//     deletion that did);
//   - a "<name>-<digits>" directory topics.json does not list, without a mark, is
//     not strata's to remove: it is left alone and logged at Warn.
//
// A mark is ".<id>-create" or ".<id>-delete" after the partition directory name,
// the id 16 lowercase hex digits: 8 of a hash (FNV-1a, 32 bits) of the whole topic
// name, then 8 random. Where that would pass 255 bytes, the topic name is cut to fit,
// as Kafka cuts it; a cut name (exactly 255 bytes) matches a topic it is a prefix of
// only if the hash is the topic's, so that another topic with the same first bytes
// never claims (or removes) it. If several marks could still be one partition's, all
// are kept and the partition is offline, for a person to sort out.

// Format: the marks of partition directories being created or deleted.
const (
	createMark   = "create"
	deleteMark   = "delete"
	markIDDigits = 16
	maxDirName   = 255
)

// markedDirName returns the name under which the directory of partition i of topic
// is created or deleted.
func markedDirName(topic string, i int, id, mark string) string {
	suffix := "-" + strconv.Itoa(i) + "." + id + "-" + mark
	return topic[:min(len(topic), maxDirName-len(suffix))] + suffix
}

// newMarkID returns a mark id for topic: the hash of its name, then random digits.
func newMarkID(topic string) string {
	return topicHash(topic) + fmt.Sprintf("%08x", uint32(rand.Uint64()))
}

// topicHash returns the 8 hex digits of the FNV-1a hash of a topic name that begin
// its marks' ids.
func topicHash(topic string) string {
	h := fnv.New32a()
	h.Write([]byte(topic))
	return fmt.Sprintf("%08x", h.Sum32())
}

// markedDir is a marked directory found in the store's directory.
type markedDir struct {
	name        string
	topicPrefix string // the topic name, or its first bytes if cut
	id          string // the mark's id: the topic's hash, then random digits
	partition   int
	mark        string
	claimed     bool // renamed to its partition's name: not to be removed
}

// parseMarkedDirName parses a name made by markedDirName.
func parseMarkedDirName(name string) (markedDir, bool) {
	if len(name) > maxDirName {
		return markedDir{}, false // markedDirName never makes one
	}
	var mark string
	switch {
	case strings.HasSuffix(name, "-"+createMark):
		mark = createMark
	case strings.HasSuffix(name, "-"+deleteMark):
		mark = deleteMark
	default:
		return markedDir{}, false
	}
	base := name[:len(name)-len(mark)-1]
	dot := len(base) - markIDDigits - 1
	if dot <= 0 || base[dot] != '.' {
		return markedDir{}, false
	}
	for _, c := range base[dot+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return markedDir{}, false
		}
	}
	// The topic part may be cut, so parse it as a partition directory name of a
	// topic that is at least a valid name.
	topic, partition, ok := parsePartitionDirName(base[:dot])
	if !ok {
		return markedDir{}, false
	}
	return markedDir{name: name, topicPrefix: topic, id: base[dot+1:], partition: partition, mark: mark}, true
}

// matches reports whether d is a marked directory of partition i of topic.
func (d *markedDir) matches(topic string, i int) bool {
	if d.partition != i {
		return false
	}
	if len(d.name) == maxDirName {
		return strings.HasPrefix(topic, d.topicPrefix) && strings.HasPrefix(d.id, topicHash(topic))
	}
	return d.topicPrefix == topic
}

// marks is the marked directories of the store's directory, as found by scanMarks.
// It is safe for concurrent use.
type marks struct {
	mu   sync.Mutex
	dirs []*markedDir
}

// scanMarks lists the marked directories of the store's directory. A marked name
// that is not a directory (a file, a symlink) is not strata's: it is logged and
// left alone.
func (s *Store) scanMarks() (*marks, error) {
	names, err := s.fsys.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	m := &marks{}
	for _, name := range names {
		d, ok := parseMarkedDirName(name)
		if !ok {
			continue
		}
		info, err := s.fsys.Lstat(filepath.Join(s.dir, name))
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			s.logger.Warn("leaving alone an entry named like a partition being created or deleted: not a directory", "path", name, "mode", info.Mode().String())
			continue
		}
		m.dirs = append(m.dirs, &d)
	}
	return m, nil
}

// claim returns the marked directory from which partition i of topic is to be
// restored, and claims it: its "-create" directory, or else its "-delete" one. It
// returns nil if there is none, and an error if more than one could be it.
func (m *marks) claim(topic string, i int) (*markedDir, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mark := range []string{createMark, deleteMark} {
		var found []*markedDir
		for _, d := range m.dirs {
			if !d.claimed && d.mark == mark && d.matches(topic, i) {
				found = append(found, d)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			found[0].claimed = true
			return found[0], nil
		default:
			for _, d := range found {
				d.claimed = true // kept: none is removed while it may be this partition's
			}
			return nil, fmt.Errorf("%d directories marked %q could be it (%s, %s, ...): move the wrong ones away", len(found), mark, found[0].name, found[1].name)
		}
	}
	return nil, nil
}

// keep claims every marked directory that could be partition i of topic, so that
// none is removed: for a partition whose directory could not be examined.
func (m *marks) keep(topic string, i int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.dirs {
		if d.matches(topic, i) {
			d.claimed = true
		}
	}
}

// settleDir makes sure the directory of partition i of topic exists under its
// name, finishing or undoing the change a crash interrupted (see above). A missing
// directory that no mark explains is a *CorruptError; a directory that is a symlink
// is refused (vfs.ErrSymlink), never followed; a file is a *CorruptError.
func (s *Store) settleDir(topic string, i int, m *marks) error {
	name := partitionDirName(topic, i)
	path := filepath.Join(s.dir, name)
	info, err := s.fsys.Lstat(path)
	switch {
	case err == nil && info.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: "open partition", Path: path, Err: vfs.ErrSymlink}
	case err == nil && !info.IsDir():
		return errs.Corruptf(path, 0, "not a directory (%v)", info.Mode())
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		m.keep(topic, i) // unknown whether a mark is this partition's: remove none
		return err
	}
	d, err := m.claim(topic, i)
	if err != nil {
		return errs.Corruptf(path, 0, "partition directory missing: %v", err)
	}
	if d == nil {
		return errs.Corruptf(path, 0, "partition directory missing: topics.json lists the partition, and no directory marked as being created or deleted explains it")
	}
	if d.mark == deleteMark {
		s.logger.Warn("undoing a topic deletion that did not commit: restoring the partition directory", "path", name, "from", d.name)
	} else {
		s.logger.Info("finishing a partition creation", "path", name, "from", d.name)
	}
	if err := s.fsys.Rename(filepath.Join(s.dir, d.name), path); err != nil {
		return err
	}
	return s.fsys.SyncDir(s.dir)
}

// removeUnclaimed removes the marked directories that no partition claimed: a
// creation that did not commit, a deletion that did.
func (s *Store) removeUnclaimed(m *marks) error {
	removed := false
	for _, d := range m.dirs {
		if d.claimed {
			continue
		}
		s.logger.Info("removing a partition directory marked for removal", "path", d.name)
		if err := s.fsys.RemoveAll(filepath.Join(s.dir, d.name)); err != nil {
			return err
		}
		removed = true
	}
	if removed {
		return s.fsys.SyncDir(s.dir)
	}
	return nil
}

// removeMarksOf removes the marked directories of partitions [from, to) of topic:
// leftovers of an earlier deletion or creation of the name that could not be
// removed then, which a new partition must not be confused with.
func (s *Store) removeMarksOf(topic string, from, to int) error {
	m, err := s.scanMarks()
	if err != nil {
		return err
	}
	for _, d := range m.dirs {
		d.claimed = true
		for i := from; i < to; i++ {
			if d.matches(topic, i) {
				d.claimed = false
			}
		}
	}
	return s.removeUnclaimed(m)
}
