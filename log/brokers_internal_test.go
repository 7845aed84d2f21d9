package log

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// The store most tests use: broker 0 in /s, broker 1 in its default directory
// /s/broker.1, broker 2 on another disk, /disk2/strata.
const (
	testRoot  = "/s"
	testDir1  = "/s/broker.1"
	testDisk2 = "/disk2/strata"
)

var testBrokers = map[replica.BrokerID]string{0: "", 1: "", 2: testDisk2}

func initTestBrokers(t *testing.T) *vfs.MemFS {
	t.Helper()
	fsys := vfs.NewMem()
	require.NoError(t, InitBrokers(fsys, testRoot, testBrokers))
	return fsys
}

// fileTree returns every directory (with a trailing slash) and file (with its
// content) under dir.
func fileTree(t *testing.T, fsys vfs.FS, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	var walk func(dir string)
	walk = func(dir string) {
		names, err := fsys.ReadDir(dir)
		require.NoError(t, err)
		for _, name := range names {
			path := filepath.Join(dir, name)
			info, err := fsys.Lstat(path)
			require.NoError(t, err)
			switch {
			case info.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(path)
				require.NoError(t, err)
				tree[path] = "-> " + target
			case info.IsDir():
				tree[path+"/"] = ""
				walk(path)
			default:
				data, err := vfs.ReadFile(fsys, path)
				require.NoError(t, err)
				tree[path] = string(data)
			}
		}
	}
	walk(dir)
	return tree
}

// loadTestBrokers loads the brokers from dir, checking the invariants of every
// brokerSet.
func loadTestBrokers(t *testing.T, fsys vfs.FS, dir string) brokerSet {
	t.Helper()
	set, err := loadBrokers(fsys, dir)
	require.NoError(t, err)
	require.NotEmpty(t, set.brokers)
	require.Equal(t, replica.BrokerID(0), set.brokers[0].id)
	require.Equal(t, set.root, set.brokers[0].dir)
	for i, b := range set.brokers {
		if i > 0 {
			require.Less(t, set.brokers[i-1].id, b.id)
		}
		if b.offline != nil {
			require.ErrorIs(t, b.offline, ErrBrokerOffline)
			require.Equal(t, b.id, b.offline.Broker)
			require.Equal(t, b.dir, b.offline.Dir)
		}
		require.LessOrEqual(t, b.listSequence, set.sequence)
	}
	return set
}

// status returns, by broker id, nil for an online broker, else why it is offline.
func status(set brokerSet) map[replica.BrokerID]error {
	out := map[replica.BrokerID]error{}
	for _, b := range set.brokers {
		out[b.id] = nil
		if b.offline != nil {
			out[b.id] = b.offline
		}
	}
	return out
}

func requireAllOnline(t *testing.T, set brokerSet, ids ...replica.BrokerID) {
	t.Helper()
	want := map[replica.BrokerID]error{}
	for _, id := range ids {
		want[id] = nil
	}
	require.Equal(t, want, status(set))
}

