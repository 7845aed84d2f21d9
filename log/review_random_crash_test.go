package log_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// The review's random sweep of states strata legitimately leaves: a store under
// every sync policy (and AcksLeader), with rolls, retention, DeleteRecords,
// compaction, DeleteTopic and CreateTopic of a name, AddPartitions, truncation,
// Store.Sync, clean restarts and the recovery points recorded in the background or
// not, is stopped after a random number of file system operations (the process
// dies) and the machine crashes in a random CrashMode. The image must open with no
// partition offline, every record acknowledged as durable still there; and opened,
// crashed again at once and opened again, the same.

var reviewCrashTopics = map[string]log.TopicConfig{
	"every":    {Partitions: 2, SegmentBytes: 700, RetentionBytes: 3000},
	"periodic": {Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 3}, SegmentBytes: 700},
	"none":     {Partitions: 2, Sync: log.SyncPolicy{Mode: log.SyncNone}, SegmentBytes: 700},
	"compact":  {CleanupPolicy: log.CleanupCompact, SegmentBytes: 500, MinCleanableDirtyRatio: 0.01},
}

type reviewCrashRun struct {
	t       *testing.T
	ctx     context.Context
	rng     *rand.Rand
	store   *log.Store
	durable map[log.TopicPartition]int64 // acknowledged durable end offsets
	unsure  map[string]bool              // topics whose deletion may or may not have committed
	trace   []string
	seq     int
	// base is the file system under the faults; repairs is set while the process
	// is not about to die: the damage-and-repair step runs then only.
	base    *vfs.CrashableFS
	repairs bool
}

func (r *reviewCrashRun) logf(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf(format, args...))
}

func (r *reviewCrashRun) partitions(topic string) int {
	d, err := r.store.DescribeTopic(topic)
	if err != nil {
		return 0
	}
	return len(d.Partitions)
}

func (r *reviewCrashRun) pick() (string, log.TopicPartition) {
	names := []string{"every", "periodic", "none", "compact"}
	name := names[r.rng.IntN(len(names))]
	n := max(r.partitions(name), 1)
	return name, log.TopicPartition{Topic: name, Partition: int32(r.rng.IntN(n))}
}

