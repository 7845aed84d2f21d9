package log_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// handled counts, per partition and offset, how often a record was handled.
type handled struct {
	mu     sync.Mutex
	counts map[log.TopicPartition]map[int64]int
	total  int
	by     map[string]int // records handled per consumer name
	notify chan struct{}  // receives after every record
}

func newHandled() *handled {
	return &handled{counts: map[log.TopicPartition]map[int64]int{}, by: map[string]int{}, notify: make(chan struct{}, 1<<20)}
}

func (h *handled) add(name string, r *log.Record) {
	h.mu.Lock()
	tp := log.TopicPartition{Topic: r.Topic, Partition: r.Partition}
	if h.counts[tp] == nil {
		h.counts[tp] = map[int64]int{}
	}
	h.counts[tp][r.Offset]++
	h.total++
	h.by[name]++
	h.mu.Unlock()
	h.notify <- struct{}{}
}

// distinct returns how many distinct records were handled.
func (h *handled) distinct() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, offsets := range h.counts {
		n += len(offsets)
	}
	return n
}

// waitDistinct waits until n distinct records were handled.
func (h *handled) waitDistinct(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	for h.distinct() < n {
		select {
		case <-h.notify:
		case <-ctx.Done():
			t.Fatalf("handled %d distinct records of %d: %v", h.distinct(), n, ctx.Err())
		}
	}
}

// requireEveryRecord checks that every offset below each partition's end was
// handled at least once (exactly once if exact).
func (h *handled) requireEveryRecord(t *testing.T, s *log.Store, topic string, exact bool) {
	t.Helper()
	d, err := s.DescribeTopic(topic)
	require.NoError(t, err)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range d.Partitions {
		tp := log.TopicPartition{Topic: topic, Partition: p.Partition}
		for o := p.StartOffset; o < p.EndOffset; o++ {
			n := h.counts[tp][o]
			require.NotZero(t, n, "record %s@%d never handled", tp, o)
			if exact {
				require.Equal(t, 1, n, "record %s@%d handled %d times", tp, o, n)
			}
		}
	}
}

// consumeInBackground runs Consume on g until ctx ends or g closes, recording what
// it handles as name; the returned channel receives Consume's error.
func consumeInBackground(ctx context.Context, g *log.GroupConsumer, name string, h *handled) <-chan error {
	return consumeSlowly(ctx, g, name, h, 0)
}

// consumeSlowly is consumeInBackground with each record taking perRecord (of fake
// time, under synctest) to handle, so that a member can die mid-batch.
func consumeSlowly(ctx context.Context, g *log.GroupConsumer, name string, h *handled, perRecord time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- g.Consume(ctx, func(r *log.Record) error {
			if perRecord > 0 {
				time.Sleep(perRecord)
			}
			if err := ctx.Err(); err != nil {
				return err // stopped, or killed: the rest of the batch is not handled
			}
			h.add(name, r)
			return nil
		})
	}()
	return done
}

// produceKeyed writes n records spread over the topic's partitions by key.
func produceKeyed(t *testing.T, s *log.Store, topic string, n int) {
	t.Helper()
	records := make([]*log.Record, n)
	for i := range records {
		records[i] = &log.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i%97), Value: value("v", i)}
	}
	require.NoError(t, s.Produce(context.Background(), records...))
}

func newGroupConsumer(t *testing.T, s *log.Store, opts log.GroupConsumerOptions) *log.GroupConsumer {
	t.Helper()
	g, err := s.NewGroupConsumer(opts)
	require.NoError(t, err)
	return g
}

// Queue: one group of three members shares six partitions; every record is handled
// exactly once, and every member gets partitions.
func TestGroupQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "jobs", log.TopicConfig{Partitions: 6})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h := newHandled()
		var members []*log.GroupConsumer
		for i := range 3 {
			g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "workers", Topics: []string{"jobs"}})
			members = append(members, g)
			consumeInBackground(ctx, g, fmt.Sprint("m", i), h)
		}
		time.Sleep(time.Minute) // fake time: heartbeats run, the group settles
		produceKeyed(t, s, "jobs", 600)
		h.waitDistinct(t, ctx, 600)
		synctest.Wait()
		h.requireEveryRecord(t, s, "jobs", true)
		owned := map[log.TopicPartition]bool{}
		for _, g := range members {
			tps := g.Assignment()
			require.Len(t, tps, 2, "six partitions over three members")
			for _, tp := range tps {
				require.False(t, owned[tp], "%s owned twice", tp)
				owned[tp] = true
			}
		}
		d, err := s.DescribeGroup("workers")
		require.NoError(t, err)
		require.Len(t, d.Members, 3)
		for _, g := range members {
			require.NoError(t, g.Close())
		}
		d, err = s.DescribeGroup("workers")
		require.NoError(t, err)
		require.Empty(t, d.Members)
		require.Len(t, d.Partitions, 6)
		for _, p := range d.Partitions {
			require.Equal(t, p.EndOffset, p.Committed, "Close commits what was handled: %s", p.TopicPartition)
			require.Zero(t, p.Lag)
		}
	})
}