// InitBrokers makes every directory with its identity and the same list; they
// load back, from the root, all online.
func TestInitBrokersRoundTrip(t *testing.T) {
	fsys := initTestBrokers(t)
	set := loadTestBrokers(t, fsys, testRoot)
	require.False(t, set.legacy)
	require.Equal(t, int64(1), set.sequence)
	require.True(t, validKafkaUUID(set.clusterID))
	require.Equal(t, testRoot, set.root)
	requireAllOnline(t, set, 0, 1, 2)

	list, err := vfs.ReadFile(fsys, filepath.Join(testRoot, brokerListFileName))
	require.NoError(t, err)
	directoryIDs := map[string]bool{}
	for i, b := range set.brokers {
		require.Equal(t, []string{testRoot, testDir1, testDisk2}[i], b.dir)
		require.Equal(t, int64(1), b.listSequence)
		require.NoError(t, b.listErr)
		meta, err := readMetaProperties(fsys, b.dir)
		require.NoError(t, err)
		require.Equal(t, metaProperties{nodeID: b.id, clusterID: set.clusterID, directoryID: b.directoryID}, meta)
		directoryIDs[b.directoryID] = true
		copy, err := vfs.ReadFile(fsys, filepath.Join(b.dir, brokerListFileName))
		require.NoError(t, err)
		require.Equal(t, string(list), string(copy), "every copy holds the same bytes")
	}
	require.Len(t, directoryIDs, 3)
	require.Equal(t, map[string]string{
		"/disk2/":                       "",
		"/disk2/strata/":                "",
		"/disk2/strata/brokers.json":    string(list),
		"/disk2/strata/meta.properties": string(encodeMetaProperties(metaProperties{2, set.clusterID, set.brokers[2].directoryID})),
		"/s/":                           "",
		"/s/brokers.json":               string(list),
		"/s/meta.properties":            string(encodeMetaProperties(metaProperties{0, set.clusterID, set.brokers[0].directoryID})),
		"/s/broker.1/":                  "",
		"/s/broker.1/brokers.json":      string(list),
		"/s/broker.1/meta.properties":   string(encodeMetaProperties(metaProperties{1, set.clusterID, set.brokers[1].directoryID})),
	}, fileTree(t, fsys, "/"), "nothing else, no temporary file")

	// Two stores have two ids.
	other := initTestBrokers(t)
	require.NotEqual(t, set.clusterID, loadTestBrokers(t, other, testRoot).clusterID)
}

// With broker 0 alone, a store is today's: InitBrokers writes nothing.
func TestInitBrokersOneBrokerWritesNothing(t *testing.T) {
	fsys := vfs.NewMem()
	require.NoError(t, InitBrokers(fsys, testRoot, map[replica.BrokerID]string{0: ""}))
	require.NoError(t, InitBrokers(fsys, testRoot, map[replica.BrokerID]string{0: testRoot + "/"}))
	require.Empty(t, fileTree(t, fsys, "/"))
}

// Invalid arguments name every problem and change nothing.
func TestInitBrokersInvalid(t *testing.T) {
	tests := map[string]map[replica.BrokerID]string{
		"no broker 0":              {1: "", 2: ""},
		"broker 0 elsewhere":       {0: "/elsewhere", 1: ""},
		"negative id":              {0: "", -1: "/d"},
		"relative path":            {0: "", 1: "disk1"},
		"two brokers, one dir":     {0: "", 1: "/d", 2: "/d"},
		"the root twice":           {0: "", 1: testRoot},
		"nested":                   {0: "", 1: "/d", 2: "/d/e"},
		"inside the root":          {0: "", 1: testRoot + "/disk1"},
		"another's default":        {0: "", 1: testRoot + "/broker.2"},
		"the root inside a broker": {0: "", 1: "/"},
	}
	for name, brokers := range tests {
		t.Run(name, func(t *testing.T) {
			fsys := vfs.NewMem()
			err := InitBrokers(fsys, testRoot, brokers)
			require.ErrorIs(t, err, ErrInvalidArgument)
			require.Empty(t, fileTree(t, fsys, "/"))
		})
	}
	err := InitBrokers(vfs.NewMem(), "", testBrokers)
	require.ErrorIs(t, err, ErrInvalidArgument)

	// Every problem is named at once.
	err = InitBrokers(vfs.NewMem(), testRoot, map[replica.BrokerID]string{1: "rel", 2: "/d", 3: "/d"})
	require.ErrorContains(t, err, "no broker 0")
	require.ErrorContains(t, err, `"rel" is not an absolute`)
	require.ErrorContains(t, err, "brokers 2 and 3: the same directory")
}

