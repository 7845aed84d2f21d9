package log_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// The store the corruption sweep damages, and what was acknowledged in it.
//
// It is built once per test run, the same every time (a fixed clock, a seeded
// generator), in two lives of the store so that, after a crash, some partitions have
// a clean checkpoint and others do not:
//
//	life 1: orders (3 partitions), users (2, compacted), events (1, zstd);
//	        produce, roll and compact users and __consumer_offsets, commit offsets
//	        of two groups several times; close.
//	life 2: produce to orders-0, orders-1, users-0, commit again; Store.Sync (the
//	        recovery points are recorded, as the store does every second); produce
//	        a few more records to orders-0 (fsynced, above the recorded point: the
//	        window the file cannot cover); then either close (the clean image) or
//	        lose power (the unclean image).
//
// Segments are small (16 KiB for orders, 1 KiB for the others), so each partition
// has sealed segments and an active one, and some records of orders are over a KiB,
// so that its indexes (an entry per 4 KiB of log) have several entries. Every record is produced with Store.Produce under the default durability
// (fsynced before it returns), so DropUnsynced loses nothing acknowledged.

const sweepDir = "/data"

// sweepClock is the store's clock: fixed, so that no tombstone or group offset
// expires and every build writes the same bytes.
var sweepClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sweepOptions are the options of every store of the sweep: no background
// retention, compaction or recording of recovery points (Store.Sync records them,
// at a fixed point), offsets kept forever.
func sweepOptions(fsys vfs.FS, logger *slog.Logger) *log.Options {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &log.Options{
		FS:                     fsys,
		Logger:                 logger,
		Now:                    func() time.Time { return sweepClock },
		RetentionCheckInterval: -1,
		RecoveryPointInterval:  -1,
		OffsetsRetention:       -1,
	}
}

// sweepTopics are the topics of the store, by name.
var sweepTopics = map[string]log.TopicConfig{
	"orders": {Partitions: 3, SegmentBytes: 16 << 10},
	"users":  {Partitions: 2, SegmentBytes: 1 << 10, CleanupPolicy: log.CleanupCompact},
	"events": {Partitions: 1, SegmentBytes: 1 << 10, Compression: log.CompressionZstd},
}

// ackedRecord is a record as Produce acknowledged it.
type ackedRecord struct {
	Offset     int64
	Key, Value []byte // Value nil: a tombstone
	Timestamp  time.Time
}

// acknowledgements is everything the sweep's store acknowledged: the records of
// each partition in offset order (every offset from 0 to the end was acknowledged),
// and each group's committed offsets.
type acknowledgements struct {
	records   map[log.TopicPartition][]ackedRecord
	committed map[string]map[log.TopicPartition]int64
}

// compacted reports whether tp's topic is compacted: there, only each key's latest
// record is sure to be kept.
func (a *acknowledgements) compacted(tp log.TopicPartition) bool {
	return sweepTopics[tp.Topic].CleanupPolicy == log.CleanupCompact
}

// partitions returns the partitions with acknowledged records, sorted.
func (a *acknowledgements) partitions() []log.TopicPartition {
	var out []log.TopicPartition
	for tp := range a.records {
		out = append(out, tp)
	}
	slices.SortFunc(out, func(x, y log.TopicPartition) int { return strings.Compare(x.String(), y.String()) })
	return out
}

// end returns tp's acknowledged end offset.
func (a *acknowledgements) end(tp log.TopicPartition) int64 {
	records := a.records[tp]
	if len(records) == 0 {
		return 0
	}
	return records[len(records)-1].Offset + 1
}

// below returns the acknowledgements of tp's records below offset, as if the
// partition had ended there.
func (a *acknowledgements) below(tp log.TopicPartition, offset int64) *acknowledgements {
	out := &acknowledgements{records: map[log.TopicPartition][]ackedRecord{}}
	for _, r := range a.records[tp] {
		if r.Offset < offset {
			out.records[tp] = append(out.records[tp], r)
		}
	}
	return out
}

// sweepImages is the store, after its second life closed cleanly and after a power
// loss in it.
type sweepImages struct {
	clean, unclean *vfs.CrashableFS
	acked          *acknowledgements
	// recoveryPoints is what the unclean image's recovery-points.checkpoint holds,
	// by partition directory.
	recoveryPoints map[string]int64
}

// image returns a private copy of the clean or unclean store, to damage.
func (im *sweepImages) image(clean bool) *vfs.CrashableFS {
	if clean {
		return im.clean.Crash(vfs.DropUnsynced, 0) // everything is durable: an exact copy
	}
	return im.unclean.Crash(vfs.DropUnsynced, 0)
}

// sweepBuilder builds the store and records what it acknowledged.
type sweepBuilder struct {
	t     testing.TB
	ctx   context.Context
	store *log.Store
	rng   *rand.Rand
	acked *acknowledgements
	stamp time.Time // the next record's timestamp: strictly increasing
}

