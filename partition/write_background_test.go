package partition_test

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// Writes during a slow fsync do not pile up background fsync goroutines: at most
// one waits behind the running fsync. (Found in review: the flag was cleared before
// the goroutine waited for syncSem.)
func TestWriteOneBackgroundFsyncGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hold atomic.Bool
		release := make(chan struct{})
		fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, path string) *vfs.Fault {
			if op == vfs.OpSync && strings.HasSuffix(path, ".log") && hold.Load() {
				<-release
			}
			return nil
		})
		p, err := openAt(fsys, partition.Options{})
		require.NoError(t, err)
		ctx := context.Background()
		hold.Store(true)
		_, err = p.Write(ctx, []partition.Record{{Value: []byte("first")}})
		require.NoError(t, err)
		synctest.Wait() // its background fsync is held
		before := runtime.NumGoroutine()
		const writes = 50
		for range writes {
			_, err := p.Write(ctx, []partition.Record{{Value: []byte("x")}})
			require.NoError(t, err)
			synctest.Wait()
		}
		queued := runtime.NumGoroutine() - before
		hold.Store(false)
		close(release)
		require.NoError(t, p.Close())
		require.LessOrEqual(t, queued, 1, "%d background fsync goroutines queued behind one slow fsync", queued)
	})
}