// InitBrokers refuses a root that holds a store, and another broker directory
// that holds anything, before writing anything.
func TestInitBrokersRefuses(t *testing.T) {
	storeWith := func(t *testing.T, setup func(fsys vfs.FS)) vfs.FS {
		fsys := vfs.NewMem()
		setup(fsys)
		return fsys
	}
	write := func(fsys vfs.FS, path, data string) {
		require.NoError(t, vfs.MkdirAllSync(fsys, filepath.Dir(path)))
		require.NoError(t, vfs.WriteFileAtomic(fsys, path, []byte(data)))
	}
	tests := map[string]struct {
		setup func(fsys vfs.FS)
		want  error
	}{
		"an opened store": {func(fsys vfs.FS) {
			s, err := Open(testRoot, &Options{FS: fsys})
			require.NoError(t, err)
			require.NoError(t, s.Close())
		}, ErrStoreExists},
		"a partition directory": {func(fsys vfs.FS) { require.NoError(t, fsys.MkdirAll(testRoot+"/orders-0", 0o755)) }, ErrStoreExists},
		"a marked directory": {func(fsys vfs.FS) {
			require.NoError(t, fsys.MkdirAll(testRoot+"/orders-0.0123456789abcdef-delete", 0o755))
		}, ErrStoreExists},
		"recovery points":         {func(fsys vfs.FS) { write(fsys, testRoot+"/recovery-points.checkpoint", "") }, ErrStoreExists},
		"an initialized store":    {func(fsys vfs.FS) { require.NoError(t, InitBrokers(fsys, testRoot, testBrokers)) }, ErrStoreExists},
		"a foreign brokers.json":  {func(fsys vfs.FS) { write(fsys, testRoot+"/brokers.json", "{}\n") }, ErrStoreExists},
		"a file in a default dir": {func(fsys vfs.FS) { write(fsys, testDir1+"/data", "x") }, ErrBrokerDirNotEmpty},
		"a file in another disk":  {func(fsys vfs.FS) { write(fsys, testDisk2+"/orders-0/x", "x") }, ErrBrokerDirNotEmpty},
		"a file where a dir goes": {func(fsys vfs.FS) { write(fsys, testDisk2, "x") }, ErrBrokerDirNotEmpty},
		"a meta.properties alone": {func(fsys vfs.FS) { write(fsys, testDisk2+"/meta.properties", string(encodeMetaProperties(goldenMeta))) }, ErrBrokerDirNotEmpty},
		"another store's broker": {func(fsys vfs.FS) {
			require.NoError(t, InitBrokers(fsys, "/other", map[replica.BrokerID]string{0: "", 2: testDisk2}))
		}, ErrBrokerDirNotEmpty},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fsys := storeWith(t, tt.setup)
			before := fileTree(t, fsys, "/")
			err := InitBrokers(fsys, testRoot, testBrokers)
			require.ErrorIs(t, err, tt.want)
			require.Equal(t, before, fileTree(t, fsys, "/"))
		})
	}

	// What a fresh disk holds, and what the root of a store may hold beside it
	// (its lock, a user's file), is no obstacle.
	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll(testDisk2+"/lost+found", 0o755))
	require.NoError(t, fsys.MkdirAll(testDir1+"/lost+found", 0o755))
	write(fsys, testRoot+"/.lock", "")
	write(fsys, testRoot+"/README", "mine")
	require.NoError(t, InitBrokers(fsys, testRoot, testBrokers))
	requireAllOnline(t, loadTestBrokers(t, fsys, testRoot), 0, 1, 2)
}