// Publish/subscribe: two groups on one topic each see every record.
func TestGroupPubSub(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "events", log.TopicConfig{Partitions: 3})
		produceKeyed(t, s, "events", 300)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for _, name := range []string{"billing", "shipping"} {
			h := newHandled()
			for i := range 2 {
				g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: name, Topics: []string{"events"}})
				defer g.Close()
				consumeInBackground(ctx, g, fmt.Sprint(name, i), h)
			}
			h.waitDistinct(t, ctx, 300)
			h.requireEveryRecord(t, s, "events", false)
		}
		groups, err := s.ListGroups()
		require.NoError(t, err)
		require.Len(t, groups, 2)
	})
}

// Offsets survive a restart of the whole store: a new member continues exactly
// after what the previous one handled.
func TestGroupOffsetsSurviveRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := vfs.NewMem()
		s, err := log.Open("/data", &log.Options{FS: fsys})
		require.NoError(t, err)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
		produceKeyed(t, s, "t", 100)
		ctx := context.Background()
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, DisableAutoCommit: true})
		h := newHandled()
		for h.distinct() < 100 {
			records, err := g.Poll(ctx)
			require.NoError(t, err)
			for _, r := range records {
				h.add("first", r)
			}
			require.NoError(t, g.Commit(ctx))
		}
		require.NoError(t, g.Close())
		require.NoError(t, s.Close())

		s, err = log.Open("/data", &log.Options{FS: fsys})
		require.NoError(t, err)
		defer s.Close()
		committed, err := s.CommittedOffsets(ctx, "g")
		require.NoError(t, err)
		require.Len(t, committed, 2)
		produceKeyed(t, s, "t", 50)
		g = newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}})
		defer g.Close()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		consumeInBackground(cctx, g, "second", h)
		h.waitDistinct(t, cctx, 150)
		synctest.Wait()
		h.requireEveryRecord(t, s, "t", true)
		require.Equal(t, 50, h.by["second"], "the restarted member handled only the new records")
	})
}

// A member that dies (no commit, no leave) loses its partitions at the session
// timeout; its zombie commit is refused; the survivor handles everything the dead
// member had not committed.
func TestGroupMemberCrashAndZombieCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{Partitions: 4})
		produceKeyed(t, s, "t", 400)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second, DisableAutoCommit: true}
		survivor := newGroupConsumer(t, s, opts)
		defer survivor.Close()
		doomed := newGroupConsumer(t, s, opts)
		// Both members settle with two partitions each before anything is consumed.
		for len(survivor.Assignment()) != 2 || len(doomed.Assignment()) != 2 {
			time.Sleep(100 * time.Millisecond) // fake time under synctest: lets heartbeats run
		}
		var last *log.Record
		for last == nil {
			records, err := doomed.Poll(ctx)
			require.NoError(t, err)
			last = records[len(records)-1]
		}
		log.Abandon(doomed) // dies without committing or leaving
		h := newHandled()
		consumeInBackground(ctx, survivor, "survivor", h)
		h.waitDistinct(t, ctx, 400)
		h.requireEveryRecord(t, s, "t", false)
		require.Len(t, survivor.Assignment(), 4)

		err := log.ZombieCommit(doomed, ctx, last)
		require.Error(t, err)
		require.True(t, errors.Is(err, log.ErrUnknownMemberID) || errors.Is(err, log.ErrIllegalGeneration), "zombie commit: %v", err)
	})
}

// At least once, across seeded runs: members are killed at random points (no
// commit, no leave) and replaced, and every record is handled at least once.
func TestGroupAtLeastOnceWithKills(t *testing.T) {
	redelivered := 0
	for _, seed := range seeds(t, 8, 100) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { n := testAtLeastOnce(t, seed); t.Logf("redelivered %d", n); redelivered += n })
		})
	}
	if len(seeds(t, 8, 100)) > 1 {
		require.NotZero(t, redelivered, "no run redelivered anything: the kills never hit uncommitted work, so the test proves little")
	}
}

