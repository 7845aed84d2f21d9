package log

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// A store holds one or more brokers, each a directory (in practice a disk) with an
// id. The store's root directory is broker 0's; another broker's directory is
// "<root>/broker.<id>" by default, or any absolute path (another disk).
//
// A store with one broker is the store strata always made: its root holds neither
// meta.properties nor brokers.json, and nothing here writes either into it. A
// store with several brokers holds both in every broker directory
// (meta_properties.go, broker_list.go): meta.properties says whose directory it is,
// brokers.json lists every broker's directory, so that the store opens from any
// broker directory that survives.
//
// InitBrokers makes the directories and writes their files, each file
// crash-atomically, in an order that makes the whole crash-atomic: every other
// broker's directory (brokers.json, then meta.properties), then the root's
// brokers.json, and last the root's meta.properties, the commit point. Before it,
// loadBrokers reads the root as the one-broker store it was while the root holds
// no brokers.json (reporting the other directories' files as leftovers), and in
// the window between the root's two files as a store whose broker 0 is offline
// (ErrBrokerDirEmpty). Either way InitBrokers may be run again: it accepts the
// files an interrupted run of the same root left.
//
// loadBrokers finds the brokers from any one of their directories, and says which
// are online. A broker is offline when its directory is missing
// (ErrBrokerDirMissing: an unmounted disk), holds no meta.properties
// (ErrBrokerDirEmpty: a replaced or unformatted disk, never taken for a broker that
// lost its data), holds another's (ErrBrokerDirForeign), a damaged one
// (ErrCorrupt), is a symlink where strata made a directory (vfs.ErrSymlink), or
// cannot be read.
//
// Directories found by their default path inside the root are never followed if
// they are symlinks (checked with lstat), as partition directories are not; a
// directory the user configured may be anything the path names (a mount point, a
// symlink the user made).

// lostAndFound is the directory mkfs makes at the root of an ext2/3/4 filesystem:
// a freshly mounted disk holds it, and is still empty for a broker.
const lostAndFound = "lost+found"

// BrokerOfflineError says why a broker is offline: its id, its directory, and the
// cause. It matches ErrBrokerOffline and the cause (ErrBrokerDirMissing,
// ErrBrokerDirEmpty, ErrBrokerDirForeign, ErrCorrupt, vfs.ErrSymlink, or an I/O
// error).
type BrokerOfflineError struct {
	Broker replica.BrokerID
	Dir    string
	Err    error
}

// Error names the broker, its directory and the cause.
func (e *BrokerOfflineError) Error() string {
	return fmt.Sprintf("strata/log: broker %d (%s) is offline: %v", e.Broker, e.Dir, e.Err)
}

// Unwrap makes errors.Is match ErrBrokerOffline and the cause.
func (e *BrokerOfflineError) Unwrap() []error { return []error{ErrBrokerOffline, e.Err} }