// A store without meta.properties or brokers.json, made before brokers existed,
// is one broker, its root; loading it writes nothing.
func TestLoadBrokersLegacyStore(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := Open(testRoot, &Options{FS: fsys})
	require.NoError(t, err)
	require.NoError(t, s.CreateTopic(t.Context(), "orders", TopicConfig{Partitions: 2}))
	require.NoError(t, s.Produce(t.Context(), &Record{Topic: "orders", Value: []byte("v")}))
	require.NoError(t, s.Close())
	// A user's directory named like a default broker directory, without a
	// broker's files, does not make it a store of several brokers.
	require.NoError(t, fsys.MkdirAll(testDir1, 0o755))
	before := fileTree(t, fsys, "/")

	set := loadTestBrokers(t, fsys, testRoot)
	require.Equal(t, brokerSet{legacy: true, root: testRoot, brokers: []brokerDir{{id: 0, dir: testRoot}}}, set)
	require.Equal(t, before, fileTree(t, fsys, "/"))

	// A new, empty directory too.
	require.NoError(t, fsys.MkdirAll("/new", 0o755))
	require.True(t, loadTestBrokers(t, fsys, "/new").legacy)
	require.Empty(t, fileTree(t, fsys, "/new"))

	// Default broker directories holding a broker's files, in a root without
	// either file, are reported, not used: what an InitBrokers interrupted
	// before its commit point leaves.
	require.NoError(t, writeBrokerList(fsys, testDir1, mustEncodeBrokerList(t, goldenBrokerList)))
	before = fileTree(t, fsys, "/")
	set = loadTestBrokers(t, fsys, testRoot)
	require.True(t, set.legacy)
	require.Equal(t, []string{testDir1}, set.leftovers)
	require.Equal(t, before, fileTree(t, fsys, "/"))

	// A missing directory is an error, not a store.
	_, err = loadBrokers(fsys, "/missing")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// Each reason a broker directory cannot serve makes that broker offline, with a
// typed cause, and leaves the others online.
func TestLoadBrokersOffline(t *testing.T) {
	other := initTestBrokers(t) // another store, whose directories can be misplaced
	otherMeta := func(id replica.BrokerID) []byte {
		dir := []string{testRoot, testDir1, testDisk2}[id]
		data, err := vfs.ReadFile(other, filepath.Join(dir, metaPropertiesFileName))
		require.NoError(t, err)
		return data
	}
	tests := []struct {
		name   string
		broker replica.BrokerID
		damage func(t *testing.T, fsys vfs.FS, set brokerSet)
		want   error
	}{
		{"directory missing (an unmounted disk)", 2, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			require.NoError(t, fsys.RemoveAll(testDisk2))
		}, ErrBrokerDirMissing},
		{"default directory missing", 1, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			require.NoError(t, fsys.RemoveAll(testDir1))
		}, ErrBrokerDirMissing},
		{"directory empty (a new disk)", 2, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			require.NoError(t, fsys.RemoveAll(testDisk2))
			require.NoError(t, fsys.MkdirAll(testDisk2+"/lost+found", 0o755))
		}, ErrBrokerDirEmpty},
		{"meta.properties lost, data kept", 1, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			require.NoError(t, fsys.Remove(testDir1+"/meta.properties"))
			require.NoError(t, fsys.MkdirAll(testDir1+"/orders-0", 0o755))
		}, ErrBrokerDirEmpty},
		{"another store's directory", 2, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			require.NoError(t, vfs.WriteFileAtomic(fsys, testDisk2+"/meta.properties", otherMeta(2)))
		}, ErrBrokerDirForeign},
		{"another broker's directory (disks swapped)", 2, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			meta1, err := vfs.ReadFile(fsys, testDir1+"/meta.properties")
			require.NoError(t, err)
			require.NoError(t, vfs.WriteFileAtomic(fsys, testDisk2+"/meta.properties", meta1))
		}, ErrBrokerDirForeign},
		{"formatted again (another directory.id)", 2, func(t *testing.T, fsys vfs.FS, set brokerSet) {
			require.NoError(t, writeMetaProperties(fsys, testDisk2, metaProperties{nodeID: 2, clusterID: set.clusterID, directoryID: newKafkaUUID()}))
		}, ErrBrokerDirForeign},
		{"meta.properties damaged", 1, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			flipByte(t, fsys, testDir1+"/meta.properties", 90)
		}, ErrCorrupt},
		{"meta.properties without checksum, node.id damaged", 2, func(t *testing.T, fsys vfs.FS, set brokerSet) {
			data := fmt.Sprintf("version=1\nnode.id=3\ncluster.id=%s\ndirectory.id=%s\n", set.clusterID, set.brokers[2].directoryID)
			require.NoError(t, vfs.WriteFileAtomic(fsys, testDisk2+"/meta.properties", []byte(data)))
		}, ErrBrokerDirForeign},
		{"a file where the directory was", 2, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			require.NoError(t, fsys.RemoveAll(testDisk2))
			require.NoError(t, vfs.WriteFileAtomic(fsys, testDisk2, []byte("x")))
		}, ErrCorrupt},
		{"the root's meta.properties lost", 0, func(t *testing.T, fsys vfs.FS, _ brokerSet) {
			require.NoError(t, fsys.Remove(testRoot+"/meta.properties"))
		}, ErrBrokerDirEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := initTestBrokers(t)
			healthy := loadTestBrokers(t, fsys, testRoot)
			tt.damage(t, fsys, healthy)
			before := fileTree(t, fsys, "/")
			for _, from := range []string{testRoot, testDir1, testDisk2} {
				if from == healthy.brokers[tt.broker].dir || tt.broker == 0 && from == testDir1 {
					continue // opened from elsewhere below
				}
				set := loadTestBrokers(t, fsys, from)
				require.Equal(t, healthy.clusterID, set.clusterID)
				for id, err := range status(set) {
					if id != tt.broker {
						require.NoError(t, err, "broker %d", id)
						continue
					}
					require.ErrorIs(t, err, ErrBrokerOffline)
					require.ErrorIs(t, err, tt.want)
					var offline *BrokerOfflineError
					require.ErrorAs(t, err, &offline)
					require.Equal(t, tt.broker, offline.Broker)
					t.Log(err)
				}
			}
			require.Equal(t, before, fileTree(t, fsys, "/"), "loading writes nothing")
		})
	}
}