// testAtLeastOnce runs one seeded scenario and returns how many records were
// handled more than once.
func testAtLeastOnce(t *testing.T, seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 5})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour) // of fake time: a failure, not a hang
	defer cancel()
	opts := log.GroupConsumerOptions{
		Group: "g", Topics: []string{"t"}, SessionTimeout: 6 * time.Second, HeartbeatInterval: time.Second,
		AutoCommitInterval: time.Duration(100+rng.IntN(900)) * time.Millisecond, MaxPollRecords: 10 + rng.IntN(200),
	}
	h := newHandled()
	type running struct {
		g    *log.GroupConsumer
		stop context.CancelFunc
	}
	var (
		members   []running
		consuming []<-chan error // every Consume, waited for at the end
	)
	start := func() {
		g := newGroupConsumer(t, s, opts)
		mctx, stop := context.WithCancel(ctx)
		consuming = append(consuming, consumeSlowly(mctx, g, g.MemberID(), h, time.Duration(5+rng.IntN(25))*time.Millisecond))
		members = append(members, running{g, stop})
	}
	for range 3 {
		start()
	}
	total := 0
	for range 6 {
		n := 100 + rng.IntN(400)
		produceKeyed(t, s, "t", n)
		total += n
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond) // members are busy: a kill lands mid-batch
		switch victim := rng.IntN(len(members)); rng.IntN(3) {
		case 0: // killed mid-stream
			members[victim].stop()
			log.Abandon(members[victim].g)
			members = append(members[:victim], members[victim+1:]...)
			start()
		case 1: // leaves cleanly
			members[victim].stop()
			require.NoError(t, members[victim].g.Close())
			members = append(members[:victim], members[victim+1:]...)
			start()
		default:
		}
	}
	h.waitDistinct(t, ctx, total)
	h.requireEveryRecord(t, s, "t", false)
	for _, m := range members {
		m.stop()
		require.NoError(t, m.g.Close())
	}
	for _, done := range consuming {
		<-done // a handler may still sleep: the bubble must not end before it
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total - total
}

// seeds returns the seeds of a randomized test: STRATA_SEED alone if set, else
// short seeds (long under STRATA_LONG=1). Each runs as a subtest named by its seed.
func seeds(t *testing.T, short, long int) []uint64 {
	if s := os.Getenv("STRATA_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		return []uint64{seed}
	}
	n := short
	if os.Getenv("STRATA_LONG") == "1" {
		n = long
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(1000 + i)
	}
	return out
}

// The offsets topic is compacted: after many commits and a compaction (with rolled
// segments), a reopened store still has each partition's latest commit.
func TestOffsetsTopicCompacts(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 3})
	ctx := context.Background()
	for i := range 300 {
		offsets := map[log.TopicPartition]log.OffsetAndMetadata{{Topic: "t", Partition: int32(i % 3)}: {Offset: int64(i)}}
		require.NoError(t, s.CommitGroupOffsets(ctx, "g", offsets))
	}
	d, err := s.DescribeTopic(log.OffsetsTopic)
	require.NoError(t, err)
	require.Equal(t, "compact", d.Config.CleanupPolicy)
	log.RollPartition(t, s, log.TopicPartition{Topic: log.OffsetsTopic})
	result, err := s.CompactPartition(ctx, log.TopicPartition{Topic: log.OffsetsTopic})
	require.NoError(t, err)
	require.Greater(t, result.RecordsRemoved, int64(250), "superseded commits removed: %+v", result)
	require.NoError(t, s.Close())

	s, err = log.Open("/data", &log.Options{FS: fsys})
	require.NoError(t, err)
	defer s.Close()
	committed, err := s.CommittedOffsets(ctx, "g")
	require.NoError(t, err)
	require.Equal(t, int64(297), committed[log.TopicPartition{Topic: "t", Partition: 0}].Offset)
	require.Equal(t, int64(298), committed[log.TopicPartition{Topic: "t", Partition: 1}].Offset)
	require.Equal(t, int64(299), committed[log.TopicPartition{Topic: "t", Partition: 2}].Offset)
}

