package log_test

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/txn"
	"github.com/stratalog/strata/vfs"
)

// clientBatch encodes values as one batch, as a Kafka producer sends it (base
// offset 0), with o's options (nil: none).
func clientBatch(t testing.TB, o *segment.BatchOptions, values ...string) []byte {
	t.Helper()
	records := make([]segment.Record, len(values))
	for i, v := range values {
		records[i] = segment.Record{Timestamp: 1_700_000_000_000 + int64(i), Key: []byte("k" + v), Value: []byte(v)}
	}
	if o == nil {
		o = &segment.BatchOptions{}
	}
	b, err := segment.AppendBatch(nil, records, o)
	require.NoError(t, err)
	return b
}

// fetchAll fetches tp from offset, at most 1 MiB, and returns a copy of the
// result's batches with the result (released).
func fetchAll(t testing.TB, s *log.Store, tp log.TopicPartition, offset int64, level log.IsolationLevel) ([]byte, log.FetchResult) {
	t.Helper()
	r, err := s.FetchBatches(testContext(t), tp, offset, 1<<20, level)
	require.NoError(t, err)
	b := append([]byte(nil), r.Batches...)
	r.Release()
	return b, r
}

// requireSameBatch checks that got is want as the client sent it: every byte from
// the magic on (the CRC and what it covers), with the base offset the leader set.
func requireSameBatch(t testing.TB, want []byte, base int64, got []byte) {
	t.Helper()
	require.Len(t, got, len(want))
	require.Equal(t, want[16:], got[16:], "the batch as the client sent it, CRC included")
	require.Equal(t, base, int64(binary.BigEndian.Uint64(got)))
}

func TestServeAppendBatchFetchesBackByteForByte(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	ctx := testContext(t)
	plain := clientBatch(t, nil, "a", "b", "c")
	zipped := clientBatch(t, &segment.BatchOptions{Compression: segment.CompressionZstd}, "d", "e")
	sentPlain, sentZipped := append([]byte(nil), plain...), append([]byte(nil), zipped...)

	base, err := s.AppendBatch(ctx, tp("t", 0), plain, log.AppendBatchOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(0), base)
	base, err = s.AppendBatch(ctx, tp("t", 0), zipped, log.AppendBatchOptions{Acks: log.AcksLeader})
	require.NoError(t, err)
	require.Equal(t, int64(3), base)
	require.NoError(t, s.Sync(ctx))

	got, r := fetchAll(t, s, tp("t", 0), 0, log.ReadUncommitted)
	require.Equal(t, int64(5), r.HighWatermark)
	require.Equal(t, int64(5), r.LastStableOffset)
	require.Equal(t, int64(0), r.LogStartOffset)
	requireSameBatch(t, sentPlain, 0, got[:len(sentPlain)])
	requireSameBatch(t, sentZipped, 3, got[len(sentPlain):])
	require.Equal(t, []string{"a", "b", "c", "d", "e"}, consumeValues(t, s, "t", 0), "the store reads what the client wrote")

	empty, r := fetchAll(t, s, tp("t", 0), 5, log.ReadUncommitted)
	require.Empty(t, empty, "at the high watermark")
	require.Equal(t, int64(5), r.HighWatermark)
	_, err = s.FetchBatches(ctx, tp("t", 0), 6, 1<<20, log.ReadUncommitted)
	require.ErrorIs(t, err, log.ErrOffsetOutOfRange)
}

func TestServeFetchMidBatchReturnsTheWholeBatch(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	ctx := testContext(t)
	first := clientBatch(t, nil, "a", "b", "c", "d", "e")
	second := clientBatch(t, nil, "f")
	_, err := s.AppendBatch(ctx, tp("t", 0), first, log.AppendBatchOptions{})
	require.NoError(t, err)
	_, err = s.AppendBatch(ctx, tp("t", 0), second, log.AppendBatchOptions{})
	require.NoError(t, err)

	got, _ := fetchAll(t, s, tp("t", 0), 2, log.ReadUncommitted)
	require.Len(t, got, len(first)+len(second))
	require.Equal(t, first, got[:len(first)], "the batch holding offset 2, from its base offset 0")

	r, err := s.FetchBatches(ctx, tp("t", 0), 4, 1, log.ReadUncommitted)
	require.NoError(t, err)
	defer r.Release()
	require.Equal(t, first, r.Batches, "at least one whole batch, however small maxBytes")
}