func mustEncodeBrokerList(t *testing.T, l brokerListFile) []byte {
	t.Helper()
	data, err := encodeBrokerList(l)
	require.NoError(t, err)
	return data
}

// flipByte flips the low bit of the byte at position of a file.
func flipByte(t *testing.T, fsys vfs.FS, path string, position int) {
	t.Helper()
	data, err := vfs.ReadFile(fsys, path)
	require.NoError(t, err)
	data[position] ^= 1
	require.NoError(t, vfs.WriteFileAtomic(fsys, path, data))
}

// When a disk is lost, the store is found from any broker directory that
// survives.
func TestLoadBrokersFromAnotherBrokerDir(t *testing.T) {
	t.Run("the root's brokers.json lost: found in a default directory", func(t *testing.T) {
		fsys := initTestBrokers(t)
		require.NoError(t, fsys.Remove(testRoot+"/brokers.json"))
		set := loadTestBrokers(t, fsys, testRoot)
		requireAllOnline(t, set, 0, 1, 2)
		require.Equal(t, int64(0), set.brokers[0].listSequence)
		require.ErrorIs(t, set.brokers[0].listErr, fs.ErrNotExist)
	})
	t.Run("the root's brokers.json lost, the other brokers on other disks", func(t *testing.T) {
		fsys := vfs.NewMem()
		require.NoError(t, InitBrokers(fsys, testRoot, map[replica.BrokerID]string{0: "", 1: "/disk1/s", 2: testDisk2}))
		require.NoError(t, fsys.Remove(testRoot+"/brokers.json"))
		_, err := loadBrokers(fsys, testRoot)
		require.ErrorIs(t, err, ErrCorrupt)
		require.ErrorContains(t, err, "open the store from another broker's directory")
		set := loadTestBrokers(t, fsys, testDisk2)
		requireAllOnline(t, set, 0, 1, 2)
		require.Equal(t, testRoot, set.root)
	})
	t.Run("the root's disk lost", func(t *testing.T) {
		fsys := initTestBrokers(t)
		require.NoError(t, fsys.RemoveAll(testRoot))
		set := loadTestBrokers(t, fsys, testDisk2)
		require.Equal(t, testRoot, set.root)
		st := status(set)
		require.ErrorIs(t, st[0], ErrBrokerDirMissing)
		require.ErrorIs(t, st[1], ErrBrokerDirMissing) // its default directory was on it
		require.NoError(t, st[2])
	})
	t.Run("the root replaced by an empty disk, opened from another", func(t *testing.T) {
		fsys := initTestBrokers(t)
		require.NoError(t, fsys.RemoveAll(testRoot))
		require.NoError(t, fsys.MkdirAll(testRoot, 0o755))
		set := loadTestBrokers(t, fsys, testDisk2)
		require.ErrorIs(t, status(set)[0], ErrBrokerDirEmpty)
		// From the root itself, nothing says it was a broker: it reads as a new
		// store (the integration must know it has brokers, or be opened from one).
		require.True(t, loadTestBrokers(t, fsys, testRoot).legacy)
	})
	t.Run("the root lost both its files", func(t *testing.T) {
		fsys := initTestBrokers(t)
		require.NoError(t, fsys.Remove(testRoot+"/brokers.json"))
		require.NoError(t, fsys.Remove(testRoot+"/meta.properties"))
		// From the root: the one-broker store an interrupted InitBrokers leaves,
		// with the other brokers reported as leftovers.
		set := loadTestBrokers(t, fsys, testRoot)
		require.True(t, set.legacy)
		require.Equal(t, []string{testDir1}, set.leftovers)
		// From another broker: the store, its root offline.
		for _, from := range []string{testDir1, testDisk2} {
			set = loadTestBrokers(t, fsys, from)
			st := status(set)
			require.ErrorIs(t, st[0], ErrBrokerDirEmpty)
			require.NoError(t, st[1])
			require.NoError(t, st[2])
		}
	})
	t.Run("the root's brokers.json and meta.properties damaged", func(t *testing.T) {
		fsys := initTestBrokers(t)
		flipByte(t, fsys, testRoot+"/brokers.json", 10)
		flipByte(t, fsys, testRoot+"/meta.properties", 90)
		set := loadTestBrokers(t, fsys, testRoot)
		st := status(set)
		require.ErrorIs(t, st[0], ErrCorrupt)
		require.NoError(t, st[1])
		require.NoError(t, st[2])
		require.ErrorIs(t, set.brokers[0].listErr, ErrCorrupt)
	})
}