// InitBrokers makes root a store of the given brokers, by id: each broker's
// directory ("" for the default, "<root>/broker.<id>"; broker 0's is root, so give
// it as "" or root; an absolute path is cleaned) is created, and receives
// meta.properties and brokers.json. With broker 0 alone, it checks the arguments
// and writes nothing: a one-broker store is the one Open makes.
//
// Invalid arguments (no broker 0, a negative id, a relative path, two brokers in one
// directory, a directory inside another's or inside the root but not the default)
// are an error matching ErrInvalidArgument naming every problem. A root that
// already holds a store (topics.json, recovery-points.checkpoint, meta.properties,
// partition directories) is ErrStoreExists; another broker directory that holds
// anything but lost+found is ErrBrokerDirNotEmpty, unless what it holds is what an
// interrupted InitBrokers of the same root left. The checks come before any write:
// when they fail, nothing is written. A default broker directory that is a symlink
// is refused (vfs.ErrSymlink). An I/O error leaves what a crash there would leave,
// and InitBrokers may be run again.
//
// The directories of two brokers must be different directories: one reached
// through two paths (a symlink, a bind mount) is an error matching
// ErrInvalidArgument once the directories are made (os.SameFile), or, where that
// cannot tell, when each broker's meta.properties is read back before the commit
// point.
func InitBrokers(fsys vfs.FS, root string, brokers map[replica.BrokerID]string) error {
	fail := func(err error) error { return errorf("strata/log: init brokers in %s: %w", root, err) }
	if root == "" {
		return fail(fmt.Errorf("empty root directory name: %w", ErrInvalidArgument))
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return fail(err)
	}
	dirs := map[replica.BrokerID]string{}
	for id, dir := range brokers {
		switch {
		case filepath.IsAbs(dir):
			dirs[id] = filepath.Clean(dir)
		case dir != "":
			dirs[id] = dir // refused below: not absolute
		case id == 0:
			dirs[id] = root
		default:
			dirs[id] = defaultBrokerDir(root, id)
		}
	}
	var problems []error
	if _, ok := dirs[0]; !ok {
		problems = append(problems, errors.New("no broker 0 (whose directory is the root)"))
	}
	problems = append(problems, checkBrokerDirs(root, dirs)...)
	if len(problems) > 0 {
		return fail(fmt.Errorf("%w: %w", ErrInvalidArgument, errors.Join(problems...)))
	}
	if len(dirs) == 1 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(dirs))
	if err := checkInitRoot(fsys, root); err != nil {
		return fail(err)
	}
	for _, id := range ids[1:] {
		if err := checkInitDir(fsys, root, id, dirs[id]); err != nil {
			return fail(err)
		}
	}

	list := brokerListFile{Sequence: 1, ClusterID: newKafkaUUID()}
	for _, id := range ids {
		list.Brokers = append(list.Brokers, brokerListEntry{ID: id, Dir: dirs[id], DirectoryID: newKafkaUUID()})
	}
	data, err := encodeBrokerList(list)
	if err != nil {
		return fail(err)
	}
	meta := func(b brokerListEntry) metaProperties {
		return metaProperties{nodeID: b.ID, clusterID: list.ClusterID, directoryID: b.DirectoryID}
	}
	for _, id := range ids {
		if err := vfs.MkdirAllSync(fsys, dirs[id]); err != nil {
			return fail(err)
		}
	}
	if err := checkDistinctDirs(fsys, ids, dirs); err != nil {
		return fail(err)
	}
	for _, b := range list.Brokers[1:] {
		if err := writeBrokerList(fsys, b.Dir, data); err != nil {
			return fail(err)
		}
		if err := writeMetaProperties(fsys, b.Dir, meta(b)); err != nil {
			return fail(err)
		}
	}
	// Read back every identity before the commit point: two brokers whose
	// directories are one directory that checkDistinctDirs could not tell would
	// find the last one's.
	for _, b := range list.Brokers[1:] {
		got, err := readMetaProperties(fsys, b.Dir)
		if err != nil {
			return fail(err)
		}
		if got != meta(b) {
			return fail(fmt.Errorf("broker %d's directory %s holds broker %d's meta.properties: two brokers were given one directory", b.ID, b.Dir, got.nodeID))
		}
	}
	switch _, err := fsys.Lstat(filepath.Join(root, metaPropertiesFileName)); {
	case err == nil:
		return fail(fmt.Errorf("the root %s holds a meta.properties it did not hold before: another broker's directory is the root", root))
	case !errors.Is(err, fs.ErrNotExist):
		return fail(err)
	}
	if err := writeBrokerList(fsys, root, data); err != nil {
		return fail(err)
	}
	if err := writeMetaProperties(fsys, root, meta(list.Brokers[0])); err != nil {
		return fail(err)
	}
	return nil
}

