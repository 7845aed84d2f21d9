package segment_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/segment"
)

// TestReviewFingerprintMatchesFile: through appends, truncations, reopens (from an
// index entry or read whole), recovery and SetDigest, a segment's Fingerprint agrees
// with that of its file's bytes (segment.ReadFingerprint): edges and size always,
// the digest whenever it is known.
func TestReviewFingerprintMatchesFile(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 1))
		fsys := newFS(t)
		opts := &segment.Options{IndexIntervalBytes: 40 + rng.IntN(400)}
		const base = 100
		s, err := segment.Create(fsys, dir, base, opts)
		require.NoError(t, err)
		check := func(what string) {
			t.Helper()
			got := s.Fingerprint()
			next, want, err := segment.ReadFingerprint(fsys, segment.LogPath(dir, base), base, opts)
			require.NoError(t, err)
			require.Equal(t, next, s.NextOffset(), what)
			require.Equal(t, want.Size, got.Size, what)
			require.Equal(t, want.Edges, got.Edges, "seed %d: %s: edges", seed, what)
			if got.DigestKnown {
				require.Equal(t, want.Digest, got.Digest, "seed %d: %s: digest", seed, what)
			}
		}
		var recorded segment.Fingerprint
		for range 40 {
			switch op := rng.IntN(10); {
			case op < 5:
				for range 1 + rng.IntN(4) {
					fill(t, s, 1+rng.IntN(5))
				}
				check("append")
			case op < 7 && s.NextOffset() > base:
				require.NoError(t, s.TruncateTo(base+rng.Int64N(s.NextOffset()-base+1)))
				check("truncate")
			case op < 9:
				require.NoError(t, s.Seal())
				recorded = s.Fingerprint()
				require.NoError(t, s.Close())
				s, err = segment.Open(fsys, dir, base, opts)
				require.NoError(t, err)
				check("reopen")
				if recorded.DigestKnown && s.SetDigest(recorded.Digest) {
					check("reopen, digest adopted")
				}
			default:
				require.NoError(t, s.Close())
				var tr segment.Truncation
				s, tr, err = segment.Recover(fsys, dir, base, opts, math.MaxInt64)
				require.NoError(t, err)
				require.Zero(t, tr.Bytes)
				require.True(t, s.Fingerprint().DigestKnown, "recovery reads the whole segment")
				check("recover")
			}
		}
		require.NoError(t, s.Verify(s.Size()))
		require.NoError(t, s.Close())
	}
}