// Readers take the valid copy of the store's list with the greatest sequence,
// following the directories it lists; stale, damaged and foreign copies are
// skipped, and reported.
func TestLoadBrokersCopies(t *testing.T) {
	fsys := initTestBrokers(t)
	v1 := loadTestBrokers(t, fsys, testRoot)

	// Sequence 2, in disk 2 only (a change interrupted after its first write),
	// adds broker 3 on disk 3: reached only through disk 2's copy.
	list, err := readBrokerList(fsys, testDisk2)
	require.NoError(t, err)
	list.Sequence = 2
	list.Brokers = append(list.Brokers, brokerListEntry{ID: 3, Dir: "/disk3/s", DirectoryID: newKafkaUUID()})
	data, err := encodeBrokerList(list)
	require.NoError(t, err)
	require.NoError(t, vfs.MkdirAllSync(fsys, "/disk3/s"))
	require.NoError(t, writeBrokerList(fsys, "/disk3/s", data))
	require.NoError(t, writeMetaProperties(fsys, "/disk3/s", metaProperties{nodeID: 3, clusterID: v1.clusterID, directoryID: list.Brokers[3].DirectoryID}))
	require.NoError(t, writeBrokerList(fsys, testDisk2, data))

	for _, from := range []string{testRoot, testDir1, testDisk2, "/disk3/s"} {
		set := loadTestBrokers(t, fsys, from)
		require.Equal(t, int64(2), set.sequence, from)
		requireAllOnline(t, set, 0, 1, 2, 3)
		var sequences []int64
		for _, b := range set.brokers {
			sequences = append(sequences, b.listSequence)
		}
		require.Equal(t, []int64{1, 1, 2, 2}, sequences, "the stale copies are reported")
	}

	// A damaged copy of the newest is skipped, the others are used: from disk 3,
	// whose copy is the newest, the list of sequence 2; from the root, which
	// reaches no other copy of it, that of sequence 1.
	flipByte(t, fsys, testDisk2+"/brokers.json", 30)
	set := loadTestBrokers(t, fsys, "/disk3/s")
	require.Equal(t, int64(2), set.sequence)
	require.ErrorIs(t, set.brokers[2].listErr, ErrCorrupt)
	require.Equal(t, int64(0), set.brokers[2].listSequence)
	requireAllOnline(t, set, 0, 1, 2, 3)
	set = loadTestBrokers(t, fsys, testRoot)
	require.Equal(t, int64(1), set.sequence)
	requireAllOnline(t, set, 0, 1, 2)

	// A copy of another store, even with a greater sequence, is ignored, and its
	// broker, whose meta.properties is the store's, stays online.
	foreign := list
	foreign.ClusterID = newKafkaUUID()
	foreign.Sequence = 9
	data, err = encodeBrokerList(foreign)
	require.NoError(t, err)
	require.NoError(t, writeBrokerList(fsys, testDir1, data))
	set = loadTestBrokers(t, fsys, "/disk3/s")
	require.Equal(t, int64(2), set.sequence)
	require.Equal(t, v1.clusterID, set.clusterID)
	require.ErrorIs(t, set.brokers[1].listErr, ErrBrokerDirForeign)
	requireAllOnline(t, set, 0, 1, 2, 3)
}

