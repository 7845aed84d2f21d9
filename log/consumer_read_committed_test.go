package log_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// txnWriter writes transactional batches and markers straight to a partition's
// log, as the transaction coordinator and a transactional producer will.
type txnWriter struct {
	t testing.TB
	p *partition.Partition
}

// batch appends values as one transactional batch of producer id, at its next
// sequence (each producer here writes one batch).
func (w txnWriter) batch(id int64, values ...string) {
	w.t.Helper()
	records := make([]partition.Record, len(values))
	for i, v := range values {
		records[i] = partition.Record{Value: []byte(v)}
	}
	_, err := w.p.AppendWith(context.Background(), records, &partition.AppendOptions{Producer: &partition.Producer{ID: id, Transactional: true}})
	require.NoError(w.t, err)
}

// end writes the marker that commits or aborts producer id's transaction.
func (w txnWriter) end(id int64, typ partition.MarkerType) {
	w.t.Helper()
	_, err := w.p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: id, Type: typ})
	require.NoError(w.t, err)
}

// writeTransactions fills partition 0 of topic "t" with
//
//	0 a1, 1 a2   producer 1, committed (marker at 3)
//	2 b1         producer 2, aborted (marker at 4)
//	5 c1         producer 3, open
//	6 p1         a plain record
//
// and returns the writer, to commit producer 3 later. The last stable offset is 5.
func writeTransactions(t testing.TB, s *log.Store) txnWriter {
	t.Helper()
	w := txnWriter{t: t, p: log.PartitionLog(t, s, tp("t", 0))}
	w.batch(1, "a1", "a2")
	w.batch(2, "b1")
	w.end(1, partition.MarkerCommit)
	w.end(2, partition.MarkerAbort)
	w.batch(3, "c1")
	require.NoError(t, s.Produce(context.Background(), &log.Record{Topic: "t", Partition: 0, ExplicitPartition: true, Value: []byte("p1")}))
	return w
}

// readAll reads with TryNext until it returns nil, and returns the values and
// offsets read.
func readAll(t testing.TB, c *log.Consumer) (values []string, offsets []int64) {
	t.Helper()
	for {
		r, err := c.TryNext()
		require.NoError(t, err)
		if r == nil {
			return values, offsets
		}
		values, offsets = append(values, string(r.Value)), append(offsets, r.Offset)
	}
}

// requireCommittedLag checks c's Lag of t-0 and CaughtUp.
func requireCommittedLag(t testing.TB, c *log.Consumer, lag int64) {
	t.Helper()
	got, err := c.Lag(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, lag, got, "lag")
	caughtUp, err := c.CaughtUp()
	require.NoError(t, err)
	require.Equal(t, lag == 0, caughtUp, "caught up")
}

// requireEndOffsets checks ListEndOffsetsFor of topic t at both levels.
func requireEndOffsets(t testing.TB, s *log.Store, uncommitted, committed int64) {
	t.Helper()
	for level, want := range map[log.IsolationLevel]int64{log.ReadUncommitted: uncommitted, log.ReadCommitted: committed} {
		ends, err := s.ListEndOffsetsFor(level, "t")
		require.NoError(t, err)
		require.Equal(t, map[log.TopicPartition]int64{tp("t", 0): want}, ends, "%v", level)
	}
}

// read_uncommitted (the default) returns every data record, of open and aborted
// transactions too; read_committed returns only the committed ones and stops at
// the last stable offset, before the open transaction, whose records it returns
// once the transaction commits. Markers are returned at neither level. Lag,
// CaughtUp and ListEndOffsetsFor count to the end offset and to the last stable
// offset respectively.
func TestConsumerReadCommitted(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	w := writeTransactions(t, s)
	uncommitted := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	committed := newConsumer(t, s, log.ConsumerOptions{IsolationLevel: log.ReadCommitted}, tp("t", 0))

	requireEndOffsets(t, s, 7, 5)
	requireCommittedLag(t, uncommitted, 7)
	requireCommittedLag(t, committed, 5)

	values, offsets := readAll(t, uncommitted)
	require.Equal(t, []string{"a1", "a2", "b1", "c1", "p1"}, values)
	require.Equal(t, []int64{0, 1, 2, 5, 6}, offsets)
	requireCommittedLag(t, uncommitted, 0)

	values, offsets = readAll(t, committed)
	require.Equal(t, []string{"a1", "a2"}, values, "no aborted record, nothing of the open transaction nor after it")
	require.Equal(t, []int64{0, 1}, offsets)
	position, err := committed.Position(tp("t", 0))
	require.NoError(t, err)
	require.Equal(t, int64(5), position, "past the aborted batch and the markers, at the last stable offset")
	requireCommittedLag(t, committed, 0)

	w.end(3, partition.MarkerCommit) // at 7
	requireEndOffsets(t, s, 8, 8)
	requireCommittedLag(t, committed, 3)
	values, offsets = readAll(t, committed)
	require.Equal(t, []string{"c1", "p1"}, values)
	require.Equal(t, []int64{5, 6}, offsets)
	requireCommittedLag(t, committed, 0)
	values, _ = readAll(t, uncommitted)
	require.Empty(t, values, "the marker is no record")
	requireCommittedLag(t, uncommitted, 0)
}