// step runs one random operation; an error means the process died.
func (r *reviewCrashRun) step() error {
	s := r.store
	name, p := r.pick()
	switch op := r.rng.IntN(20); {
	case op < 8: // produce
		n := 1 + r.rng.IntN(4)
		var records []*log.Record
		for range n {
			r.seq++
			key := fmt.Sprintf("k%d", r.rng.IntN(5))
			records = append(records, &log.Record{Topic: p.Topic, Partition: p.Partition, ExplicitPartition: true,
				Key: []byte(key), Value: fmt.Appendf(nil, "%s-%d-%0100d", key, r.seq, r.seq)})
		}
		r.logf("produce %d to %s", n, p)
		if err := s.Produce(r.ctx, records...); err != nil {
			return err
		}
		if reviewCrashTopics[name].Sync.Mode == log.SyncDefault {
			r.durable[p] = max(r.durable[p], records[n-1].Offset+1)
		}
	case op < 9: // AcksLeader
		pr, err := s.NewProducer(log.ProducerOptions{Acks: log.AcksLeader, Linger: time.Millisecond})
		if err != nil {
			return err
		}
		r.logf("acks=leader to %s", p)
		var failed error
		for range 3 {
			pr.Produce(r.ctx, &log.Record{Topic: p.Topic, Partition: p.Partition, ExplicitPartition: true, Key: []byte("k0"), Value: []byte("leader")},
				func(_ *log.Record, err error) {
					if err != nil {
						failed = err
					}
				})
		}
		err = errors.Join(pr.Flush(r.ctx), pr.Close())
		if err != nil || failed != nil {
			return errors.Join(err, failed)
		}
	case op < 11:
		r.logf("sync")
		ends := map[log.TopicPartition]int64{}
		for _, topic := range []string{"every", "periodic", "none", "compact"} {
			if d, err := s.DescribeTopic(topic); err == nil {
				for _, pi := range d.Partitions {
					ends[log.TopicPartition{Topic: topic, Partition: pi.Partition}] = pi.EndOffset
				}
			}
		}
		if err := s.Sync(r.ctx); err != nil {
			return err
		}
		for tp, end := range ends {
			r.durable[tp] = max(r.durable[tp], end)
		}
	case op < 12:
		r.logf("roll %s", p)
		return log.RollPartitionErr(s, p)
	case op < 13:
		d, err := s.DescribeTopic(p.Topic)
		if err != nil {
			return err
		}
		info := d.Partitions[p.Partition]
		if name == "compact" || info.EndOffset == info.StartOffset {
			return nil
		}
		offset := info.StartOffset + r.rng.Int64N(info.EndOffset-info.StartOffset+1)
		r.logf("delete records of %s before %d", p, offset)
		return s.DeleteRecords(r.ctx, p, offset)
	case op < 14:
		r.logf("compact")
		_, err := s.CompactPartition(r.ctx, log.TopicPartition{Topic: "compact"})
		return err
	case op < 15:
		r.logf("retention")
		_, err := s.ApplyRetention()
		return err
	case op < 16:
		r.logf("delete and create none")
		r.unsure["none"] = true
		if err := s.DeleteTopic(r.ctx, "none"); err != nil {
			return err
		}
		for tp := range r.durable {
			if tp.Topic == "none" {
				delete(r.durable, tp)
			}
		}
		if err := s.CreateTopic(r.ctx, "none", reviewCrashTopics["none"]); err != nil {
			return err
		}
		r.unsure["none"] = false
	case op < 17:
		n := r.partitions("every")
		if n >= 5 {
			return nil
		}
		r.logf("add partitions to every")
		return s.AddPartitions(r.ctx, "every", n+1)
	case op < 18:
		d, err := s.DescribeTopic(p.Topic)
		if err != nil {
			return err
		}
		info := d.Partitions[p.Partition]
		if info.EndOffset == info.StartOffset {
			return nil
		}
		offset := info.StartOffset + r.rng.Int64N(info.EndOffset-info.StartOffset+1)
		r.logf("truncate %s to %d", p, offset)
		before := r.durable[p]
		r.durable[p] = min(before, info.StartOffset) // a truncation cut short leaves a prefix
		end, err := log.TruncatePartition(s, p, offset)
		if err != nil {
			return err
		}
		r.durable[p] = min(before, end)
	case op < 19 && r.repairs:
		// A bit flipped in the first batch of the newest segment (after the store
		// may have recorded its mark), and RepairPartition. Everything is synced
		// first: Verify reads only what readers can, and a bit flipped in a batch
		// written but not yet fsynced (AcksLeader) would be fsynced as it is.
		if err := s.Sync(r.ctx); err != nil {
			return err
		}
		newest := reviewNewestSegment(r.t, r.base, p)
		if newest < 0 {
			return nil
		}
		path := fmt.Sprintf("/data/%s-%d/%s", p.Topic, p.Partition, segment.FileName(newest, segment.LogSuffix))
		if info, err := r.base.Stat(path); err != nil || info.Size() < segment.BatchHeaderSize {
			return nil
		}
		r.logf("damage the newest segment of %s (base %d) and repair", p, newest)
		// A byte of baseTimestamp: inside the CRC even of a batch without records
		// (a repair's empty batch), whose next batch's baseOffset (outside every
		// CRC) would be the byte after the records' first.
		flipByteSynced(r.t, r.base, path, 30)
		report, err := s.RepairPartition(r.ctx, p, nil)
		require.NoError(r.t, err, "%v: %v", report, r.trace)
		require.Empty(r.t, s.OfflinePartitions(), r.trace)
	default:
		r.logf("clean restart")
		return errors.New("restart") // the caller closes and reopens
	}
	return nil
}

func reviewCrashOptions(fsys vfs.FS, background bool) *log.Options {
	o := &log.Options{FS: fsys, RetentionCheckInterval: -1, RecoveryPointInterval: -1}
	if background {
		o.RecoveryPointInterval = time.Millisecond
	}
	return o
}