// A handler that fails leaves the failed record and the rest of its batch
// unprocessed: the next Consume gets them again, and no commit skips them.
func TestGroupConsumeHandlerFailureRedelivers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{})
		produce(t, s, "t", 0, 10)
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, DisableAutoCommit: true})
		defer g.Close()
		ctx := context.Background()
		boom := errors.New("boom")
		var seen []int64
		err := g.Consume(ctx, func(r *log.Record) error {
			if r.Offset == 4 {
				return boom
			}
			seen = append(seen, r.Offset)
			return nil
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, []int64{0, 1, 2, 3}, seen)

		stop := errors.New("stop")
		err = g.Consume(ctx, func(r *log.Record) error {
			seen = append(seen, r.Offset)
			if r.Offset == 9 {
				return stop
			}
			return nil
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, seen, "offsets 4 to 9 again, after the failure")
		require.NoError(t, g.Commit(ctx)) // commits what Poll returned, minus what failed
		committed, err := g.Committed(ctx, log.TopicPartition{Topic: "t"})
		require.NoError(t, err)
		require.Equal(t, int64(9), committed[log.TopicPartition{Topic: "t"}].Offset, "never past the record that failed")
	})
}

// Committing from outside a group that has members is refused with
// ErrNonEmptyGroup; deleting such a group too.
func TestCommitGroupOffsetsRefusedWithMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{})
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}})
		time.Sleep(time.Second) // fake time: the member joins
		synctest.Wait()
		ctx := context.Background()
		err := s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{{Topic: "t"}: {Offset: 0}})
		require.ErrorIs(t, err, log.ErrNonEmptyGroup)
		require.ErrorIs(t, s.DeleteGroup(ctx, "g"), log.ErrNonEmptyGroup)
		require.NoError(t, g.Close())
		require.NoError(t, s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{{Topic: "t"}: {Offset: 0}}))
		require.NoError(t, s.DeleteGroup(ctx, "g"))
		_, err = s.DescribeGroup("g")
		require.ErrorIs(t, err, log.ErrGroupNotFound)
	})
}

// Deleting a topic deletes the groups' committed offsets of it; a committed offset
// that fell below the partition's start (retention) is reset by the Reset policy.
func TestGroupOffsetsOfDeletedTopicsAndBelowStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		ctx := context.Background()
		createTopic(t, s, "gone", log.TopicConfig{})
		createTopic(t, s, "kept", log.TopicConfig{})
		produce(t, s, "kept", 0, 10)
		commit := map[log.TopicPartition]log.OffsetAndMetadata{{Topic: "gone"}: {Offset: 0}, {Topic: "kept"}: {Offset: 2}}
		require.NoError(t, s.CommitGroupOffsets(ctx, "g", commit))
		require.NoError(t, s.DeleteTopic(ctx, "gone"))
		committed, err := s.CommittedOffsets(ctx, "g")
		require.NoError(t, err)
		require.Equal(t, map[log.TopicPartition]log.CommittedOffset{{Topic: "kept"}: committed[log.TopicPartition{Topic: "kept"}]}, committed)

		// Offset 2 is committed, and records below 5 are deleted: the member starts
		// at the start offset (ResetEarliest), not at a record that no longer exists.
		require.NoError(t, s.DeleteRecords(ctx, log.TopicPartition{Topic: "kept"}, 5))
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"kept"}})
		defer g.Close()
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(5), records[0].Offset)
	})
}

// A group member can seek a partition it owns to replay it; the next commit then
// commits from the new position, and a partition it does not own is refused.
func TestGroupConsumerSeek(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{})
		produce(t, s, "t", 0, 10)
		g := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, DisableAutoCommit: true})
		defer g.Close()
		ctx := context.Background()
		tp0 := log.TopicPartition{Topic: "t"}
		var seen []int64
		for len(seen) < 10 {
			records, err := g.Poll(ctx)
			require.NoError(t, err)
			for _, r := range records {
				seen = append(seen, r.Offset)
			}
		}
		require.NoError(t, g.Commit(ctx))
		require.NoError(t, g.Seek(tp0, 7))
		position, err := g.Position(tp0)
		require.NoError(t, err)
		require.Equal(t, int64(7), position)
		records, err := g.Poll(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(7), records[0].Offset, "replayed from the sought offset")
		require.NoError(t, g.CommitRecords(ctx, records[0]))
		committed, err := g.Committed(ctx, tp0)
		require.NoError(t, err)
		require.Equal(t, int64(8), committed[tp0].Offset)
		require.ErrorIs(t, g.Seek(log.TopicPartition{Topic: "t", Partition: 3}, 0), log.ErrUnknownPartition)
		require.ErrorIs(t, g.Seek(tp0, -1), log.ErrInvalidArgument)
	})
}
