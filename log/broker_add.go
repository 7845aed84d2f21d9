package log

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// AddBroker adds a broker to the store whose directory (or any broker's) is dir,
// which must not be open: its directory is dir (absolute) or, if empty, the
// default broker.<id> inside the root; its id is one above the greatest. A store
// open in any process is ErrLocked. It returns
// the new broker's id. The broker then holds no replica until topics are created
// with more replicas, or ReassignPartition moves some to it. A one-broker store
// becomes a store of two this way only through InitBrokers, before it holds
// topics: AddBroker refuses it (ErrInvalidArgument).
//
// Order, for crash consistency: the new directory gets its meta.properties and the
// new list first, then every other online broker directory gets the new list (each
// copy names the brokers of a sequence, and the greatest wins): a crash leaves the
// broker added, or not, never half; if not, AddBroker may be run again, and takes
// over what the interrupted one left in the new directory.
func AddBroker(fsys vfs.FS, dir, brokerDir string) (replica.BrokerID, error) {
	fail := func(err error) (replica.BrokerID, error) {
		return 0, errorf("strata/log: add broker to %s: %w", dir, err)
	}
	set, err := loadBrokers(fsys, dir)
	if err != nil {
		return fail(err)
	}
	if set.legacy {
		return fail(fmt.Errorf("a one-broker store: %w (InitBrokers makes a store of several)", ErrInvalidArgument))
	}
	for _, b := range set.brokers {
		if b.offline != nil {
			continue
		}
		lock, err := fsys.Lock(filepath.Join(b.dir, lockFileName))
		if errors.Is(err, vfs.ErrLocked) {
			return fail(fmt.Errorf("%w (%w)", ErrLocked, err))
		}
		if err != nil {
			return fail(err)
		}
		defer lock.Close()
	}
	var list brokerListFile
	list.Sequence, list.ClusterID = set.sequence+1, set.clusterID
	id := replica.BrokerID(0)
	for _, b := range set.brokers {
		list.Brokers = append(list.Brokers, brokerListEntry{ID: b.id, Dir: b.dir, DirectoryID: b.directoryID})
		id = max(id, b.id+1)
	}
	switch {
	case brokerDir == "":
		brokerDir = defaultBrokerDir(set.root, id)
	case !filepath.IsAbs(brokerDir):
		return fail(fmt.Errorf("broker directory %q is not absolute: %w", brokerDir, ErrInvalidArgument))
	}
	brokerDir = filepath.Clean(brokerDir)
	if slices.ContainsFunc(list.Brokers, func(b brokerListEntry) bool { return b.Dir == brokerDir }) {
		return fail(fmt.Errorf("%s is broker directory already: %w", brokerDir, ErrInvalidArgument))
	}
	if err := checkInitDir(fsys, set.root, id, brokerDir); err != nil && !leftByAddBroker(fsys, brokerDir, set.clusterID, id) {
		return fail(err)
	}
	entry := brokerListEntry{ID: id, Dir: brokerDir, DirectoryID: newKafkaUUID()}
	list.Brokers = append(list.Brokers, entry)
	data, err := encodeBrokerList(list)
	if err != nil {
		return fail(err)
	}
	if err := vfs.MkdirAllSync(fsys, brokerDir); err != nil {
		return fail(err)
	}
	if err := writeMetaProperties(fsys, brokerDir, metaProperties{nodeID: id, clusterID: list.ClusterID, directoryID: entry.DirectoryID}); err != nil {
		return fail(err)
	}
	if err := writeBrokerList(fsys, brokerDir, data); err != nil {
		return fail(err)
	}
	var failures []error
	for _, b := range set.brokers {
		if b.offline != nil {
			continue
		}
		if err := writeBrokerList(fsys, b.dir, data); err != nil {
			failures = append(failures, err)
		}
	}
	if len(failures) > 0 {
		return id, errorf("strata/log: add broker to %s: broker %d added, but not every copy of brokers.json was updated (the newest is used): %w", dir, id, errors.Join(failures...))
	}
	return id, nil
}

// leftByAddBroker reports whether dir holds what an AddBroker of broker id to
// store clusterID leaves when interrupted between the new directory's
// meta.properties and its brokers.json: that meta.properties (and maybe the
// temporary files), which no copy of the list names yet. AddBroker run again takes
// it over.
func leftByAddBroker(fsys vfs.FS, dir, clusterID string, id replica.BrokerID) bool {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, name := range names {
		switch name {
		case lostAndFound, metaPropertiesFileName, metaPropertiesFileName + ".tmp", brokerListFileName + ".tmp":
		default:
			return false
		}
	}
	m, err := readMetaProperties(fsys, dir)
	return err == nil && m.clusterID == clusterID && m.nodeID == id
}