func TestServeIdempotentDuplicateReturnsTheOriginalOffset(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	ctx := testContext(t)
	c, err := s.TxnCoordinator()
	require.NoError(t, err)
	id, err := c.InitProducerID(ctx, "", 0, nil) // an idempotent producer's InitProducerId
	require.NoError(t, err)
	o := func(seq int32) *segment.BatchOptions {
		return &segment.BatchOptions{Idempotent: true, ProducerID: id.ProducerID, ProducerEpoch: id.ProducerEpoch, BaseSequence: seq}
	}
	first := clientBatch(t, o(0), "a", "b")
	retry := append([]byte(nil), first...)
	base, err := s.AppendBatch(ctx, tp("t", 0), first, log.AppendBatchOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(0), base)
	base, err = s.AppendBatch(ctx, tp("t", 0), clientBatch(t, o(2), "c"), log.AppendBatchOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(2), base)

	base, err = s.AppendBatch(ctx, tp("t", 0), retry, log.AppendBatchOptions{})
	require.NoError(t, err, "a duplicate is answered with success, as Kafka does")
	require.Equal(t, int64(0), base, "the original's offset")
	_, err = s.AppendBatch(ctx, tp("t", 0), clientBatch(t, o(7), "gap"), log.AppendBatchOptions{})
	require.ErrorIs(t, err, partition.ErrOutOfOrderSequence)
	require.Equal(t, []string{"a", "b", "c"}, consumeValues(t, s, "t", 0), "nothing written twice")
}

// withAttributes returns a copy of batch with its attributes set to attrs and its
// CRC computed again: a valid batch as a client could send it.
func withAttributes(batch []byte, attrs int16) []byte {
	b := append([]byte(nil), batch...)
	binary.BigEndian.PutUint16(b[21:], uint16(attrs))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func TestServeAppendBatchRefusals(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{MaxBatchBytes: 4096})
	createTopic(t, s, "table", log.TopicConfig{CleanupPolicy: log.CleanupCompact})
	ctx := testContext(t)
	keyless, err := segment.AppendBatch(nil, []segment.Record{{Timestamp: 1, Value: []byte("v")}}, &segment.BatchOptions{})
	require.NoError(t, err)
	badCRC := clientBatch(t, nil, "a")
	badCRC[len(badCRC)-1] ^= 1
	tooLarge := clientBatch(t, nil, string(make([]byte, 5000)))
	for _, c := range []struct {
		name  string
		tp    log.TopicPartition
		batch []byte
		want  error
	}{
		{"lz4", tp("t", 0), withAttributes(clientBatch(t, nil, "a"), int16(segment.CompressionLZ4)), log.ErrUnsupportedCompression},
		{"crc", tp("t", 0), badCRC, log.ErrBatchChecksum},
		{"control batch", tp("t", 0), withAttributes(clientBatch(t, nil, "a"), 0x20), log.ErrInvalidBatch},
		{"truncated", tp("t", 0), clientBatch(t, nil, "a")[:70], log.ErrInvalidBatch},
		{"keyless record for a compacted topic", tp("table", 0), keyless, log.ErrInvalidBatch},
		{"over MaxBatchBytes", tp("t", 0), tooLarge, log.ErrRecordTooLarge},
		{"internal topic", tp(log.OffsetsTopic, 0), clientBatch(t, nil, "a"), log.ErrInternalTopic},
		{"unknown partition", tp("t", 1), clientBatch(t, nil, "a"), log.ErrUnknownPartition},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.tp.Topic == log.OffsetsTopic {
				_, err := s.GroupCoordinator()
				require.NoError(t, err)
			}
			_, err := s.AppendBatch(ctx, c.tp, c.batch, log.AppendBatchOptions{})
			require.ErrorIs(t, err, c.want)
			require.NotErrorIs(t, err, log.ErrCorrupt, "a client's bad batch is not damage to the store")
		})
	}
	end, err := s.ListEndOffsets("t", "table")
	require.NoError(t, err)
	require.Equal(t, map[log.TopicPartition]int64{tp("t", 0): 0, tp("table", 0): 0}, end, "nothing written")
}

