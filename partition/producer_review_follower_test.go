package partition_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestIdempotentFollowerModel: a follower copies a leader's idempotent batches
// (random producers, retries, rolls on both sides at their own sizes) while it
// rolls, compacts, truncates and copies again, closes and reopens, and loses power.
// Whenever it has caught up, it must know every producer as the leader does, so
// that it can take over: the retry of each producer's newest batch is a duplicate
// at the leader's offset, and the producer's next sequence is not refused.
func TestIdempotentFollowerModel(t *testing.T) {
	seeds, ops := modelSeeds(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runIdempotentFollowerModel(t, seed, ops)
		})
	}
}

func runIdempotentFollowerModel(t *testing.T, seed int64, ops int) {
	rng := rand.New(rand.NewPCG(uint64(seed), 141))
	var history []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d: %s\nreplay: STRATA_SEED=%d go test ./partition/ -run TestIdempotentFollowerModel\nlast operations:\n  %v",
			seed, fmt.Sprintf(format, args...), seed, history[max(0, len(history)-20):])
	}
	do := func(what string, err error) {
		t.Helper()
		history = append(history, what)
		if err != nil {
			fail("%s: %v", what, err)
		}
	}
	leader := openDir(t, vfs.NewMem(), leaderDir, partition.Options{SegmentBytes: int64(300 + rng.IntN(600))})
	defer leader.Close()
	disk := vfs.NewCrashable()
	fopts := partition.Options{FS: disk, SegmentBytes: int64(300 + rng.IntN(600)), Compact: rng.IntN(2) == 0}
	follower, err := partition.Open(followerDir, &fopts)
	do("Open follower", err)
	defer func() { follower.Close() }()
	producers := []*testProducer{{id: 1}, {id: 2}, {id: 3}}
	copyAll := func() {
		t.Helper()
		for {
			b, err := leader.FetchReplica(nil, follower.WrittenOffset(), 64+rng.IntN(1024))
			do(fmt.Sprintf("FetchReplica(%d)", follower.WrittenOffset()), err)
			if len(b) == 0 {
				return
			}
			_, err = follower.AppendReplica(context.Background(), b)
			do("AppendReplica", err)
		}
	}
	check := func() {
		t.Helper()
		copyAll()
		for _, pr := range producers {
			if len(pr.batches) == 0 {
				continue
			}
			last := pr.batches[len(pr.batches)-1]
			end := follower.WrittenOffset()
			base, err := appendProduced(follower, pr.id, pr.epoch, last.sequence, last.n)
			history = append(history, fmt.Sprintf("follower retry p%d seq %d (at %d): %d %v", pr.id, last.sequence, last.base, base, err))
			if !errors.Is(err, partition.ErrDuplicateSequence) || base != last.base || follower.WrittenOffset() != end {
				fail("the follower does not know producer %d's newest batch at %d: %d, %v", pr.id, last.base, base, err)
			}
		}
	}
	for range ops {
		pr := producers[rng.IntN(len(producers))]
		switch k := rng.IntN(100); {
		case k < 45:
			n := 1 + rng.IntN(3)
			base, err := appendProduced(leader, pr.id, pr.epoch, pr.next, n)
			do(fmt.Sprintf("produce p%d seq %d n %d: %d", pr.id, pr.next, n, base), err)
			pr.batches = append(pr.batches, producedBatch{sequence: pr.next, n: n, base: base})
			pr.next += int32(n)
		case k < 50:
			pr.epoch++
			pr.next, pr.batches = 0, nil
			base, err := appendProduced(leader, pr.id, pr.epoch, 0, 1)
			do(fmt.Sprintf("produce p%d epoch %d seq 0: %d", pr.id, pr.epoch, base), err)
			pr.batches = append(pr.batches, producedBatch{sequence: 0, n: 1, base: base})
			pr.next = 1
		case k < 55:
			do("leader Roll", leader.Roll())
		case k < 70:
			copyAll()
		case k < 75:
			check()
		case k < 80:
			do("follower Roll", follower.Roll())
		case k < 84 && fopts.Compact:
			_, err := follower.ForceCompact(context.Background())
			do("follower ForceCompact", err)
		case k < 88:
			end := follower.WrittenOffset()
			cut := end - rng.Int64N(min(end, 12)+1)
			got, err := follower.TruncateTo(cut)
			do(fmt.Sprintf("follower TruncateTo(%d) = %d", cut, got), err)
		case k < 93:
			do("follower Close", follower.Close())
			follower, err = partition.Open(followerDir, &fopts)
			do("follower Open", err)
		default:
			crashed := disk.Crash(vfs.CrashMode(rng.IntN(2)*int(vfs.TearZeros)), rng.Int64())
			do("follower crash", follower.Close())
			disk, fopts.FS = crashed, crashed
			follower, err = partition.Open(followerDir, &fopts)
			do("follower Open after crash", err)
		}
	}
	check()
	for _, pr := range producers { // the follower takes over
		_, err := appendProduced(follower, pr.id, pr.epoch, pr.next, 1)
		do(fmt.Sprintf("follower produce p%d seq %d", pr.id, pr.next), err)
	}
}