// buildSweepStore builds the store the sweep damages (see above).
func buildSweepStore(t testing.TB) *sweepImages {
	t.Helper()
	fsys := vfs.NewCrashable()
	b := &sweepBuilder{
		t:     t,
		ctx:   context.Background(),
		rng:   rand.New(rand.NewPCG(11, 0)),
		acked: &acknowledgements{records: map[log.TopicPartition][]ackedRecord{}, committed: map[string]map[log.TopicPartition]int64{}},
		stamp: sweepClock.Add(-time.Hour),
	}
	orders, users, events := partitionsOf("orders", 3), partitionsOf("users", 2), partitionsOf("events", 1)
	offsets := tp(log.OffsetsTopic, 0)

	// Life 1.
	b.open(fsys)
	for _, name := range slices.Sorted(maps.Keys(sweepTopics)) {
		createTopic(t, b.store, name, sweepTopics[name])
	}
	for round := range 12 {
		for _, p := range slices.Concat(orders, orders) {
			b.produce(p, 1+b.rng.IntN(4))
		}
		b.produce(users[round%2], 1+b.rng.IntN(3))
		b.produce(users[(round+1)%2], 1)
		b.produce(events[0], 1+b.rng.IntN(5))
		if round%3 == 2 {
			b.commit("billing", orders...)
			b.commit("audit", append(users, events...)...)
			log.RollPartition(t, b.store, offsets)
		}
		if round == 7 {
			for _, p := range users {
				log.RollPartition(t, b.store, p)
				b.compact(p)
			}
			b.compact(offsets)
		}
	}
	require.NoError(t, b.store.Close())

	// Life 2: some partitions change, the others keep their clean checkpoints.
	b.open(fsys)
	for range 4 {
		b.produce(orders[0], 1+b.rng.IntN(4))
		b.produce(orders[1], 1+b.rng.IntN(4))
		b.produce(users[0], 1+b.rng.IntN(3))
	}
	b.commit("billing", orders[0], orders[1])
	// A power loss more than RecoveryPointInterval after these records: the
	// recovery points cover them. Then a few records the file does not cover.
	require.NoError(t, b.store.Sync(b.ctx))
	b.produce(orders[0], 2)
	b.produce(orders[0], 3)
	unclean := fsys.Crash(vfs.DropUnsynced, 0) // the power goes while the store is open
	require.NoError(t, b.store.Close())
	recorded, err := log.RecordedRecoveryPoints(unclean, sweepDir)
	require.NoError(t, err)
	require.Less(t, recorded[orders[0].String()], b.acked.end(orders[0]), "records above the recorded point")
	return &sweepImages{clean: fsys.Crash(vfs.DropUnsynced, 0), unclean: unclean, acked: b.acked, recoveryPoints: recorded}
}

func (b *sweepBuilder) open(fsys vfs.FS) {
	s, err := log.Open(sweepDir, sweepOptions(fsys, nil))
	require.NoError(b.t, err)
	b.store = s
}

// produce writes n records to p in one Produce call (one batch), and records them
// as acknowledged. Values are mostly short, sometimes over a KiB; a compacted
// topic gets keys from a small set, and now and then a tombstone.
func (b *sweepBuilder) produce(p log.TopicPartition, n int) {
	records := make([]*log.Record, n)
	for i := range records {
		key := fmt.Appendf(nil, "%s-key-%d", p, b.rng.IntN(1000))
		if b.acked.compacted(p) {
			key = fmt.Appendf(nil, "user-%d", b.rng.IntN(9))
		}
		size := 10 + b.rng.IntN(200)
		if b.rng.IntN(6) == 0 && !b.acked.compacted(p) {
			size = 1200 + b.rng.IntN(800)
		}
		value := fmt.Appendf(nil, "%s@%d:%s", p, len(b.acked.records[p])+i, strings.Repeat(string(rune('a'+b.rng.IntN(26))), size))
		if b.acked.compacted(p) && b.rng.IntN(8) == 0 {
			value = nil
		}
		b.stamp = b.stamp.Add(time.Millisecond)
		records[i] = &log.Record{Topic: p.Topic, Partition: p.Partition, ExplicitPartition: true, Key: key, Value: value, Timestamp: b.stamp}
	}
	require.NoError(b.t, b.store.Produce(b.ctx, records...))
	for _, r := range records {
		b.acked.records[p] = append(b.acked.records[p], ackedRecord{Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp})
	}
}

// commit commits, for group, the position of a consumer part way through each of
// tps (somewhere in the acknowledged records, so that the offsets change).
func (b *sweepBuilder) commit(group string, tps ...log.TopicPartition) {
	offsets := map[log.TopicPartition]log.OffsetAndMetadata{}
	if b.acked.committed[group] == nil {
		b.acked.committed[group] = map[log.TopicPartition]int64{}
	}
	for _, p := range tps {
		offset := b.rng.Int64N(b.acked.end(p) + 1)
		offsets[p] = log.OffsetAndMetadata{Offset: offset, Metadata: fmt.Sprintf("%s at %d", group, offset)}
		b.acked.committed[group][p] = offset
	}
	require.NoError(b.t, b.store.CommitGroupOffsets(b.ctx, group, offsets))
}

func (b *sweepBuilder) compact(p log.TopicPartition) {
	_, err := b.store.CompactPartition(b.ctx, p)
	require.NoError(b.t, err, "compact %s", p)
}

func partitionsOf(topic string, n int) []log.TopicPartition {
	out := make([]log.TopicPartition, n)
	for i := range out {
		out[i] = tp(topic, int32(i))
	}
	return out
}