func TestServeReadCommittedListsAbortedTransactions(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{TransactionCheckInterval: -1})
	createTopic(t, s, "t", log.TopicConfig{})
	ctx := testContext(t)
	c, err := s.TxnCoordinator()
	require.NoError(t, err)
	id, err := c.InitProducerID(ctx, "tx", 0, nil)
	require.NoError(t, err)
	txnBatch := func(id txn.ProducerIDAndEpoch, seq int32, values ...string) []byte {
		return clientBatch(t, &segment.BatchOptions{Idempotent: true, Transactional: true,
			ProducerID: id.ProducerID, ProducerEpoch: id.ProducerEpoch, BaseSequence: seq}, values...)
	}
	_, err = s.AppendBatch(ctx, tp("t", 0), clientBatch(t, nil, "plain"), log.AppendBatchOptions{})
	require.NoError(t, err)

	// No AddPartitionsToTxn: the append adds the partition (KIP-890).
	aborted, err := s.AppendBatch(ctx, tp("t", 0), txnBatch(id, 0, "x", "y"), log.AppendBatchOptions{TransactionalID: "tx"})
	require.NoError(t, err)
	require.Equal(t, int64(1), aborted)
	md, err := c.Describe("tx")
	require.NoError(t, err)
	require.Equal(t, []txn.TopicPartition{tp("t", 0)}, md.Partitions)
	open, r := fetchAll(t, s, tp("t", 0), 0, log.ReadCommitted)
	require.Equal(t, int64(1), r.LastStableOffset, "the open transaction holds the last stable offset")
	require.Equal(t, int64(3), r.HighWatermark)
	require.Equal(t, int64(1), batchCount(t, open), "read_committed stops below it")

	end, err := c.EndTxn(ctx, "tx", id, false)
	require.NoError(t, err)
	committed, err := s.AppendBatch(ctx, tp("t", 0), txnBatch(end.ProducerIDAndEpoch, 0, "z"), log.AppendBatchOptions{TransactionalID: "tx"})
	require.NoError(t, err)
	_, err = c.EndTxn(ctx, "tx", end.ProducerIDAndEpoch, true)
	require.NoError(t, err)

	got, r := fetchAll(t, s, tp("t", 0), 0, log.ReadCommitted)
	require.Equal(t, r.HighWatermark, r.LastStableOffset)
	require.Equal(t, []log.AbortedTransaction{{ProducerID: id.ProducerID, FirstOffset: aborted}}, r.AbortedTransactions)
	require.Equal(t, int64(5), batchCount(t, got), "plain, aborted, ABORT marker, committed, COMMIT marker")
	_, r = fetchAll(t, s, tp("t", 0), committed, log.ReadCommitted)
	require.Empty(t, r.AbortedTransactions, "none among the batches fetched")
	_, r = fetchAll(t, s, tp("t", 0), 0, log.ReadUncommitted)
	require.Empty(t, r.AbortedTransactions, "read_uncommitted needs none")

	// A batch of the epoch the abort fenced never opens a transaction again.
	_, err = s.AppendBatch(ctx, tp("t", 0), txnBatch(id, 2, "late"), log.AppendBatchOptions{TransactionalID: "tx"})
	require.ErrorIs(t, err, log.ErrProducerFenced)
}

// batchCount counts the whole batches of b.
func batchCount(t testing.TB, b []byte) int64 {
	t.Helper()
	var n int64
	for len(b) > 0 {
		h, err := segment.ParseBatchHeader(b, len(b))
		require.NoError(t, err)
		b, n = b[h.Size():], n+1
	}
	return n
}

