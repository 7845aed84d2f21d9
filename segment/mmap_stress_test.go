//go:build linux

package segment_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/memtest"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// TestViewsSurviveConcurrentTruncation: two readers View random ranges of a segment
// and hold them (with their mappings) while a writer appends (past the 1 MiB window,
// so mappings are replaced) and truncates to random offsets, short and deep, and
// garbage collections run. Every held view must stay readable and unchanged: the
// View / mapping / TruncateTo interleavings. 4,000 appends (STRATA_LONG=1: 40,000).
func TestViewsSurviveConcurrentTruncation(t *testing.T) {
	appends := 4_000
	if os.Getenv("STRATA_LONG") == "1" {
		appends = 40_000
	}
	s, err := segment.Create(vfs.OS, t.TempDir(), 0, nil)
	require.NoError(t, err)
	defer s.Close()

	var stop atomic.Bool
	var views, truncations atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			type held struct {
				b, want []byte
				m       *vfs.Mapping
			}
			var hs []held
			for i := 0; !stop.Load(); i++ {
				for _, h := range hs {
					if err := memtest.Touch(h.b); err != nil {
						errc <- err
						return
					}
					if !bytes.Equal(h.b, h.want) {
						errc <- errChanged
						return
					}
				}
				size := s.Size()
				if size == 0 {
					runtime.Gosched()
					continue
				}
				pos := rng.Int64N(size)
				n := int(min(size-pos, 1+rng.Int64N(16<<10)))
				b, m, ok := s.View(pos, n)
				if !ok {
					continue
				}
				views.Add(1)
				hs = append(hs, held{b: b, want: bytes.Clone(b), m: m})
				if len(hs) > 6 {
					hs = hs[1:]
				}
				if i%200 == 0 {
					runtime.GC()
				}
			}
		}()
	}

	rng := rand.New(rand.NewPCG(1, 2))
	value := bytes.Repeat([]byte("x"), 4000)
	for i := range appends {
		records := make([]segment.Record, 1+rng.IntN(4))
		for j := range records {
			records[j] = segment.Record{Timestamp: int64(i), Value: value[:100+rng.IntN(3900)]}
		}
		b, err := segment.AppendBatch(nil, records, nil)
		require.NoError(t, err)
		segment.SetBaseOffset(b, s.NextOffset())
		h, err := segment.VerifyBatch(b, segment.DefaultMaxBatchBytes)
		require.NoError(t, err)
		require.NoError(t, s.Append(b, &h))
		if i%40 == 39 && s.Size() > 64<<10 {
			next := s.NextOffset()
			// Mostly short cuts, sometimes deep ones.
			to := next - 1 - rng.Int64N(min(next, 50))
			if rng.IntN(4) == 0 {
				to = rng.Int64N(next)
			}
			require.NoError(t, s.TruncateTo(to))
			truncations.Add(1)
		}
		if s.Size() > 3<<20 {
			require.NoError(t, s.TruncateTo(s.NextOffset()/3))
			truncations.Add(1)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	t.Logf("%d views held across %d truncations", views.Load(), truncations.Load())
	require.Positive(t, views.Load())
	require.Positive(t, truncations.Load())
}

var errChanged = errors.New("a held view changed")
