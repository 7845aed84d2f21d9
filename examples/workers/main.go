// Command workers runs a consumer group of workers sharing a topic's partitions,
// as a job queue: each partition is handled by one worker at a time, and together
// they handle every job. Midway one worker is stopped; the group rebalances, the
// others take its partitions over from the offsets it committed, and no job is
// lost. The assignment changes are printed as the workers see them (OnAssigned,
// OnRevoked).
//
//	go run ./examples/workers
//	go run ./examples/workers --dir data   # keep the data in ./data
//
// Delivery is at least once: a job a stopped worker handled but had not committed
// is handled again by the next owner of its partition. The summary counts such
// repeats.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratalog/strata/log"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed at exit)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "strata-workers-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "workers:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "workers:", err)
		os.Exit(1)
	}
}

const (
	topic        = "jobs"
	groupName    = "workers"
	partitions   = 6
	workerCount  = 3
	jobsPerBatch = 300
	// workTime is what one job takes, so that the workers are busy when one stops.
	workTime = time.Millisecond
	// stopAfter is how many jobs the stopped worker handles first (of the about
	// 100 in its two partitions).
	stopAfter = 20
)

// run is the whole example, writing what happens to out. It returns an error if a
// job produced during the run was never handled.
//
// Every step waits for an event (the group settled, a worker handled enough jobs,
// every job handled), never for a guessed time, so the example's test runs it
// under testing/synctest, where the heartbeats and the work take no real time.
func run(ctx context.Context, dir string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute) // a failure, not a hang
	defer cancel()
	store, err := log.Open(dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.DescribeTopic(topic); err != nil {
		if err := store.CreateTopic(ctx, topic, log.TopicConfig{Partitions: partitions}); err != nil {
			return err
		}
		fmt.Fprintf(out, "created topic %s with %d partitions\n", topic, partitions)
	}
	first, err := endOffsets(store) // jobs of earlier runs (with --dir) end here
	if err != nil {
		return err
	}
	b := newBoard(out)

	// Three workers join the group; it settles with two partitions each.
	workers := map[string]*worker{}
	var names []string
	for i := 1; i <= workerCount; i++ {
		name := fmt.Sprintf("worker-%d", i)
		w, err := startWorker(ctx, store, b, name)
		if err != nil {
			return err
		}
		defer w.stop()
		workers[name] = w
		names = append(names, name)
	}
	if err := b.waitSettled(ctx, names); err != nil {
		return err
	}
	if err := produceJobs(ctx, store, b, 0); err != nil {
		return err
	}

	// worker-2 stops mid-stream: it leaves the group, which gives its partitions to
	// the others; they continue from what worker-2 committed when it left.
	stopped := "worker-2"
	if err := b.waitFor(ctx, func() bool { return b.byWorker[stopped] >= stopAfter }); err != nil {
		return fmt.Errorf("waiting for %s to handle %d jobs: %w", stopped, stopAfter, err)
	}
	b.printf("stopping %s mid-stream, after %d jobs\n", stopped, b.count(stopped))
	if err := workers[stopped].stop(); err != nil {
		return err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == stopped })
	if err := b.waitSettled(ctx, names); err != nil {
		return err
	}
	if err := produceJobs(ctx, store, b, jobsPerBatch); err != nil {
		return err
	}

	// Done once every job of this run was handled; then the others stop too.
	end, err := endOffsets(store)
	if err != nil {
		return err
	}
	if err := b.waitFor(ctx, func() bool { return b.handledAll(first, end) }); err != nil {
		return fmt.Errorf("waiting for every job to be handled: %w", err)
	}
	for _, name := range names {
		if err := workers[name].stop(); err != nil {
			return err
		}
	}
	return b.summary(first, end)
}

// produceJobs produces jobsPerBatch jobs, numbered from number, keyed by job so
// that they spread over the partitions.
func produceJobs(ctx context.Context, store *log.Store, b *board, number int) error {
	records := make([]*log.Record, jobsPerBatch)
	for i := range records {
		id := fmt.Sprintf("job-%d", number+i)
		records[i] = &log.Record{Topic: topic, Key: []byte(id), Value: []byte("payload of " + id)}
	}
	if err := store.Produce(ctx, records...); err != nil {
		return err
	}
	b.printf("produced %d jobs\n", len(records)) // through the board: workers print too
	return nil
}

// endOffsets returns the end offset of every partition of the topic.
func endOffsets(store *log.Store) (map[int32]int64, error) {
	d, err := store.DescribeTopic(topic)
	if err != nil {
		return nil, err
	}
	end := map[int32]int64{}
	for _, p := range d.Partitions {
		end[p.Partition] = p.EndOffset
	}
	return end, nil
}

// worker is one member of the group, handling jobs on its own goroutine.
type worker struct {
	name     string
	consumer *log.GroupConsumer
	cancel   context.CancelFunc
	done     chan error // Consume's result
	stopOnce sync.Once
	stopErr  error
}