func TestServeBrokersRouteToTheLeader(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "t", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	ctx := testContext(t)
	leader := describe(t, s, "t").Partitions[0].Leader
	other := (leader + 1) % 3
	_, err := s.Broker(7)
	require.ErrorIs(t, err, replica.ErrUnknownBroker)
	leading, err := s.Broker(leader)
	require.NoError(t, err)
	follower, err := s.Broker(other)
	require.NoError(t, err)

	_, err = follower.AppendBatch(ctx, tp("t", 0), clientBatch(t, nil, "a"), log.AppendBatchOptions{})
	var notLeader *log.NotLeaderError
	require.ErrorAs(t, err, &notLeader)
	require.Equal(t, log.NotLeaderError{TopicPartition: tp("t", 0), Broker: other, Leader: leader}, *notLeader)
	sent := clientBatch(t, nil, "a", "b")
	want := append([]byte(nil), sent...)
	base, err := leading.AppendBatch(ctx, tp("t", 0), sent, log.AppendBatchOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(0), base, "the follower wrote nothing")
	_, err = follower.FetchBatches(ctx, tp("t", 0), 0, 1<<20, log.ReadUncommitted)
	require.ErrorAs(t, err, &notLeader)
	require.Equal(t, leader, notLeader.Leader)
	require.ErrorIs(t, err, log.ErrNotLeader)
	require.NoError(t, follower.WaitForData(ctx, log.ReadUncommitted, map[log.TopicPartition]int64{tp("t", 0): 5}), "returns at once: the fetch reports it")

	firstEpoch := describe(t, s, "t").Partitions[0].LeaderEpoch
	require.NoError(t, s.StopBroker(leader))
	next := describe(t, s, "t").Partitions[0].Leader
	require.NotEqual(t, leader, next)
	require.NotEqual(t, replica.NoBroker, next)
	_, err = leading.FetchBatches(ctx, tp("t", 0), 0, 1<<20, log.ReadUncommitted)
	require.ErrorAs(t, err, &notLeader)
	require.Equal(t, next, notLeader.Leader, "names the new leader")
	serving, err := s.Broker(next)
	require.NoError(t, err)
	r, err := serving.FetchBatches(ctx, tp("t", 0), 1, 1<<20, log.ReadUncommitted)
	require.NoError(t, err)
	defer r.Release()
	requireSameBatch(t, want, 0, r.Batches)
	require.Equal(t, int64(2), r.HighWatermark)
	require.Greater(t, r.LeaderEpoch, firstEpoch, "the new leader's epoch")
	epoch, end, err := serving.EndOffsetForEpoch(ctx, tp("t", 0), firstEpoch)
	require.NoError(t, err)
	require.Equal(t, firstEpoch, epoch)
	require.Equal(t, int64(2), end, "the first leader's epoch ended after its batch")
	_, _, err = leading.EndOffsetForEpoch(ctx, tp("t", 0), firstEpoch)
	require.ErrorIs(t, err, log.ErrNotLeader)
	base, err = serving.AppendBatch(ctx, tp("t", 0), clientBatch(t, nil, "c"), log.AppendBatchOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(2), base)
	base, err = s.AppendBatch(ctx, tp("t", 0), clientBatch(t, nil, "d"), log.AppendBatchOptions{})
	require.NoError(t, err, "the store's AppendBatch follows the leader")
	require.Equal(t, int64(3), base)
}

func TestServeWaitForDataWakesOnAppendAndOnContextEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := log.Open("/data", &log.Options{FS: vfs.NewMem()})
		require.NoError(t, err)
		defer s.Close()
		createTopic(t, s, "a", log.TopicConfig{})
		createTopic(t, s, "b", log.TopicConfig{})
		ctx := context.Background()
		positions := map[log.TopicPartition]int64{tp("a", 0): 0, tp("b", 0): 0}

		woke := make(chan error, 1)
		go func() { woke <- s.WaitForData(ctx, log.ReadUncommitted, positions) }()
		synctest.Wait()
		require.Empty(t, woke, "nothing to read: it waits")
		_, err = s.AppendBatch(ctx, tp("b", 0), clientBatch(t, nil, "x"), log.AppendBatchOptions{})
		require.NoError(t, err)
		synctest.Wait()
		require.NoError(t, <-woke)
		require.NoError(t, s.WaitForData(ctx, log.ReadUncommitted, positions), "data past a position: at once")

		positions[tp("b", 0)] = 1
		cancelled, cancel := context.WithCancel(ctx)
		go func() { woke <- s.WaitForData(cancelled, log.ReadUncommitted, positions) }()
		synctest.Wait()
		require.Empty(t, woke)
		cancel()
		synctest.Wait()
		require.True(t, errors.Is(<-woke, context.Canceled))
	})
}

