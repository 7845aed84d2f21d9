package log_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// idsPerRun crosses a block of producer ids (txn.DefaultProducerIDBlockSize):
// the second block's reservation is a crash point too.
const idsPerRun = 1500

// TestIdempotentProducerIDsNeverReusedAcrossACrash stops the process after each
// filesystem operation in turn while it hands out producer ids, crashes the machine
// (unsynced data lost), reopens and checks that the next id is above every id
// handed out before the crash: in a one-broker store, and in a store of three
// brokers, whose copies a crash can leave at different blocks.
func TestIdempotentProducerIDsNeverReusedAcrossACrash(t *testing.T) {
	for _, brokers := range []int{1, 3} {
		t.Run(fmt.Sprintf("brokers=%d", brokers), func(t *testing.T) {
			crashWhileHandingOutIDs(t, brokers)
		})
	}
}

func crashWhileHandingOutIDs(t *testing.T, brokers int) {
	ctx := context.Background()
	for limit := int64(0); ; limit++ {
		base := vfs.NewCrashable()
		var faults vfs.Switch
		fsys := vfs.NewFaulty(base, faults.Inject)
		var s *log.Store
		if brokers > 1 {
			s = openBrokers(t, fsys, brokers)
		} else {
			s = openStore(t, fsys, nil)
		}
		stop := &stopAfter{limit: limit}
		faults.Set(stop.inject)
		handedOut := int64(-1)
		for range idsPerRun {
			id, err := s.NextProducerIDForTest(ctx)
			if err != nil {
				break
			}
			require.Greater(t, id, handedOut, "ids increase")
			handedOut = id
		}
		finished := stop.count.Load() <= limit
		after := base.Crash(vfs.DropUnsynced, limit)
		reopened := openStore(t, after, nil)
		id, err := reopened.NextProducerIDForTest(ctx)
		require.NoError(t, err)
		require.Greater(t, id, handedOut, "stop after %d operations: id %d reused", limit, id)
		require.NoError(t, reopened.Close())
		if finished {
			require.Equal(t, int64(idsPerRun-1), handedOut)
			require.Greater(t, limit, int64(2*brokers), "the crash points include the reservations")
			return
		}
	}
}

func TestIdempotentProducerIDsUniqueAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	fsys := vfs.NewMem()
	seen := map[int64]bool{}
	for range 3 {
		s := openStore(t, fsys, nil)
		for range 3 {
			id, err := s.NextProducerIDForTest(ctx)
			require.NoError(t, err)
			require.False(t, seen[id], "id %d handed out twice", id)
			seen[id] = true
		}
		require.NoError(t, s.Close())
	}
}

// TestIdempotentProducerIDsOfSeveralBrokers: every broker directory holds a copy,
// and a damaged copy in a minority of them is passed over for the others.
func TestIdempotentProducerIDsOfSeveralBrokers(t *testing.T) {
	ctx := context.Background()
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	first, err := s.NextProducerIDForTest(ctx)
	require.NoError(t, err)
	brokers, err := s.Brokers()
	require.NoError(t, err)
	require.NoError(t, s.Close())
	for _, b := range brokers {
		data, err := vfs.ReadFile(fsys, filepath.Join(b.Dir, "producer-ids.json"))
		require.NoError(t, err, "broker %d", b.ID)
		require.Contains(t, string(data), `"blockEnd":1000`)
	}
	damaged := filepath.Join(brokers[0].Dir, "producer-ids.json")
	require.NoError(t, vfs.WriteFileAtomic(fsys, damaged, []byte("{\"version\":1,\"blockEnd\":0}\ncrc32c 00000000\n")))

	s = openStore(t, fsys, nil)
	next, err := s.NextProducerIDForTest(ctx)
	require.NoError(t, err)
	require.Greater(t, next, first)
	require.NoError(t, s.Close())

	// A majority damaged: the store cannot know which ids it handed out.
	for _, b := range brokers[1:] {
		require.NoError(t, vfs.WriteFileAtomic(fsys, filepath.Join(b.Dir, "producer-ids.json"), []byte("garbage\n")))
	}
	s = openStore(t, fsys, nil)
	defer s.Close()
	_, err = s.NextProducerIDForTest(ctx)
	require.ErrorIs(t, err, log.ErrCorrupt)
}

// TestIdempotentProducerIDsTempFileRemovedAtOpen: a producer-ids.json.tmp that a
// crash left behind is removed by the next Open, as topics.json.tmp is.
func TestIdempotentProducerIDsTempFileRemovedAtOpen(t *testing.T) {
	ctx := context.Background()
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	_, err := s.NextProducerIDForTest(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	f, err := fsys.OpenFile("/data/producer-ids.json.tmp", os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte(`{"version":1,"blo`), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s = openStore(t, fsys, nil)
	_, err = fsys.Stat("/data/producer-ids.json.tmp")
	require.ErrorIs(t, err, fs.ErrNotExist)
	id, err := s.NextProducerIDForTest(ctx)
	require.NoError(t, err)
	require.Positive(t, id)
}