// checkDistinctDirs returns an error if two of the brokers' directories, which
// exist, are one directory reached through two paths (a symlink, a bind mount), as
// far as os.SameFile can tell: on the OS filesystem.
func checkDistinctDirs(fsys vfs.FS, ids []replica.BrokerID, dirs map[replica.BrokerID]string) error {
	infos := make([]fs.FileInfo, len(ids))
	for i, id := range ids {
		info, err := fsys.Stat(dirs[id])
		if err != nil {
			return err
		}
		infos[i] = info
		for j := range i {
			if os.SameFile(infos[j], info) {
				return fmt.Errorf("%w: brokers %d and %d: %s and %s are one directory", ErrInvalidArgument, ids[j], id, dirs[ids[j]], dirs[id])
			}
		}
	}
	return nil
}

// checkInitRoot refuses a root that holds a store: topics.json and its temporary
// file, recovery-points.checkpoint, meta.properties, or partition directories
// (marked or not). A brokers.json is accepted only as what an interrupted
// InitBrokers left: a valid list of this root, with no meta.properties beside it.
// A missing root is fine.
func checkInitRoot(fsys vfs.FS, root string) error {
	names, err := fsys.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, name := range names {
		switch name {
		case metadataFileName, metadataFileName + ".tmp", recoveryPointsFileName, metaPropertiesFileName, producerIDFileName:
			return fmt.Errorf("%w: %s holds %s", ErrStoreExists, root, name)
		case brokerListFileName:
			if !leftBrokerList(fsys, root, root) {
				return fmt.Errorf("%w: %s holds a brokers.json that is not what an interrupted InitBrokers of it leaves", ErrStoreExists, root)
			}
			continue
		}
		_, _, partitionDir := parsePartitionDirName(name)
		_, marked := parseMarkedDirName(name)
		if !partitionDir && !marked {
			continue
		}
		info, err := fsys.Lstat(filepath.Join(root, name))
		if err != nil {
			return err
		}
		if info.IsDir() {
			return fmt.Errorf("%w: %s holds partition directory %s", ErrStoreExists, root, name)
		}
	}
	return nil
}

// checkInitDir refuses the directory of broker id, other than the root, if it is
// a symlink where strata would make a directory, not a directory, or holds anything
// but lost+found and what an interrupted InitBrokers of root left there (its files
// and their temporary files, with a valid brokers.json of root beside any
// meta.properties). A missing directory is fine.
func checkInitDir(fsys vfs.FS, root string, id replica.BrokerID, dir string) error {
	stat := fsys.Stat
	if dir == defaultBrokerDir(root, id) {
		stat = fsys.Lstat
	}
	info, err := stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: "init broker directory", Path: dir, Err: vfs.ErrSymlink}
	case !info.IsDir():
		return fmt.Errorf("%w: broker %d's directory %s is not a directory (%v)", ErrBrokerDirNotEmpty, id, dir, info.Mode())
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return err
	}
	hasList, hasMeta := false, false
	for _, name := range names {
		switch name {
		case lostAndFound, brokerListFileName + ".tmp", metaPropertiesFileName + ".tmp":
		case brokerListFileName:
			hasList = true
		case metaPropertiesFileName:
			hasMeta = true
		default:
			return fmt.Errorf("%w: broker %d's directory %s holds %s", ErrBrokerDirNotEmpty, id, dir, name)
		}
	}
	if (hasList || hasMeta) && !leftBrokerList(fsys, dir, root) {
		return fmt.Errorf("%w: broker %d's directory %s holds a broker directory's files, not those an interrupted InitBrokers of %s leaves", ErrBrokerDirNotEmpty, id, dir, root)
	}
	return nil
}

// leftBrokerList reports whether dir holds a valid brokers.json of a store whose
// root is root: what InitBrokers of root writes before the commit point.
func leftBrokerList(fsys vfs.FS, dir, root string) bool {
	l, err := readBrokerList(fsys, dir)
	return err == nil && l.root() == root
}

