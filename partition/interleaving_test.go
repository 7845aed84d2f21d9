package partition

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// gateFS holds the first .log fsync after it is armed until release is closed, then
// fails it with failWith (or lets it succeed when failWith is nil).
type gateFS struct {
	vfs.FS
	armed    atomic.Bool
	entered  chan struct{}
	release  chan struct{}
	failWith error
}

type gateFile struct {
	vfs.File
	g    *gateFS
	name string
}

func newGateFS(failWith error) *gateFS {
	return &gateFS{FS: vfs.NewMem(), entered: make(chan struct{}), release: make(chan struct{}), failWith: failWith}
}

func (g *gateFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &gateFile{File: f, g: g, name: name}, nil
}

func (f *gateFile) Sync() error {
	if strings.HasSuffix(f.name, segment.LogSuffix) && f.g.armed.CompareAndSwap(true, false) {
		close(f.g.entered)
		<-f.g.release
		if f.g.failWith != nil {
			return f.g.failWith
		}
	}
	return f.File.Sync()
}

// writeOnly does the first half of an append (the write, under appendMu) and
// returns the batch's next offset; the caller finishes it with finishAppend.
func writeOnly(t *testing.T, p *Partition, value string) (base, next int64) {
	t.Helper()
	batch, err := segment.AppendBatch(nil, []Record{{Value: []byte(value), Timestamp: 1}}, nil)
	require.NoError(t, err)
	h, err := segment.ParseBatchHeader(batch, p.opts.MaxBatchBytes)
	require.NoError(t, err)
	p.appendMu.Lock()
	base, err = p.writeLocked(batch, &h)
	p.inFlight.Add(1)
	p.appendMu.Unlock()
	require.NoError(t, err)
	return base, h.NextOffset()
}

func finishAppend(p *Partition, next int64) error {
	defer p.inFlight.Done()
	return p.syncTo(context.Background(), next)
}

// TestRollDoesNotAckAfterFailedFsync: while a group commit's fsync of the active
// segment is failing, a roll must not fsync the same file again and mark the waiting
// appends durable (after a failed fsync a second one can succeed with the data gone).
func TestRollDoesNotAckAfterFailedFsync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateFS(syscall.EIO)
		p, err := Open("/p", &Options{FS: g})
		require.NoError(t, err)
		defer p.Close()
		g.armed.Store(true)
		leader := make(chan error)
		go func() {
			_, err := p.Append(context.Background(), []Record{{Value: []byte("L")}})
			leader <- err
		}()
		<-g.entered // the leader's fsync is stuck
		_, next := writeOnly(t, p, "V")
		victim := make(chan error)
		go func() { victim <- finishAppend(p, next) }()
		rolled := make(chan error)
		go func() { rolled <- p.Roll() }()
		synctest.Wait() // victim and roll wait for the fsync
		close(g.release)
		require.ErrorIs(t, <-leader, syscall.EIO)
		require.ErrorIs(t, <-victim, syscall.EIO, "an append covered by no successful fsync is not acknowledged")
		require.ErrorIs(t, <-rolled, syscall.EIO)
		require.Equal(t, int64(0), p.EndOffset())
	})
}

// TestTruncateWaitsForInFlightAppends: an append written but not yet acknowledged
// when TruncateTo starts is acknowledged before the truncation, never after its batch
// was removed.
func TestTruncateWaitsForInFlightAppends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := Open("/p", &Options{FS: vfs.NewMem()})
		require.NoError(t, err)
		defer p.Close()
		for range 10 {
			_, err := p.Append(context.Background(), []Record{{Value: []byte("x"), Timestamp: 1}})
			require.NoError(t, err)
		}
		base, next := writeOnly(t, p, "victim")
		require.Equal(t, int64(10), base)
		truncated := make(chan int64)
		go func() {
			end, err := p.TruncateTo(10)
			require.NoError(t, err)
			truncated <- end
		}()
		synctest.Wait()
		select {
		case <-truncated:
			t.Fatal("TruncateTo removed a batch whose append was still in flight")
		default:
		}
		require.NoError(t, finishAppend(p, next))
		require.Equal(t, int64(11), p.EndOffset(), "acknowledged and readable before the truncation")
		require.Equal(t, int64(10), <-truncated)
		require.Equal(t, int64(10), p.EndOffset())
	})
}

// TestOffsetForTimeIgnoresUncommittedIndexEntries: index entries of batches written
// but not yet acknowledged do not make a time lookup read past the committed end.
func TestOffsetForTimeIgnoresUncommittedIndexEntries(t *testing.T) {
	p, err := Open("/p", &Options{FS: vfs.NewMem(), IndexIntervalBytes: 1})
	require.NoError(t, err)
	defer p.Close()
	for range 5 {
		_, err := p.Append(context.Background(), []Record{{Value: []byte("c"), Timestamp: 1000}})
		require.NoError(t, err)
	}
	var pending []int64
	for _, ts := range []int64{2000, 3000, 4000} {
		batch, err := segment.AppendBatch(nil, []Record{{Value: []byte("u"), Timestamp: ts}}, nil)
		require.NoError(t, err)
		h, err := segment.ParseBatchHeader(batch, p.opts.MaxBatchBytes)
		require.NoError(t, err)
		p.appendMu.Lock()
		_, err = p.writeLocked(batch, &h)
		p.appendMu.Unlock()
		require.NoError(t, err)
		pending = append(pending, h.NextOffset())
	}
	off, found, err := p.OffsetForTime(3500)
	require.NoError(t, err)
	require.False(t, found)
	require.Equal(t, int64(5), off)
	require.NoError(t, p.syncTo(context.Background(), pending[len(pending)-1]))
	off, found, err = p.OffsetForTime(3500)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(7), off)
	require.False(t, errors.Is(err, ErrCorrupt))
}