// The root's meta.properties unreadable: the store's id comes from the copies of
// the list, which must agree.
func TestLoadBrokersClusterFromCopies(t *testing.T) {
	fsys := initTestBrokers(t)
	v1 := loadTestBrokers(t, fsys, testRoot)
	flipByte(t, fsys, testRoot+"/meta.properties", 90)
	set := loadTestBrokers(t, fsys, testRoot)
	require.Equal(t, v1.clusterID, set.clusterID)

	// A default directory holding another store's copy makes it ambiguous.
	other := initTestBrokers(t)
	data, err := vfs.ReadFile(other, testDir1+"/brokers.json")
	require.NoError(t, err)
	require.NoError(t, vfs.WriteFileAtomic(fsys, testDir1+"/brokers.json", data))
	_, err = loadBrokers(fsys, testRoot)
	require.ErrorIs(t, err, ErrBrokerDirForeign)
}

// A store opened from a directory its list places elsewhere (moved, or reached
// through another path) is refused, not guessed at.
func TestLoadBrokersMovedStore(t *testing.T) {
	fsys := initTestBrokers(t)
	require.NoError(t, fsys.Rename(testDisk2, "/disk2/moved"))
	_, err := loadBrokers(fsys, "/disk2/moved")
	require.ErrorIs(t, err, ErrBrokerDirForeign)
	require.ErrorContains(t, err, "places it in /disk2/strata")
	require.ErrorIs(t, status(loadTestBrokers(t, fsys, testRoot))[2], ErrBrokerDirMissing)

	// A directory whose meta.properties names a broker its list does not have.
	fsys = initTestBrokers(t)
	set := loadTestBrokers(t, fsys, testRoot)
	require.NoError(t, writeMetaProperties(fsys, testDisk2, metaProperties{nodeID: 4, clusterID: set.clusterID, directoryID: newKafkaUUID()}))
	_, err = loadBrokers(fsys, testDisk2)
	require.ErrorIs(t, err, ErrBrokerDirForeign)
	require.ErrorContains(t, err, "does not list it")
}

// A crash at any point of InitBrokers leaves a store that loads (the old one, or
// one whose root is not yet a broker) and on which InitBrokers runs again.
func TestInitBrokersCrash(t *testing.T) {
	for ops := 0; ; ops++ {
		crashable := vfs.NewCrashable()
		var count atomic.Int64
		faulty := vfs.NewFaulty(crashable, func(vfs.Op, string) *vfs.Fault {
			if count.Add(1) > int64(ops) {
				return &vfs.Fault{Err: syscall.EIO}
			}
			return nil
		})
		err := InitBrokers(faulty, testRoot, testBrokers)
		for mode := vfs.DropUnsynced; mode <= vfs.TearZeros; mode++ {
			fsys := crashable.Crash(mode, int64(ops))
			if _, statErr := fsys.Stat(testRoot); statErr == nil {
				set := loadTestBrokers(t, fsys, testRoot)
				switch {
				case err == nil:
					requireAllOnline(t, set, 0, 1, 2)
				case !set.legacy:
					st := status(set)
					require.ErrorIs(t, st[0], ErrBrokerDirEmpty, "ops %d, %v", ops, mode)
					require.NoError(t, st[1])
					require.NoError(t, st[2])
				}
			}
			if err == nil {
				continue
			}
			require.NoError(t, InitBrokers(fsys, testRoot, testBrokers), "again after %d ops, %v", ops, mode)
			requireAllOnline(t, loadTestBrokers(t, fsys, testRoot), 0, 1, 2)
		}
		if err == nil {
			t.Logf("InitBrokers takes %d operations", ops)
			return
		}
		require.ErrorIs(t, err, syscall.EIO)
	}
}

