//go:build linux

package log_test

import (
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// fileBytes reads the bytes a FetchResult's File names, as sendfile sends them.
func fileBytes(t testing.TB, f *segment.FileRange) []byte {
	t.Helper()
	b := make([]byte, f.Len())
	_, err := f.File().ReadAt(b, f.Pos())
	require.NoError(t, err)
	return b
}

// sendThroughSocket sends f with FileRange.SendTo through a connected TCP
// socket pair and returns what the other end received.
func sendThroughSocket(t testing.TB, f *segment.FileRange) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	server, err := ln.Accept()
	require.NoError(t, err)
	received := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		received <- b
	}()
	rc, err := server.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	sent := 0
	var sendErr error
	require.NoError(t, rc.Write(func(fd uintptr) bool {
		for sent < f.Len() {
			n, err := f.SendTo(int(fd), sent)
			sent += n
			if err == syscall.EAGAIN {
				return false // wait until writable
			}
			if err != nil {
				sendErr = err
				return true
			}
		}
		return true
	}))
	require.NoError(t, sendErr)
	require.NoError(t, server.Close())
	return <-received
}

// fileTestBatches appends to tp of each store the same mix of plain and
// compressed batches, of 1 to 40 records of growing sizes.
func fileTestBatches(t *testing.T, stores []*log.Store, tp log.TopicPartition, n int) {
	ctx := testContext(t)
	for i := range n {
		values := make([]string, 1+i%40)
		for j := range values {
			values[j] = fmt.Sprintf("%d-%d-%0*d", i, j, 10+(i*j)%300, j)
		}
		o := &segment.BatchOptions{}
		if i%3 == 1 {
			o.Compression = segment.CompressionZstd
		}
		for _, s := range stores {
			_, err := s.AppendBatch(ctx, tp, clientBatch(t, o, values...), log.AppendBatchOptions{})
			require.NoError(t, err)
		}
	}
}

// TestServeFetchFileNamesExactlyTheBytesFetched checks, for every offset and a
// range of byte limits, that the file range a fetch names holds exactly the bytes
// of its Batches and of the same fetch from a store that reads by copying (a
// memory filesystem): the whole batch holding the offset first, batch
// boundaries, byte limits, from sealed segments and the active one.
func TestServeFetchFileNamesExactlyTheBytesFetched(t *testing.T) {
	config := log.TopicConfig{SegmentBytes: 16 << 10}
	onDisk, err := log.Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer onDisk.Close()
	createTopic(t, onDisk, "t", config)
	inMemory := openStore(t, vfs.NewMem(), nil)
	createTopic(t, inMemory, "t", config)
	fileTestBatches(t, []*log.Store{onDisk, inMemory}, tp("t", 0), 120)
	ctx := testContext(t)

	end, err := onDisk.FetchBatches(ctx, tp("t", 0), 0, 1, log.ReadUncommitted)
	require.NoError(t, err)
	highWatermark := end.HighWatermark
	end.Release()
	require.Greater(t, highWatermark, int64(1000))
	fromFile := 0
	for offset := int64(0); offset <= highWatermark; offset += 7 {
		for _, maxBytes := range []int{1, 300, 4000, 9000, 20000, 1 << 20} {
			copied, err := inMemory.FetchBatches(ctx, tp("t", 0), offset, maxBytes, log.ReadUncommitted)
			require.NoError(t, err)
			require.Nil(t, copied.File, "a memory filesystem lends no descriptor")
			r, err := onDisk.FetchBatches(ctx, tp("t", 0), offset, maxBytes, log.ReadUncommitted)
			require.NoError(t, err)
			require.Equal(t, copied.Batches, r.Batches, "offset %d, max %d", offset, maxBytes)
			if len(r.Batches) == 0 {
				require.Nil(t, r.File, "offset %d: nothing to send", offset)
			} else {
				require.NotNil(t, r.File, "offset %d, max %d", offset, maxBytes)
				require.Equal(t, copied.Batches, fileBytes(t, r.File), "offset %d, max %d", offset, maxBytes)
				fromFile++
			}
			r.Release()
			copied.Release()
		}
	}
	require.Greater(t, fromFile, 500)
}