// brokerSet is what loadBrokers found: the store's brokers, each online or not.
type brokerSet struct {
	// legacy is true for a store without meta.properties or brokers.json: one
	// broker, 0, whose directory is the root. Nothing was written.
	legacy bool
	// clusterID is the store's id (cluster.id); "" when legacy.
	clusterID string
	// sequence is that of the brokers.json used; 0 when legacy.
	sequence int64
	// root is broker 0's directory.
	root string
	// brokers are sorted by id.
	brokers []brokerDir
	// leftovers, in a legacy store, are the default broker directories in the root
	// that hold a broker's files: what an InitBrokers interrupted before its commit
	// point left (it accepts them when run again), or the brokers of a store whose
	// root lost both its meta.properties and its brokers.json (then open the store
	// from one of them). They are neither used nor removed; worth a warning.
	leftovers []string
}

// brokerDir is one broker of a brokerSet.
type brokerDir struct {
	id          replica.BrokerID
	dir         string
	directoryID string
	// offline is nil for an online broker.
	offline *BrokerOfflineError
	// listSequence is the sequence of the broker's own copy of brokers.json: the
	// set's if the copy is current, lower if stale, 0 if it has no valid copy of the
	// store's (listErr says why: missing, damaged, another store's).
	listSequence int64
	listErr      error
}

// listCopy is the outcome of reading one directory's brokers.json.
type listCopy struct {
	list brokerListFile
	err  error
}

