package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/partition"
)

// BenchmarkIdempotentOpenAfterCrash measures partition.Open after a crash (no clean
// shutdown: the active segment is recovered) of a partition whose active segment
// holds batches one-record batches of producers, with the producer state to rebuild
// by replaying that segment's batch headers (replay=active: the newest snapshot is
// at the segment's base, as after any crash) against the same crash with a
// snapshot at the log end (replay=none, the baseline: Open reads no batch header
// for the producer state). The difference is what issue 14's rebuild adds to a
// crash recovery. Each op opens a fresh copy of the crashed directory.
func BenchmarkIdempotentOpenAfterCrash(b *testing.B) {
	for _, batches := range []int{1000, 20_000} {
		parent := b
		var fixture string
		for _, replay := range []string{"none", "active"} {
			b.Run(fmt.Sprintf("batches=%d/replay=%s", batches, replay), func(b *testing.B) {
				if fixture == "" {
					fixture = parent.TempDir()
					makeCrashedFixture(b, fixture, batches)
				}
				from := filepath.Join(fixture, "replay="+replay)
				work := b.TempDir()
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					dir := filepath.Join(work, fmt.Sprint(i))
					copyFixtureDir(b, from, dir)
					b.StartTimer()
					p, err := partition.Open(dir, &partition.Options{})
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if err := p.Close(); err != nil {
						b.Fatal(err)
					}
					if err := os.RemoveAll(dir); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	}
}

// makeCrashedFixture writes batches one-record batches of 8 producers to a
// partition and copies its directory while it is open (a crash that lost nothing)
// to dir/replay=active; it then closes the partition (a snapshot at the log end)
// and makes dir/replay=none: the same crashed copy with that snapshot added.
func makeCrashedFixture(b *testing.B, dir string, batches int) {
	live := filepath.Join(dir, "live")
	p, err := partition.Open(live, &partition.Options{Sync: partition.SyncPolicy{Mode: partition.SyncNone}})
	if err != nil {
		b.Fatal(err)
	}
	records := makeRecords(1, 100)
	producers := make([]partition.Producer, 8)
	for i := range producers {
		producers[i].ID = int64(i)
	}
	for i := range batches {
		pr := &producers[i%len(producers)]
		if _, err := p.AppendWith(context.Background(), records, &partition.AppendOptions{Producer: pr}); err != nil {
			b.Fatal(err)
		}
		pr.BaseSequence++
	}
	active := filepath.Join(dir, "replay=active")
	copyFixtureDir(b, live, active)
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	none := filepath.Join(dir, "replay=none")
	copyFixtureDir(b, active, none)
	names, err := os.ReadDir(live)
	if err != nil {
		b.Fatal(err)
	}
	found := false
	for _, e := range names {
		if strings.HasSuffix(e.Name(), partition.SnapshotSuffix) {
			copyFixtureFile(b, filepath.Join(live, e.Name()), filepath.Join(none, e.Name()))
			found = true
		}
	}
	if !found {
		b.Fatal("no producer snapshot after Close")
	}
}

// copyFixtureDir copies the regular files of from (no subdirectories) to a new to.
func copyFixtureDir(b *testing.B, from, to string) {
	if err := os.MkdirAll(to, 0o755); err != nil {
		b.Fatal(err)
	}
	names, err := os.ReadDir(from)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range names {
		if e.Type().IsRegular() {
			copyFixtureFile(b, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
		}
	}
}

func copyFixtureFile(b *testing.B, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		b.Fatal(err)
	}
}
