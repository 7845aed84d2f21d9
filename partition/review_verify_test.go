package partition_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestReviewVerifyDoesNotStallAppends: Partition.Verify (which the new Store.Verify
// and `strata verify` run on every live partition) holds p.mu.RLock across the scan
// of every segment, and every Append takes p.mu.Lock to publish its mark. A scrub of
// a large partition (GBs: seconds to minutes of reads) therefore stops producing to
// that partition, and once a writer waits, every reader too (sync.RWMutex). The test
// makes the scan's reads slow (blocked until released) and asks for one Append.
func TestReviewVerifyDoesNotStallAppends(t *testing.T) {
	var slow atomic.Bool
	release := make(chan struct{})
	fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, path string) *vfs.Fault {
		if op == vfs.OpRead && strings.HasSuffix(path, ".log") && slow.Load() {
			<-release
		}
		return nil
	})
	opts := partition.Options{SegmentBytes: 4 << 10}
	p := open(t, fsys, opts)
	defer p.Close()
	appendN(t, p, 200, 5)

	slow.Store(true)
	verified := make(chan error, 1)
	go func() { verified <- p.Verify(context.Background()) }()
	time.Sleep(50 * time.Millisecond) // Verify is now inside its scan

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	appended := make(chan error, 1)
	go func() {
		_, err := p.Append(ctx, []partition.Record{{Value: []byte("x"), Timestamp: 1}})
		appended <- err
	}()
	var err error
	stalled := false
	select {
	case err = <-appended:
	case <-time.After(time.Second):
		stalled = true
	}
	slow.Store(false)
	close(release)
	require.NoError(t, <-verified)
	if stalled {
		<-appended
	}
	require.False(t, stalled, "an Append waited for a running Verify to finish its whole scan")
	require.NoError(t, err)
}