func TestServeIdempotentDuplicateThroughTheLeaderOfSeveralBrokers(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "t", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	ctx := testContext(t)
	leader, err := s.Broker(describe(t, s, "t").Partitions[0].Leader)
	require.NoError(t, err)
	o := &segment.BatchOptions{Idempotent: true, ProducerID: 42, ProducerEpoch: 0, BaseSequence: 0}
	sent := clientBatch(t, o, "a", "b")
	retry := append([]byte(nil), sent...)
	base, err := leader.AppendBatch(ctx, tp("t", 0), sent, log.AppendBatchOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(0), base)
	base, err = leader.AppendBatch(ctx, tp("t", 0), retry, log.AppendBatchOptions{Acks: log.AcksLeader})
	require.NoError(t, err)
	require.Equal(t, int64(0), base, "the original's offset")
	require.Equal(t, int64(2), describe(t, s, "t").Partitions[0].EndOffset, "written once")
}

// On the OS filesystem the batches are a view of the segment's memory mapping,
// valid until Release even if the store closes meanwhile.
func TestServeFetchedBatchesOutliveCloseUntilRelease(t *testing.T) {
	s, err := log.Open(t.TempDir(), nil)
	require.NoError(t, err)
	createTopic(t, s, "t", log.TopicConfig{})
	ctx := testContext(t)
	sent := clientBatch(t, nil, "a", "b", "c")
	want := append([]byte(nil), sent...)
	_, err = s.AppendBatch(ctx, tp("t", 0), sent, log.AppendBatchOptions{})
	require.NoError(t, err)
	r, err := s.FetchBatches(ctx, tp("t", 0), 0, 1<<20, log.ReadUncommitted)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	requireSameBatch(t, want, 0, r.Batches)
	r.Release()
	require.Nil(t, r.Batches)
	r.Release()
}

func TestServingBrokerOnlineFollowsStopAndStart(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	b, err := s.Broker(1)
	require.NoError(t, err)
	require.True(t, b.Online())
	require.NoError(t, s.StopBroker(1))
	require.False(t, b.Online(), "stopped")
	other, err := s.Broker(2)
	require.NoError(t, err)
	require.True(t, other.Online(), "the others stay online")
	require.NoError(t, s.StartBroker(1))
	require.True(t, b.Online(), "started again")
	require.NoError(t, s.Close())
	require.False(t, b.Online(), "the store is closed")

	one := openStore(t, vfs.NewMem(), nil)
	only, err := one.Broker(0)
	require.NoError(t, err)
	require.True(t, only.Online(), "a one-broker store's broker")
}

func TestServingBrokerChangedAtStopAndStart(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "t", log.TopicConfig{ReplicationFactor: 3})
	b, err := s.Broker(1)
	require.NoError(t, err)
	changed := b.Changed()
	select {
	case <-changed:
		t.Fatal("closed before any change")
	default:
	}
	require.NoError(t, s.StopBroker(1))
	<-changed // StopBroker changed the ISR of t-0: closed, or this hangs
	require.False(t, b.Online(), "offline once the change is seen")
	changed = b.Changed()
	require.NoError(t, s.StartBroker(1))
	require.NoError(t, s.AwaitInSync(testContext(t)))
	<-changed
	require.True(t, b.Online())

	one := openStore(t, vfs.NewMem(), nil)
	only, err := one.Broker(0)
	require.NoError(t, err)
	closed := only.Changed()
	require.NoError(t, one.Close())
	<-closed // the store's close
}