// startWorker joins the group and handles jobs until stopped.
func startWorker(ctx context.Context, store *log.Store, b *board, name string) (*worker, error) {
	consumer, err := store.NewGroupConsumer(log.GroupConsumerOptions{
		Group:    groupName,
		Topics:   []string{topic},
		ClientID: name,
		// Short timings, so the group settles quickly. The session timeout is the
		// shortest the coordinator accepts; it matters only for a worker that dies
		// without leaving (a stopped worker leaves at once).
		SessionTimeout:     6 * time.Second,
		HeartbeatInterval:  50 * time.Millisecond,
		AutoCommitInterval: 200 * time.Millisecond,
		OnAssigned:         func(tps []log.TopicPartition) { b.change(name, "assigned", tps) },
		OnRevoked:          func(tps []log.TopicPartition) { b.change(name, "revoked", tps) },
		OnLost:             func(tps []log.TopicPartition) { b.change(name, "lost", tps) },
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &worker{name: name, consumer: consumer, cancel: cancel, done: make(chan error, 1)}
	go func() {
		w.done <- consumer.Consume(ctx, func(r *log.Record) error {
			time.Sleep(workTime) // the work
			if err := ctx.Err(); err != nil {
				return err // stopped mid-job: not handled, so not committed
			}
			b.handle(name, r)
			return nil
		})
	}()
	return w, nil
}

// stop stops the worker's goroutine, then closes its consumer: Close commits what
// was handled and leaves the group, which rebalances at once.
func (w *worker) stop() error {
	w.stopOnce.Do(func() {
		w.cancel()
		err := <-w.done
		if err != nil && !errors.Is(err, context.Canceled) {
			w.stopErr = fmt.Errorf("%s: %w", w.name, err)
		}
		w.stopErr = errors.Join(w.stopErr, w.consumer.Close())
	})
	return w.stopErr
}

// board is what the workers report: who owns which partitions and who handled
// which jobs. The rebalance callbacks and the handlers report to it from the
// workers' goroutines; run waits on it.
type board struct {
	mu       sync.Mutex
	out      io.Writer
	owned    map[string][]log.TopicPartition      // by worker
	handled  map[log.TopicPartition]map[int64]int // times each job was handled
	byWorker map[string]int                       // jobs handled per worker
	changed  chan struct{}                        // receives after changes; capacity 1
}

func newBoard(out io.Writer) *board {
	return &board{
		out:      out,
		owned:    map[string][]log.TopicPartition{},
		handled:  map[log.TopicPartition]map[int64]int{},
		byWorker: map[string]int{},
		changed:  make(chan struct{}, 1),
	}
}

// notifyLocked wakes waitFor.
func (b *board) notifyLocked() {
	select {
	case b.changed <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (b *board) printf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintf(b.out, format, args...)
}

// change records and prints an assignment change of worker.
func (b *board) change(worker, what string, tps []log.TopicPartition) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if what == "assigned" {
		b.owned[worker] = append(b.owned[worker], tps...)
	} else {
		b.owned[worker] = slices.DeleteFunc(b.owned[worker], func(tp log.TopicPartition) bool { return slices.Contains(tps, tp) })
	}
	fmt.Fprintf(b.out, "%s %s %s\n", worker, what, partitionNames(tps))
	b.notifyLocked()
}

// handle records that worker handled r.
func (b *board) handle(worker string, r *log.Record) {
	b.mu.Lock()
	defer b.mu.Unlock()
	tp := log.TopicPartition{Topic: r.Topic, Partition: r.Partition}
	if b.handled[tp] == nil {
		b.handled[tp] = map[int64]int{}
	}
	b.handled[tp][r.Offset]++
	b.byWorker[worker]++
	b.notifyLocked()
}

func (b *board) count(worker string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byWorker[worker]
}

// waitFor waits until done, called with b.mu held, returns true.
func (b *board) waitFor(ctx context.Context, done func() bool) error {
	for {
		b.mu.Lock()
		ok := done()
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-b.changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitSettled waits until the workers named own every partition between them,
// evenly (what the cooperative-sticky assignor converges to), and prints who owns
// what.
func (b *board) waitSettled(ctx context.Context, workers []string) error {
	err := b.waitFor(ctx, func() bool {
		count, smallest, largest := 0, partitions, 0
		for _, w := range workers {
			n := len(b.owned[w])
			count += n
			smallest, largest = min(smallest, n), max(largest, n)
		}
		return count == partitions && largest-smallest <= 1
	})
	if err != nil {
		return fmt.Errorf("waiting for the group to settle: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var owners []string
	for _, w := range workers {
		owners = append(owners, fmt.Sprintf("%s owns %s", w, partitionNames(b.owned[w])))
	}
	fmt.Fprintf(b.out, "group settled: %s\n", strings.Join(owners, "; "))
	return nil
}

// handledAll reports whether every job in [first, end) was handled (b.mu held).
func (b *board) handledAll(first, end map[int32]int64) bool {
	for p, e := range end {
		handled := b.handled[log.TopicPartition{Topic: topic, Partition: p}]
		for o := first[p]; o < e; o++ {
			if handled[o] == 0 {
				return false
			}
		}
	}
	return true
}

// summary prints what each worker handled, and checks that no job of [first, end)
// was lost.
func (b *board) summary(first, end map[int32]int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range slices.Sorted(maps.Keys(b.byWorker)) {
		fmt.Fprintf(b.out, "%s handled %d jobs\n", w, b.byWorker[w])
	}
	jobs, again := 0, 0
	for p, e := range end {
		handled := b.handled[log.TopicPartition{Topic: topic, Partition: p}]
		for o := first[p]; o < e; o++ {
			if handled[o] == 0 {
				return fmt.Errorf("job at %s-%d offset %d was never handled", topic, p, o)
			}
			jobs++
			again += handled[o] - 1
		}
	}
	fmt.Fprintf(b.out, "all %d jobs handled, none lost", jobs)
	if again > 0 {
		// At least once: what a stopped worker handled but had not committed.
		fmt.Fprintf(b.out, "; %d handled again after the rebalance", again)
	}
	fmt.Fprintln(b.out)
	return nil
}

// partitionNames formats partitions as "jobs-0 jobs-3", sorted.
func partitionNames(tps []log.TopicPartition) string {
	names := make([]string, len(tps))
	for i, tp := range tps {
		names[i] = tp.String()
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}