// loadBrokers finds the brokers of the store that dir belongs to, and which of
// them are online; dir is the root or any other broker's directory. It writes
// nothing.
//
// A directory without meta.properties or brokers.json is a legacy store: one
// broker, dir (default broker directories in it holding a broker's files are
// reported as leftovers, not used: so that an InitBrokers interrupted before its
// commit point leaves the store it found). Otherwise the store's id is dir's
// cluster.id (or, if dir's meta.properties cannot be read, the one its reachable
// copies of brokers.json agree on), and the list is the valid copy of that store
// with the greatest sequence among those in dir, in the default broker
// directories inside dir, and in every directory a chosen copy lists, until no new
// directory is listed. Of copies with the same sequence, dir's is taken, else the
// first by path. Stale, damaged and foreign copies are skipped (and reported per
// broker).
//
// loadBrokers fails if dir is not a directory, if no copy of the list can be
// found, or if dir is not where that list places it (ErrBrokerDirForeign: a store
// moved, or opened through another path). Every broker's own problem makes it
// offline instead.
func loadBrokers(fsys vfs.FS, dir string) (brokerSet, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return brokerSet{}, err
	}
	info, err := fsys.Stat(dir)
	if err != nil {
		return brokerSet{}, err
	}
	if !info.IsDir() {
		return brokerSet{}, &fs.PathError{Op: "open store", Path: dir, Err: vfs.ErrNotDir}
	}
	own, ownErr := readMetaProperties(fsys, dir)
	copies := map[string]listCopy{}
	// read reads d's copy of brokers.json, unless read before; a directory strata
	// made inside the store (noFollow) is not read through if it is a symlink.
	read := func(d string, noFollow bool) bool {
		if _, ok := copies[d]; ok {
			return false
		}
		if noFollow {
			if info, err := fsys.Lstat(d); err == nil && info.Mode()&fs.ModeSymlink != 0 {
				copies[d] = listCopy{err: &fs.PathError{Op: "open broker directory", Path: d, Err: vfs.ErrSymlink}}
				return true
			}
		}
		l, err := readBrokerList(fsys, d)
		copies[d] = listCopy{list: l, err: err}
		return true
	}
	read(dir, false)
	defaults, err := defaultBrokerDirs(fsys, dir)
	if err != nil {
		return brokerSet{}, err
	}
	if errors.Is(ownErr, fs.ErrNotExist) && errors.Is(copies[dir].err, fs.ErrNotExist) {
		set := brokerSet{legacy: true, root: dir, brokers: []brokerDir{{id: 0, dir: dir}}}
		for _, d := range defaults {
			for _, name := range []string{metaPropertiesFileName, brokerListFileName} {
				if _, err := fsys.Lstat(filepath.Join(d, name)); !errors.Is(err, fs.ErrNotExist) {
					set.leftovers = append(set.leftovers, d)
					break
				}
			}
		}
		return set, nil
	}
	for _, d := range defaults {
		read(d, false) // not a symlink: defaultBrokerDirs checked
	}

	clusterID := own.clusterID
	if ownErr != nil {
		if clusterID, err = agreedClusterID(copies); err != nil {
			return brokerSet{}, fmt.Errorf("%s: meta.properties unreadable (%w), and %w", dir, ownErr, err)
		}
	}
	var best brokerListFile
	for {
		best = bestCopy(copies, clusterID, dir)
		if best.Sequence == 0 {
			return brokerSet{}, noListError(dir, clusterID, copies)
		}
		grown := false
		for _, b := range best.Brokers {
			grown = read(b.Dir, b.ID != 0 && b.Dir == defaultBrokerDir(best.root(), b.ID)) || grown
		}
		if !grown {
			break
		}
	}
	if ownErr == nil {
		if b, ok := best.broker(own.nodeID); !ok || b.Dir != dir {
			where := "does not list it"
			if ok {
				where = "places it in " + b.Dir
			}
			return brokerSet{}, fmt.Errorf("%w: %s is broker %d's directory (meta.properties), and the store's brokers.json (sequence %d) %s: the store was moved, or opened through another path", ErrBrokerDirForeign, dir, own.nodeID, best.Sequence, where)
		}
	} else if !slices.ContainsFunc(best.Brokers, func(b brokerListEntry) bool { return b.Dir == dir }) {
		return brokerSet{}, fmt.Errorf("%w: %s is no broker's directory in the store's brokers.json (sequence %d), and its meta.properties is unreadable (%w)", ErrBrokerDirForeign, dir, best.Sequence, ownErr)
	}

	set := brokerSet{clusterID: clusterID, sequence: best.Sequence, root: best.root()}
	for _, b := range best.Brokers {
		d := brokerDir{id: b.ID, dir: b.Dir, directoryID: b.DirectoryID}
		if err := brokerDirStatus(fsys, &best, b); err != nil {
			d.offline = &BrokerOfflineError{Broker: b.ID, Dir: b.Dir, Err: err}
		}
		switch c := copies[b.Dir]; {
		case c.err != nil:
			d.listErr = c.err
		case c.list.ClusterID != clusterID:
			d.listErr = fmt.Errorf("%w: its brokers.json is of store %s, not %s", ErrBrokerDirForeign, c.list.ClusterID, clusterID)
		default:
			d.listSequence = c.list.Sequence
		}
		set.brokers = append(set.brokers, d)
	}
	return set, nil
}

