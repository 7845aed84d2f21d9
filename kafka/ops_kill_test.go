package kafka

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// killChildEnv names the data directory of TestKillServerChild.
const killChildEnv = "STRATA_KAFKA_KILL_CHILD"

// killTopic is the topic TestKillServerDuringAcksAllProduce produces to.
const killTopic = "killed"

// TestKillServerChild is the child process of TestKillServerDuringAcksAllProduce:
// it opens the store in the directory STRATA_KAFKA_KILL_CHILD names, serves it on
// a loopback port, prints "LISTEN host:port" and serves until it is killed.
// Skipped unless STRATA_KAFKA_KILL_CHILD is set.
func TestKillServerChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("the child of TestKillServerDuringAcksAllProduce")
	}
	store, err := log.Open(dir, nil)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	fmt.Println("LISTEN", ln.Addr().String())
	err = Serve(context.Background(), ln, store, nil) // until SIGKILL
	fmt.Println("ERR Serve returned", err)
	os.Exit(3)
}

// TestKillServerDuringAcksAllProduce is issue 15's kill test: a child process
// serves a store on a data directory while idempotent kgo producers (acks=all)
// produce numbered records and note every acknowledged one; the child is killed
// with SIGKILL after a random number of acknowledgements and restarted on the
// same directory, a few times (more with STRATA_LONG=1). Then every acknowledged
// record must be read back, and no record twice within a producer's idempotent
// session (one kgo client between two kills). The seed is logged;
// STRATA_KAFKA_KILL_SEED replays one.
func TestKillServerDuringAcksAllProduce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	rounds, producers := 4, 3
	if os.Getenv("STRATA_LONG") != "" {
		rounds = 20
	}
	seed := rand.Uint64()
	if s := os.Getenv("STRATA_KAFKA_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (STRATA_KAFKA_KILL_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	acked := &ackedRecords{sessions: map[string]map[int]bool{}}
	for round := range rounds {
		child := startKillChild(t, dir)
		if round == 0 {
			adm := kadm.NewClient(newKillClient(t, child.addr))
			if _, err := adm.CreateTopic(context.Background(), 3, 1, nil, killTopic); err != nil {
				t.Fatal(err)
			}
		}
		target := 20 + rng.IntN(400)
		produceUntilKilled(t, child, round, producers, target, acked)
	}
	child := startKillChild(t, dir)
	readBack(t, child.addr, acked)
}

// killChild is a running TestKillServerChild.
type killChild struct {
	cmd     *exec.Cmd
	addr    string
	drained chan struct{} // closed when the child's stdout has ended
	killed  sync.Once
}

// startKillChild starts a child serving dir and waits for it to print its
// address.
func startKillChild(t *testing.T, dir string) *killChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillServerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "ERR ") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("child:", line)
		}
		if addr, ok := strings.CutPrefix(line, "LISTEN "); ok {
			c := &killChild{cmd: cmd, addr: addr, drained: make(chan struct{})}
			go func() { // drain the rest, so that the child never blocks writing
				defer close(c.drained)
				for lines.Scan() {
					t.Log("child:", lines.Text())
				}
			}()
			t.Cleanup(func() { c.kill(t) }) // after a failure too
			return c
		}
	}
	cmd.Wait()
	t.Fatal("the child ended without listening")
	return nil
}

// kill kills the child with SIGKILL, once, and waits for it to end.
func (c *killChild) kill(t *testing.T) {
	t.Helper()
	c.killed.Do(func() {
		if err := c.cmd.Process.Kill(); err != nil {
			t.Error(err)
		}
		<-c.drained  // the pipe ends with the child
		c.cmd.Wait() // "signal: killed"
	})
}

func newKillClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// ackedRecords is the set of acknowledged records: record numbers by session.
type ackedRecords struct {
	mu       sync.Mutex
	sessions map[string]map[int]bool
	count    atomic.Int64
}

func (a *ackedRecords) add(session string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions[session] == nil {
		a.sessions[session] = map[int]bool{}
	}
	a.sessions[session][n] = true
}