// TestServeFetchFileReadCommittedNamesTheCutBatches checks that a
// read_committed fetch's file range ends where its Batches do, at the last
// stable offset.
func TestServeFetchFileReadCommittedNamesTheCutBatches(t *testing.T) {
	s, err := log.Open(t.TempDir(), &log.Options{TransactionCheckInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	createTopic(t, s, "t", log.TopicConfig{})
	ctx := testContext(t)
	c, err := s.TxnCoordinator()
	require.NoError(t, err)
	id, err := c.InitProducerID(ctx, "tx", 0, nil)
	require.NoError(t, err)
	_, err = s.AppendBatch(ctx, tp("t", 0), clientBatch(t, nil, "a", "b"), log.AppendBatchOptions{})
	require.NoError(t, err)
	_, err = s.AppendBatch(ctx, tp("t", 0), clientBatch(t, &segment.BatchOptions{Idempotent: true, Transactional: true,
		ProducerID: id.ProducerID, ProducerEpoch: id.ProducerEpoch}, "x"), log.AppendBatchOptions{TransactionalID: "tx"})
	require.NoError(t, err)
	_, err = s.AppendBatch(ctx, tp("t", 0), clientBatch(t, nil, "c"), log.AppendBatchOptions{})
	require.NoError(t, err)

	r, err := s.FetchBatches(ctx, tp("t", 0), 0, 1<<20, log.ReadCommitted)
	require.NoError(t, err)
	require.Equal(t, int64(1), batchCount(t, r.Batches), "the open transaction holds the last stable offset")
	require.NotNil(t, r.File)
	require.Equal(t, r.Batches, fileBytes(t, r.File))
	r.Release()
	r, err = s.FetchBatches(ctx, tp("t", 0), 2, 1<<20, log.ReadCommitted)
	require.NoError(t, err)
	require.Empty(t, r.Batches)
	require.Nil(t, r.File, "nothing below the last stable offset from there")
	r.Release()
}

// TestServeFetchFileOutlivesRetentionCompactionAndClose checks that the file
// range of a fetch still sends the bytes fetched after its segment was deleted
// (DeleteRecords, retention), replaced by compaction, and the store closed.
func TestServeFetchFileOutlivesRetentionCompactionAndClose(t *testing.T) {
	s, err := log.Open(t.TempDir(), &log.Options{RetentionCheckInterval: -1})
	require.NoError(t, err)
	createTopic(t, s, "deleted", log.TopicConfig{SegmentBytes: 4 << 10})
	createTopic(t, s, "compacted", log.TopicConfig{SegmentBytes: 4 << 10, CleanupPolicy: log.CleanupCompact, MinCleanableDirtyRatio: 0.01})
	ctx := testContext(t)
	fileTestBatches(t, []*log.Store{s}, tp("deleted", 0), 40)
	for i := range 400 { // one key, rewritten: compaction keeps the last
		batch, err := segment.AppendBatch(nil, []segment.Record{{Timestamp: 1_700_000_000_000, Key: []byte("key"), Value: fmt.Appendf(nil, "%0100d", i)}}, &segment.BatchOptions{})
		require.NoError(t, err)
		_, err = s.AppendBatch(ctx, tp("compacted", 0), batch, log.AppendBatchOptions{})
		require.NoError(t, err)
	}
	fetch := func(topic string) (log.FetchResult, []byte) {
		r, err := s.FetchBatches(ctx, tp(topic, 0), 0, 3000, log.ReadUncommitted)
		require.NoError(t, err)
		require.NotNil(t, r.File)
		return r, append([]byte(nil), r.Batches...)
	}
	deleted, wantDeleted := fetch("deleted")
	compacted, wantCompacted := fetch("compacted")

	require.NoError(t, s.DeleteRecords(ctx, tp("deleted", 0), 500))
	after, err := s.FetchBatches(ctx, tp("deleted", 0), 500, 1, log.ReadUncommitted)
	require.NoError(t, err)
	require.Equal(t, int64(500), after.LogStartOffset, "the fetched segment is gone")
	after.Release()
	result, err := s.CompactPartition(ctx, tp("compacted", 0))
	require.NoError(t, err)
	require.True(t, result.Compacted, "the fetched segment is replaced")
	require.NoError(t, s.Close())

	require.Equal(t, wantDeleted, fileBytes(t, deleted.File))
	require.Equal(t, wantDeleted, sendThroughSocket(t, deleted.File))
	require.Equal(t, wantCompacted, sendThroughSocket(t, compacted.File))
	deleted.Release()
	compacted.Release()
	require.Nil(t, deleted.File)
}

// TestServeFetchFileFromTheLeaderOfSeveralBrokers checks that a store of
// several brokers names its leader's batches as a file range too, through the
// broker that leads.
func TestServeFetchFileFromTheLeaderOfSeveralBrokers(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, log.InitBrokers(vfs.OS, dir, map[replica.BrokerID]string{0: "", 1: "", 2: ""}))
	s, err := log.Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	createTopic(t, s, "t", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	ctx := testContext(t)
	leading, err := s.Broker(describe(t, s, "t").Partitions[0].Leader)
	require.NoError(t, err)
	_, err = leading.AppendBatch(ctx, tp("t", 0), clientBatch(t, nil, "a", "b"), log.AppendBatchOptions{Acks: log.AcksAll})
	require.NoError(t, err)
	r, err := leading.FetchBatches(ctx, tp("t", 0), 0, 1<<20, log.ReadUncommitted)
	require.NoError(t, err)
	defer r.Release()
	require.Equal(t, int64(1), batchCount(t, r.Batches))
	require.NotNil(t, r.File)
	require.Equal(t, r.Batches, fileBytes(t, r.File))
}