// defaultBrokerDirs returns the default broker directories inside dir: entries
// named "broker.<id>" that are directories, not symlinks.
func defaultBrokerDirs(fsys vfs.FS, dir string) ([]string, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, name := range names {
		if _, ok := parseDefaultBrokerDirName(name); !ok {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := fsys.Lstat(path)
		if err != nil {
			return nil, err
		}
		if info.IsDir() && info.Mode()&fs.ModeSymlink == 0 {
			dirs = append(dirs, path)
		}
	}
	return dirs, nil
}

// agreedClusterID returns the store id of the valid copies of brokers.json, which
// must agree.
func agreedClusterID(copies map[string]listCopy) (string, error) {
	ids := map[string]bool{}
	for _, c := range copies {
		if c.err == nil {
			ids[c.list.ClusterID] = true
		}
	}
	switch len(ids) {
	case 1:
		for id := range ids {
			return id, nil
		}
	case 0:
		return "", errs.Corruptf(brokerListFileName, 0, "no valid copy of brokers.json found to tell the store's brokers: open the store from another broker's directory")
	}
	return "", fmt.Errorf("%w: the copies of brokers.json found are of %d stores (%v)", ErrBrokerDirForeign, len(ids), slices.Sorted(maps.Keys(ids)))
}

// bestCopy returns the valid copy of store clusterID with the greatest sequence
// (zero if none): of equal sequences, that in first, else the first by path.
func bestCopy(copies map[string]listCopy, clusterID, first string) brokerListFile {
	var best brokerListFile
	paths := slices.Sorted(maps.Keys(copies))
	if i := slices.Index(paths, first); i > 0 {
		paths = append(append([]string{first}, paths[:i]...), paths[i+1:]...)
	}
	for _, path := range paths {
		c := copies[path]
		if c.err == nil && c.list.ClusterID == clusterID && c.list.Sequence > best.Sequence {
			best = c.list
		}
	}
	return best
}

// noListError explains why no copy of brokers.json of store clusterID was found
// from dir.
func noListError(dir, clusterID string, copies map[string]listCopy) error {
	var found []error
	for _, path := range slices.Sorted(maps.Keys(copies)) {
		switch c := copies[path]; {
		case c.err != nil:
			found = append(found, c.err)
		default:
			found = append(found, fmt.Errorf("%s: brokers.json of store %s", path, c.list.ClusterID))
		}
	}
	return errs.Corruptf(filepath.Join(dir, brokerListFileName), 0,
		"no valid brokers.json of store %s found, so the store's brokers are unknown: open the store from another broker's directory (%v)", clusterID, errors.Join(found...))
}

// brokerDirStatus returns nil if broker b's directory is online in the store of
// list, else why not.
func brokerDirStatus(fsys vfs.FS, list *brokerListFile, b brokerListEntry) error {
	stat := fsys.Stat
	if b.ID != 0 && b.Dir == defaultBrokerDir(list.root(), b.ID) {
		stat = fsys.Lstat // strata made it inside the store: never followed
	}
	info, err := stat(b.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", ErrBrokerDirMissing, err)
	case err != nil:
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: "open broker directory", Path: b.Dir, Err: vfs.ErrSymlink}
	case !info.IsDir():
		return errs.Corruptf(b.Dir, 0, "broker directory is not a directory (%v)", info.Mode())
	}
	meta, err := readMetaProperties(fsys, b.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		names, err := fsys.ReadDir(b.Dir)
		if err != nil {
			return err
		}
		names = slices.DeleteFunc(names, func(name string) bool { return name == lostAndFound })
		if len(names) == 0 {
			return fmt.Errorf("%w: %s is empty (a new disk?)", ErrBrokerDirEmpty, b.Dir)
		}
		return fmt.Errorf("%w: %s holds %d entries but no meta.properties: not formatted as a broker directory, or it lost the file (or an InitBrokers did not finish: run it again)", ErrBrokerDirEmpty, b.Dir, len(names))
	}
	if err != nil {
		return err
	}
	switch {
	case meta.clusterID != list.ClusterID:
		return fmt.Errorf("%w: %s belongs to store %s (cluster.id), not %s", ErrBrokerDirForeign, b.Dir, meta.clusterID, list.ClusterID)
	case meta.nodeID != b.ID:
		return fmt.Errorf("%w: %s is broker %d's directory (node.id), not broker %d's", ErrBrokerDirForeign, b.Dir, meta.nodeID, b.ID)
	case meta.directoryID != b.DirectoryID:
		return fmt.Errorf("%w: %s has directory.id %s, the store knows broker %d's directory as %s: formatted again, or another directory of this broker", ErrBrokerDirForeign, b.Dir, meta.directoryID, b.ID, b.DirectoryID)
	}
	return nil
}
