package partition_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestVerifyDoesNotStallAppends: a Verify blocked inside its scan (its reads held
// until released) must not stop an Append, which takes the partition's write lock to
// publish its mark. Found in review: Verify held the read lock over the whole scan,
// so a scrub of a large partition stopped producing to it (and, once a writer waited,
// every reader). Were the lock held, this test would deadlock: the Append would wait
// for Verify, which waits for the release that follows the Append.
func TestVerifyDoesNotStallAppends(t *testing.T) {
	var once sync.Once
	inScan := make(chan struct{})
	release := make(chan struct{})
	var blocking sync.Mutex
	block := false
	fsys := vfs.NewFaulty(vfs.NewMem(), func(op vfs.Op, path string) *vfs.Fault {
		blocking.Lock()
		b := block
		blocking.Unlock()
		if b && op == vfs.OpRead && strings.HasSuffix(path, ".log") {
			once.Do(func() { close(inScan) })
			<-release
		}
		return nil
	})
	p := open(t, fsys, partition.Options{SegmentBytes: 4 << 10})
	defer p.Close()
	appendN(t, p, 200, 5)

	blocking.Lock()
	block = true
	blocking.Unlock()
	verified := make(chan error, 1)
	go func() { verified <- p.Verify(context.Background()) }()
	<-inScan
	blocking.Lock()
	block = false // the Append's own reads, if any, pass
	blocking.Unlock()
	_, err := p.Append(context.Background(), []partition.Record{{Value: []byte("x"), Timestamp: 1}})
	require.NoError(t, err)
	close(release)
	require.NoError(t, <-verified)
}
