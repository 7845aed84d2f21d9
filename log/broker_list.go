package log

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// Every broker directory of a store with several brokers holds a copy of
// brokers.json, the list of the store's brokers, so that the store can be found
// from any of them when another's disk is lost. It is JSON (indented, ending in a
// newline) followed by the checksum line of topics.json (internal/crcline):
//
//	{
//	  "version": 1,
//	  "sequence": 1,
//	  "clusterId": "Qn0hfwdvRHmNKkOTn0D8Vw",
//	  "brokers": [
//	    {"id": 0, "dir": "/data/strata", "directoryId": "9yb2kGvKTXeHi1KqWn0sEw"},
//	    {"id": 1, "dir": "/data/strata/broker.1", "directoryId": "0-SRq3OqSwmWqDlb2H11Hg"},
//	    {"id": 2, "dir": "/mnt/disk2/strata", "directoryId": "u8Wd3F2bQ8C9mVf6lJbL5A"}
//	  ]
//	}
//	crc32c 5e1f0a3b
//
// (compacted for reading, its CRC illustrative: FORMAT.md has the exact bytes).
// sequence grows by one at every change of the list; a reader takes, among the
// copies it can reach, the valid one of its cluster with the greatest sequence.
// clusterId and each directoryId are those of the brokers' meta.properties.
// Brokers are sorted by id; broker 0's directory is the store's root; dirs are
// absolute and clean, and none lies inside another's, except the default
// directories of other brokers, "<root>/broker.<id>". Unknown keys, and a file
// without its checksum line, are corrupt: there is no earlier version.

// Format: brokers.json.
const (
	brokerListFileName = "brokers.json"
	brokerListVersion  = 1
	// maxBrokerListBytes bounds the size of brokers.json that is read: some
	// thousands of brokers with long paths.
	maxBrokerListBytes = 1 << 20
	// defaultBrokerDirPrefix names the default directory of broker n > 0 inside the
	// root, "broker.<n>". Not "broker-<n>": that is the directory of partition n of
	// a topic named "broker".
	defaultBrokerDirPrefix = "broker."
)

// brokerListFile is brokers.json.
type brokerListFile struct {
	Version   int               `json:"version"`
	Sequence  int64             `json:"sequence"`
	ClusterID string            `json:"clusterId"`
	Brokers   []brokerListEntry `json:"brokers"`
}

// brokerListEntry is one broker in brokers.json.
type brokerListEntry struct {
	ID          replica.BrokerID `json:"id"`
	Dir         string           `json:"dir"`
	DirectoryID string           `json:"directoryId"`
}

// root returns the store's root directory: broker 0's. The list is checked.
func (l *brokerListFile) root() string { return l.Brokers[0].Dir }

// broker returns the entry of broker id.
func (l *brokerListFile) broker(id replica.BrokerID) (brokerListEntry, bool) {
	i, found := slices.BinarySearchFunc(l.Brokers, id, func(e brokerListEntry, id replica.BrokerID) int {
		return cmp.Compare(e.ID, id)
	})
	if !found {
		return brokerListEntry{}, false
	}
	return l.Brokers[i], true
}

