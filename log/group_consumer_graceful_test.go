package log_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// Graceful churn redelivers nothing: members join and leave (Close) while the
// group consumes, across seeded runs, and every record is handled exactly once,
// since revocations wait for Consume's handler and Close commits what it handled.
func TestGroupGracefulChurnHandlesEveryRecordOnce(t *testing.T) {
	for _, seed := range seeds(t, 6, 60) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testGracefulChurn(t, seed) })
		})
	}
}

func testGracefulChurn(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
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
		done <-chan error
	}
	var members []running
	start := func() {
		g := newGroupConsumer(t, s, opts)
		mctx, stop := context.WithCancel(ctx)
		done := consumeSlowly(mctx, g, fmt.Sprint(len(members)), h, time.Duration(1+rng.IntN(10))*time.Millisecond)
		members = append(members, running{g, stop, done})
	}
	leave := func(i int) {
		members[i].stop()
		<-members[i].done // the handler stopped: Close commits what it handled
		require.NoError(t, members[i].g.Close())
		members = append(members[:i], members[i+1:]...)
	}
	for range 2 {
		start()
	}
	total := 0
	for range 8 {
		n := 100 + rng.IntN(400)
		produceKeyed(t, s, "t", n)
		total += n
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		switch {
		case len(members) < 4 && rng.IntN(2) == 0:
			start()
		case len(members) > 1:
			leave(rng.IntN(len(members)))
		}
	}
	h.waitDistinct(t, ctx, total)
	for len(members) > 0 {
		leave(0)
	}
	h.requireEveryRecord(t, s, "t", true)
}