// produceUntilKilled runs producers idempotent kgo producers (acks=all, the
// default with idempotence) against child, each producing records "session n"
// with up to 64 in flight, and kills the child once target more records have
// been acknowledged. Each producer is its own session, named by round.
func produceUntilKilled(t *testing.T, child *killChild, round, producers, target int, acked *ackedRecords) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // after a failure too
	var roundAcks atomic.Int64
	reached := make(chan struct{})
	var reachedOnce sync.Once
	var wg sync.WaitGroup
	clients := make([]*kgo.Client, producers)
	for p := range producers {
		session := fmt.Sprintf("r%d-p%d", round, p)
		cl := newKillClient(t, child.addr, kgo.DefaultProduceTopic(killTopic),
			kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(time.Millisecond))
		clients[p] = cl
		wg.Add(1)
		go func() {
			defer wg.Done()
			inFlight := make(chan struct{}, 64)
			for n := 0; ; n++ {
				select {
				case inFlight <- struct{}{}:
				case <-ctx.Done():
					return
				}
				record := &kgo.Record{Key: []byte(session), Value: []byte(session + " " + strconv.Itoa(n))}
				cl.Produce(ctx, record, func(_ *kgo.Record, err error) {
					<-inFlight
					if err != nil {
						return
					}
					acked.add(session, n)
					acked.count.Add(1)
					if roundAcks.Add(1) == int64(target) {
						reachedOnce.Do(func() { close(reached) })
					}
				})
			}
		}()
	}
	select {
	case <-reached:
	case <-time.After(2 * time.Minute): // a bound on a hang, not a wait
		t.Fatalf("round %d: %d of %d acknowledgements after 2 minutes", round, roundAcks.Load(), target)
	}
	child.kill(t)
	t.Logf("round %d: killed the server after %d acknowledgements (target %d)", round, roundAcks.Load(), target)
	cancel()
	wg.Wait()
	for _, cl := range clients {
		cl.Close() // fails the records not acknowledged
	}
}

// readBack consumes the whole topic from addr and checks that every
// acknowledged record is there, and no record twice in one session.
func readBack(t *testing.T, addr string, acked *ackedRecords) {
	t.Helper()
	ctx := context.Background()
	adm := kadm.NewClient(newKillClient(t, addr))
	ends, err := adm.ListEndOffsets(ctx, killTopic)
	if err != nil {
		t.Fatal(err)
	}
	remaining := map[int32]int64{} // partition: the end offset not reached yet
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %d: %v", o.Partition, o.Err)
		}
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	consumer := newKillClient(t, addr, kgo.ConsumeTopics(killTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]map[int]int{}
	total := 0
	pollCtx, cancel := context.WithTimeout(ctx, 2*time.Minute) // a bound on a hang
	defer cancel()
	for len(remaining) > 0 {
		fetches := consumer.PollFetches(pollCtx)
		if pollCtx.Err() != nil {
			t.Fatalf("reading back: partitions not read to their end: %v", remaining)
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			t.Fatalf("fetching %s/%d: %v", topic, partition, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			session, number, ok := strings.Cut(string(r.Value), " ")
			n, err := strconv.Atoi(number)
			if !ok || err != nil || session != string(r.Key) {
				t.Fatalf("record %s/%d@%d: key %q value %q", r.Topic, r.Partition, r.Offset, r.Key, r.Value)
			}
			if seen[session] == nil {
				seen[session] = map[int]int{}
			}
			seen[session][n]++
			total++
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	acked.mu.Lock()
	defer acked.mu.Unlock()
	missing := 0
	for session, numbers := range acked.sessions {
		for n := range numbers {
			if seen[session][n] == 0 {
				missing++
				if missing <= 10 {
					t.Errorf("acknowledged record %q %d was not read back", session, n)
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged records lost", missing, acked.count.Load())
	}
	for session, numbers := range seen {
		for n, count := range numbers {
			if count > 1 {
				t.Errorf("record %q %d read %d times in one idempotent session", session, n, count)
			}
		}
	}
	t.Logf("read back %d records, %d of them acknowledged", total, acked.count.Load())
}