// encodeBrokerList returns the bytes of brokers.json for l.
func encodeBrokerList(l brokerListFile) ([]byte, error) {
	l.Version = brokerListVersion
	l.Brokers = slices.Clone(l.Brokers)
	slices.SortFunc(l.Brokers, func(a, b brokerListEntry) int { return cmp.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return crcline.Append(append(data, '\n')), nil
}

// decodeBrokerList decodes and checks the bytes of brokers.json (read from path, for
// errors). Any failure is a *CorruptError.
func decodeBrokerList(path string, data []byte) (brokerListFile, error) {
	body, sealed, err := crcline.Split(path, data)
	if err != nil {
		return brokerListFile{}, err
	}
	if !sealed {
		return brokerListFile{}, errs.Corruptf(path, int64(len(data)), "no checksum line")
	}
	var l brokerListFile
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return brokerListFile{}, errs.Corruptf(path, dec.InputOffset(), "%v", err)
	}
	if rest := body[dec.InputOffset():]; len(bytes.TrimSpace(rest)) > 0 {
		return brokerListFile{}, errs.Corruptf(path, dec.InputOffset(), "%d bytes after the JSON", len(rest))
	}
	if l.Version != brokerListVersion {
		return brokerListFile{}, errs.Corruptf(path, 0, "version %d, this code reads version %d", l.Version, brokerListVersion)
	}
	if err := l.check(); err != nil {
		return brokerListFile{}, errs.Corruptf(path, 0, "%v", err)
	}
	return l, nil
}

// check verifies a decoded list: sequence, ids, order and directories.
func (l *brokerListFile) check() error {
	if l.Sequence < 1 {
		return fmt.Errorf("sequence %d, not from 1", l.Sequence)
	}
	if !validKafkaUUID(l.ClusterID) {
		return fmt.Errorf("clusterId %q is not a Kafka Uuid", l.ClusterID)
	}
	if len(l.Brokers) == 0 || l.Brokers[0].ID != 0 {
		return errors.New("no broker 0 first")
	}
	dirs := map[replica.BrokerID]string{}
	directoryIDs := map[string]bool{}
	for i, b := range l.Brokers {
		if i > 0 && b.ID <= l.Brokers[i-1].ID {
			return fmt.Errorf("broker %d after broker %d: ids not in increasing order", b.ID, l.Brokers[i-1].ID)
		}
		if !validKafkaUUID(b.DirectoryID) {
			return fmt.Errorf("broker %d: directoryId %q is not a Kafka Uuid", b.ID, b.DirectoryID)
		}
		if directoryIDs[b.DirectoryID] {
			return fmt.Errorf("broker %d: directoryId %s given twice", b.ID, b.DirectoryID)
		}
		directoryIDs[b.DirectoryID] = true
		dirs[b.ID] = b.Dir
	}
	return errors.Join(checkBrokerDirs(l.root(), dirs)...)
}

// defaultBrokerDir returns the default directory of broker id in root.
func defaultBrokerDir(root string, id replica.BrokerID) string {
	return filepath.Join(root, defaultBrokerDirPrefix+strconv.Itoa(int(id)))
}

// parseDefaultBrokerDirName returns the broker whose default directory has name,
// "broker.<id>" with an id from 1 (broker 0's directory is the root), spelled as
// defaultBrokerDir spells it.
func parseDefaultBrokerDirName(name string) (replica.BrokerID, bool) {
	digits, ok := strings.CutPrefix(name, defaultBrokerDirPrefix)
	if !ok {
		return 0, false
	}
	id, ok := parseBrokerID(digits)
	return id, ok && id > 0
}

// checkBrokerDirs returns every problem of a store's broker directories, given by
// id (ids from 0 to math.MaxInt32, broker 0's directory the root): each absolute,
// clean and without NUL; no two the same; none inside another, except that the
// default directory of a broker lies in the root; and none inside the root but
// that default directory (a directory there would mix with the partition
// directories).
func checkBrokerDirs(root string, dirs map[replica.BrokerID]string) []error {
	var problems []error
	ids := slices.Sorted(maps.Keys(dirs))
	for _, id := range ids {
		dir := dirs[id]
		switch {
		case id < 0:
			problems = append(problems, fmt.Errorf("broker id %d: not from 0 to %d", id, math.MaxInt32))
		case !filepath.IsAbs(dir) || filepath.Clean(dir) != dir || strings.IndexByte(dir, 0) >= 0:
			problems = append(problems, fmt.Errorf("broker %d: directory %q is not an absolute, clean path", id, dir))
		case id == 0 && dir != root:
			problems = append(problems, fmt.Errorf("broker 0: directory %q is not the store's root %q", dir, root))
		case id != 0 && within(root, dir) && dir != defaultBrokerDir(root, id):
			problems = append(problems, fmt.Errorf("broker %d: directory %q lies inside the store's root, where only its default directory %q may", id, dir, defaultBrokerDir(root, id)))
		}
	}
	for i, a := range ids {
		for _, b := range ids[i+1:] {
			if dirs[a] == dirs[b] {
				problems = append(problems, fmt.Errorf("brokers %d and %d: the same directory %q", a, b, dirs[a]))
			}
		}
		for _, b := range ids {
			if b != 0 && b != a && within(dirs[b], dirs[a]) {
				problems = append(problems, fmt.Errorf("broker %d: directory %q lies inside broker %d's %q", a, dirs[a], b, dirs[b]))
			}
		}
	}
	return problems
}

// within reports whether path lies strictly inside dir (lexically: both clean).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// readBrokerList reads and checks dir's brokers.json. A missing file is the
// filesystem's error (errors.Is(err, fs.ErrNotExist)); a damaged or oversized one is
// a *CorruptError; a symlink is refused (vfs.ErrSymlink).
func readBrokerList(fsys vfs.FS, dir string) (brokerListFile, error) {
	path := filepath.Join(dir, brokerListFileName)
	data, err := keyvalue.ReadFile(fsys, path, maxBrokerListBytes)
	if err != nil {
		return brokerListFile{}, err
	}
	return decodeBrokerList(path, data)
}

// writeBrokerList writes the bytes of brokers.json into dir crash-atomically.
func writeBrokerList(fsys vfs.FS, dir string, data []byte) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, brokerListFileName), data)
}