// A read_committed Poll waits while an open transaction holds the last stable
// offset back, although the high watermark is past it (it does not spin: the
// bubble's goroutines become durably blocked), and returns its records once it
// commits.
func TestConsumerReadCommittedPollWaitsForTheCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{})
		w := writeTransactions(t, s)
		c := newConsumer(t, s, log.ConsumerOptions{IsolationLevel: log.ReadCommitted}, tp("t", 0))
		require.Len(t, pollN(t, c, 2), 2)

		polled := make(chan []*log.Record, 1)
		go func() {
			records, err := c.Poll(context.Background())
			if err != nil {
				t.Error(err)
			}
			polled <- records
		}()
		synctest.Wait()
		select {
		case records := <-polled:
			t.Fatalf("Poll returned %d records of an open transaction", len(records))
		default:
		}
		w.end(3, partition.MarkerCommit)
		records := <-polled
		var values []string
		for _, r := range records {
			values = append(values, string(r.Value))
		}
		require.Equal(t, []string{"c1", "p1"}, values)
	})
}

// SeekToEnd and ResetLatest move a read_committed consumer to the last stable
// offset, a read_uncommitted one to the end offset, as Kafka's consumers.
func TestConsumerReadCommittedSeekToEnd(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	w := writeTransactions(t, s)
	for _, c := range []struct {
		level log.IsolationLevel
		end   int64
	}{{log.ReadUncommitted, 7}, {log.ReadCommitted, 5}} {
		latest := newConsumer(t, s, log.ConsumerOptions{IsolationLevel: c.level, Reset: log.ResetLatest}, tp("t", 0))
		position, err := latest.Position(tp("t", 0))
		require.NoError(t, err)
		require.Equal(t, c.end, position, "ResetLatest, %v", c.level)

		sought := newConsumer(t, s, log.ConsumerOptions{IsolationLevel: c.level}, tp("t", 0))
		require.NoError(t, sought.SeekToEnd())
		position, err = sought.Position(tp("t", 0))
		require.NoError(t, err)
		require.Equal(t, c.end, position, "SeekToEnd, %v", c.level)
	}
	// From the last stable offset, read_committed reads the open transaction once
	// it commits.
	c := newConsumer(t, s, log.ConsumerOptions{IsolationLevel: log.ReadCommitted}, tp("t", 0))
	require.NoError(t, c.SeekToEnd())
	w.end(3, partition.MarkerCommit)
	values, _ := readAll(t, c)
	require.Equal(t, []string{"c1", "p1"}, values)
}

// A consumer bound to a partition opened again (AlterTopicConfig) reads it at its
// isolation level still.
func TestConsumerReadCommittedAfterReopen(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	writeTransactions(t, s)
	c := newConsumer(t, s, log.ConsumerOptions{IsolationLevel: log.ReadCommitted}, tp("t", 0))
	r, err := c.TryNext()
	require.NoError(t, err)
	require.Equal(t, "a1", string(r.Value))
	require.NoError(t, s.AlterTopicConfig(testContext(t), "t", log.TopicConfig{SegmentBytes: 4096}))
	values, _ := readAll(t, c)
	require.Equal(t, []string{"a2"}, values)
}