func TestReviewRecoveryPointsRandomCrashes(t *testing.T) {
	runs := 150
	if os.Getenv("STRATA_LONG") != "" {
		runs = 2000
	}
	if n, err := strconv.Atoi(os.Getenv("STRATA_REVIEW_RUNS")); err == nil {
		runs = n
	}
	for seed := range uint64(runs) {
		reviewCrashOnce(t, seed)
		if t.Failed() {
			return
		}
	}
}

func reviewCrashOnce(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	background := seed%3 == 0
	base := vfs.NewCrashable()
	var faults vfs.Switch
	fsys := vfs.NewFaulty(base, faults.Inject)
	s, err := log.Open("/data", reviewCrashOptions(fsys, background))
	require.NoError(t, err)
	for name, c := range reviewCrashTopics {
		require.NoError(t, s.CreateTopic(ctx, name, c))
	}
	r := &reviewCrashRun{t: t, ctx: ctx, rng: rng, store: s, durable: map[log.TopicPartition]int64{}, unsure: map[string]bool{},
		base: base, repairs: true}
	for range 20 + rng.IntN(60) {
		if err := r.step(); err != nil {
			require.EqualError(t, err, "restart", "seed %d: %v", seed, r.trace)
			require.NoError(t, s.Close())
			s, err = log.Open("/data", reviewCrashOptions(fsys, background))
			require.NoError(t, err)
			require.Empty(t, s.OfflinePartitions(), "seed %d: %v", seed, r.trace)
			r.store = s
		}
	}
	r.repairs = false
	stop := &stopAfter{limit: rng.Int64N(300)}
	faults.Set(stop.inject)
	r.logf("-- the process dies after %d more operations", stop.limit)
	died := ""
	for range 30 {
		if err := r.step(); err != nil {
			if err.Error() == "restart" { // the process dies in or after Close
				err = s.Close()
				r.logf("close: %v", err)
			}
			died = fmt.Sprint(err)
			break
		}
	}
	if seed < 3 {
		t.Logf("seed %d: %d ops, died: %s, durable %v", seed, len(r.trace), died, r.durable)
	}
	mode := vfs.CrashMode(rng.IntN(4))
	image := base.Crash(mode, int64(seed))
	_ = s.Close()
	what := fmt.Sprintf("seed %d, %v, background %v: %v", seed, mode, background, r.trace)

	check := func(fsys vfs.FS) *log.Store {
		s, err := log.Open("/data", reviewCrashOptions(fsys, false))
		require.NoError(t, err, what)
		require.Empty(t, s.OfflinePartitions(), what)
		for tp, end := range r.durable {
			if r.unsure[tp.Topic] {
				continue
			}
			d, err := s.DescribeTopic(tp.Topic)
			require.NoError(t, err, what)
			require.GreaterOrEqual(t, d.Partitions[tp.Partition].EndOffset, end, "%s: %s", tp, what)
		}
		return s
	}
	s = check(image)
	again := image.Crash(mode, int64(seed)+1) // crashed again right after the recovery
	require.NoError(t, s.Close())
	s = check(again)
	require.NoError(t, s.Close())
	s = check(again) // a clean close, then a crash-free reopen
	require.NoError(t, s.Close())
}

// reviewNewestSegment returns the base of tp's newest segment, or -1 if it has none.
func reviewNewestSegment(t *testing.T, fsys vfs.FS, tp log.TopicPartition) int64 {
	t.Helper()
	names, err := fsys.ReadDir(fmt.Sprintf("/data/%s-%d", tp.Topic, tp.Partition))
	if err != nil {
		return -1
	}
	newest := int64(-1)
	for _, name := range names {
		if base, suffix, ok := segment.ParseFileName(name); ok && suffix == segment.LogSuffix {
			newest = max(newest, base)
		}
	}
	return newest
}

// flipByteSynced flips the byte at pos of the file at path, durably.
func flipByteSynced(t *testing.T, fsys vfs.FS, path string, pos int64) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	b := make([]byte, 1)
	_, err = f.ReadAt(b, pos)
	require.NoError(t, err)
	b[0] ^= 0x40
	_, err = f.WriteAt(b, pos)
	require.NoError(t, err)
	require.NoError(t, errors.Join(f.Sync(), f.Close()))
}
