package replica

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stratalog/strata/vfs"
	"github.com/stretchr/testify/require"
)

func newDirStorage(t *testing.T, fsys vfs.FS, n int) *DirStorage {
	d := &DirStorage{FS: fsys}
	for i := range n {
		dir := filepath.Join("/", "b", string(rune('0'+i)))
		require.NoError(t, vfs.MkdirAllSync(fsys, dir))
		d.Dirs = append(d.Dirs, dir)
	}
	return d
}

func TestDirStorageSurvivesTheLossOfADirectory(t *testing.T) {
	fsys := vfs.NewMem()
	storage := newDirStorage(t, fsys, 3)
	c, err := NewLocalController(storage)
	require.NoError(t, err)
	_, err = c.SetBrokersOnline([]BrokerID{0}, true)
	require.NoError(t, err)
	_, err = c.Create([]PartitionSpec{{Name: "t-0", Replicas: []BrokerID{0, 1, 2}, Config: Config{MinInsyncReplicas: 2}}})
	require.NoError(t, err)
	want, err := c.State("t-0")
	require.NoError(t, err)
	for _, lost := range storage.Dirs {
		copyFS := vfs.NewMem()
		for _, dir := range storage.Dirs {
			if dir == lost {
				continue
			}
			data, err := vfs.ReadFile(fsys, filepath.Join(dir, ControllerStateFile))
			require.NoError(t, err)
			require.NoError(t, vfs.MkdirAllSync(copyFS, dir))
			require.NoError(t, vfs.WriteFileAtomic(copyFS, filepath.Join(dir, ControllerStateFile), data))
		}
		reopened, err := NewLocalController(&DirStorage{FS: copyFS, Dirs: storage.Dirs})
		require.NoError(t, err)
		got, err := reopened.State("t-0")
		require.NoError(t, err)
		require.Equal(t, want, got, "without %s", lost)
	}
}

func TestDirStorageNewestValidCopyWins(t *testing.T) {
	fsys := vfs.NewMem()
	storage := newDirStorage(t, fsys, 3)
	var skipped []string
	storage.Skipped = func(path string, err error) { skipped = append(skipped, path) }
	require.NoError(t, storage.Save(mustEncode(t, 5)))
	// The newest copy goes to one directory only, and another copy is damaged.
	require.NoError(t, vfs.WriteFileAtomic(fsys, filepath.Join(storage.Dirs[1], ControllerStateFile), mustEncode(t, 7)))
	require.NoError(t, vfs.WriteFileAtomic(fsys, filepath.Join(storage.Dirs[2], ControllerStateFile), []byte("{garbage")))
	doc, err := storage.Load()
	require.NoError(t, err)
	sequence, err := DecodeControllerSequence("x", doc)
	require.NoError(t, err)
	require.Equal(t, int64(7), sequence)
	require.Equal(t, []string{filepath.Join(storage.Dirs[2], ControllerStateFile)}, skipped)
}

func TestDirStorageSaveNeedsAMajority(t *testing.T) {
	crash := vfs.NewMem()
	var faults vfs.Switch
	fsys := vfs.NewFaulty(crash, faults.Inject)
	storage := newDirStorage(t, fsys, 3)
	faults.Set(vfs.Match("/b/0", vfs.FailOp(vfs.OpWrite, syscall.EIO)))
	require.NoError(t, storage.Save(mustEncode(t, 1)), "two of three")
	faults.Set(vfs.Match("/b/", vfs.FailOp(vfs.OpWrite, syscall.EIO)))
	err := storage.Save(mustEncode(t, 2))
	require.Error(t, err)
	require.True(t, errors.Is(err, syscall.EIO))
}

func mustEncode(t *testing.T, sequence int64) []byte {
	doc, err := encodeControllerState(sequence, map[string]State{"t-0": {Replicas: []BrokerID{0}, Leader: 0, ISR: []BrokerID{0}, Config: Config{MinInsyncReplicas: 1}}})
	require.NoError(t, err)
	return doc
}

// TestDirStorageAFailedSaveDoesNotShadowTheNextOne: a save that reached only a
// minority of the directories failed, and the controller kept its state; the next
// save, which succeeds, must win over that copy when the state is loaded again. Both
// carried the same sequence, and Load took the failed one where its directory came
// first: a state the replicas never applied (here the partition led by broker 0 at
// a leader epoch the next state had superseded).
func TestDirStorageAFailedSaveDoesNotShadowTheNextOne(t *testing.T) {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	storage := newDirStorage(t, fsys, 3)
	c, err := NewLocalController(storage)
	require.NoError(t, err)
	_, err = c.Create([]PartitionSpec{{Name: "t-0", Replicas: []BrokerID{0, 1, 2}}})
	require.NoError(t, err)

	// Only the first directory takes the next save: it fails.
	faults.Set(func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpWrite && !strings.HasPrefix(path, storage.Dirs[0]) {
			return &vfs.Fault{Err: syscall.EIO}
		}
		return nil
	})
	_, err = c.SetBrokersOnline([]BrokerID{0}, true)
	require.Error(t, err)
	// The first directory fails now; the others take the next save.
	faults.Set(vfs.Match(storage.Dirs[0], vfs.FailOp(vfs.OpWrite, syscall.EIO)))
	_, err = c.SetBrokersOnline([]BrokerID{1}, true)
	require.NoError(t, err)
	want, err := c.State("t-0")
	require.NoError(t, err)
	require.Equal(t, BrokerID(1), want.Leader)

	faults.Set(nil)
	reopened, err := NewLocalController(storage)
	require.NoError(t, err)
	got, err := reopened.State("t-0")
	require.NoError(t, err)
	require.Equal(t, want.String(), got.String())
	require.Equal(t, want.PartitionEpoch, got.PartitionEpoch)
}

// A store whose broker directories are not all usable gives the usable ones as
// Dirs and a majority of all of them as Quorum: with fewer usable directories than
// that, every save fails, rather than counting a majority of the usable ones.
func TestDirStorageQuorumAboveTheDirectoriesFails(t *testing.T) {
	fsys := vfs.NewMem()
	storage := newDirStorage(t, fsys, 1)
	storage.Quorum = 2
	require.Error(t, storage.Save([]byte("doc")))
	storage.Dirs = append(storage.Dirs, "/b/1")
	require.NoError(t, vfs.MkdirAllSync(fsys, "/b/1"))
	require.NoError(t, storage.Save([]byte("doc")))
}