// An invalid isolation level is a *ConfigError of NewConsumer and
// NewGroupConsumer, and ErrInvalidArgument of ListEndOffsetsFor.
func TestConsumerReadCommittedInvalidLevel(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{})
	_, err := s.NewConsumer(log.ConsumerOptions{IsolationLevel: 2})
	var configErr *log.ConfigError
	require.ErrorAs(t, err, &configErr)
	require.ErrorContains(t, err, "IsolationLevel")
	_, err = s.NewGroupConsumer(log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}, IsolationLevel: -1})
	require.ErrorAs(t, err, &configErr)
	require.ErrorContains(t, err, "IsolationLevel")
	_, err = s.ListEndOffsetsFor(7, "t")
	require.ErrorIs(t, err, log.ErrInvalidArgument)
}

// A GroupConsumer in read_committed polls the committed records only, is caught
// up at the last stable offset, and polls the open transaction's records once it
// commits; one in read_uncommitted polls everything.
func TestGroupConsumerReadCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{})
		w := writeTransactions(t, s)
		ctx := context.Background()
		pollValues := func(g *log.GroupConsumer) []string {
			records, err := g.Poll(ctx)
			require.NoError(t, err)
			var values []string
			for _, r := range records {
				values = append(values, string(r.Value))
			}
			return values
		}
		requireGroupLag := func(g *log.GroupConsumer, lag int64) {
			t.Helper()
			got, err := g.Lag(tp("t", 0))
			require.NoError(t, err)
			require.Equal(t, lag, got)
			caughtUp, err := g.CaughtUp()
			require.NoError(t, err)
			require.Equal(t, lag == 0, caughtUp)
		}

		committed := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "rc", Topics: []string{"t"}, IsolationLevel: log.ReadCommitted})
		defer committed.Close()
		require.Equal(t, []string{"a1", "a2"}, pollValues(committed))
		requireGroupLag(committed, 0)

		uncommitted := newGroupConsumer(t, s, log.GroupConsumerOptions{Group: "ru", Topics: []string{"t"}})
		defer uncommitted.Close()
		require.Equal(t, []string{"a1", "a2", "b1", "c1", "p1"}, pollValues(uncommitted))
		requireGroupLag(uncommitted, 0)

		w.end(3, partition.MarkerCommit)
		requireGroupLag(committed, 3)
		require.Equal(t, []string{"c1", "p1"}, pollValues(committed))
		requireGroupLag(committed, 0)
	})
}

// In a store of several brokers the last stable offset is the leader's: its open
// transaction holds read_committed consumers and ListEndOffsetsFor back, and its
// commit, once replicated, releases them.
func TestConsumerReadCommittedBrokers(t *testing.T) {
	s := openBrokers(t, vfs.NewMem(), 3)
	createTopic(t, s, "t", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "t", 0, 2)
	w := txnWriter{t: t, p: log.PartitionLog(t, s, tp("t", 0))}
	w.batch(1, "open")              // at 2
	produceFrom(t, s, "t", 0, 3, 1) // at 3, acks=all: the high watermark passes the transaction
	requireEndOffsets(t, s, 4, 2)
	c := newConsumer(t, s, log.ConsumerOptions{IsolationLevel: log.ReadCommitted}, tp("t", 0))
	_, offsets := readAll(t, c)
	require.Equal(t, []int64{0, 1}, offsets)
	requireCommittedLag(t, c, 0)

	w.end(1, partition.MarkerCommit) // at 4
	produceFrom(t, s, "t", 0, 5, 1)  // at 5: the high watermark passes the marker
	requireEndOffsets(t, s, 6, 6)
	requireCommittedLag(t, c, 4)
	_, offsets = readAll(t, c)
	require.Equal(t, []int64{2, 3, 5}, offsets)
}

// A GroupTransactSession's consumer reads in read_committed, whatever its options
// say: it polls no record of an open or aborted transaction.
func TestGroupTransactSessionReadsCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, vfs.NewMem(), nil)
		createTopic(t, s, "t", log.TopicConfig{})
		writeTransactions(t, s)
		session, err := s.NewGroupTransactSession(log.GroupConsumerOptions{Group: "g", Topics: []string{"t"}}, log.ProducerOptions{TransactionalID: "copier"})
		require.NoError(t, err)
		defer session.Close()
		require.NoError(t, session.Begin())
		records, err := session.Poll(context.Background())
		require.NoError(t, err)
		var values []string
		for _, r := range records {
			values = append(values, string(r.Value))
		}
		require.Equal(t, []string{"a1", "a2"}, values)
	})
}