// Default broker directories are never followed if they are symlinks; directories
// the user gave may be; two brokers given one directory are caught.
func TestBrokerDirSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	fsys := vfs.OS
	t.Run("a default directory replaced by a symlink", func(t *testing.T) {
		base := t.TempDir()
		root := filepath.Join(base, "s")
		require.NoError(t, InitBrokers(fsys, root, map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
		dir1 := filepath.Join(root, "broker.1")
		outside := filepath.Join(base, "outside")
		require.NoError(t, os.Rename(dir1, outside))
		// What lies behind the link claims a newer list: never read.
		list, err := readBrokerList(fsys, outside)
		require.NoError(t, err)
		list.Sequence = 7
		data, err := encodeBrokerList(list)
		require.NoError(t, err)
		require.NoError(t, writeBrokerList(fsys, outside, data))
		require.NoError(t, os.Symlink(outside, dir1))
		require.NoError(t, os.Remove(filepath.Join(root, brokerListFileName)))

		set := loadTestBrokers(t, fsys, root)
		require.Equal(t, int64(1), set.sequence, "found in broker.2, not through the link")
		st := status(set)
		require.ErrorIs(t, st[1], vfs.ErrSymlink)
		require.NoError(t, st[0])
		require.NoError(t, st[2])

		// InitBrokers refuses it too.
		root2 := filepath.Join(base, "s2")
		require.NoError(t, os.MkdirAll(root2, 0o755))
		require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(root2, "broker.1")))
		err = InitBrokers(fsys, root2, map[replica.BrokerID]string{0: "", 1: ""})
		require.ErrorIs(t, err, vfs.ErrSymlink)
	})
	t.Run("a directory the user gave may be a symlink", func(t *testing.T) {
		base := t.TempDir()
		disk := filepath.Join(base, "disk")
		require.NoError(t, os.MkdirAll(disk, 0o755))
		link := filepath.Join(base, "link")
		require.NoError(t, os.Symlink(disk, link))
		root := filepath.Join(base, "s")
		require.NoError(t, InitBrokers(fsys, root, map[replica.BrokerID]string{0: "", 1: link}))
		requireAllOnline(t, loadTestBrokers(t, fsys, root), 0, 1)
		requireAllOnline(t, loadTestBrokers(t, fsys, link), 0, 1)
	})
	t.Run("two brokers given one directory through a symlink", func(t *testing.T) {
		base := t.TempDir()
		disk := filepath.Join(base, "disk")
		link := filepath.Join(base, "link")
		require.NoError(t, os.MkdirAll(disk, 0o755))
		require.NoError(t, os.Symlink(disk, link))
		root := filepath.Join(base, "s")
		err := InitBrokers(fsys, root, map[replica.BrokerID]string{0: "", 1: disk, 2: link})
		require.ErrorIs(t, err, ErrInvalidArgument)
		require.ErrorContains(t, err, "are one directory")
		for _, dir := range []string{root, disk} {
			names, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, names, "no file written")
		}
		// The root, through a link.
		require.NoError(t, os.Symlink(root, filepath.Join(base, "rootlink")))
		err = InitBrokers(fsys, root, map[replica.BrokerID]string{0: "", 1: filepath.Join(base, "rootlink")})
		require.ErrorIs(t, err, ErrInvalidArgument)
		names, err := os.ReadDir(root)
		require.NoError(t, err)
		require.Empty(t, names, "no file written")
	})
}
