package log_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// testTimeout bounds every wait of a test, so that a bug fails instead of hanging.
const testTimeout = 20 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openStore opens a store in /data of fsys and closes it at the end of the test.
func openStore(t testing.TB, fsys vfs.FS, opts *log.Options) *log.Store {
	t.Helper()
	var o log.Options
	if opts != nil {
		o = *opts
	}
	o.FS = fsys
	s, err := log.Open("/data", &o)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func createTopic(t testing.TB, s *log.Store, name string, config log.TopicConfig) {
	t.Helper()
	require.NoError(t, s.CreateTopic(context.Background(), name, config))
}

// value is the value tests write for the i-th record of a key.
func value(key string, i int) []byte { return fmt.Appendf(nil, "%s/%d", key, i) }

// produce writes n records to topic (partition p) synchronously, in one call; the
// values are value(topic, offset) if the partition was empty.
func produce(t testing.TB, s *log.Store, topic string, p int32, n int) []*log.Record {
	return produceFrom(t, s, topic, p, 0, n)
}

func produceFrom(t testing.TB, s *log.Store, topic string, p int32, first, n int) []*log.Record {
	t.Helper()
	records := make([]*log.Record, n)
	for i := range records {
		records[i] = &log.Record{Topic: topic, Partition: p, ExplicitPartition: true, Value: value(topic, first+i)}
	}
	require.NoError(t, s.Produce(context.Background(), records...))
	return records
}

// produceInCalls writes n records in calls of batch records each (so in at least
// n/batch batches).
func produceInCalls(t testing.TB, s *log.Store, topic string, p int32, n, batch int) {
	t.Helper()
	for first := 0; first < n; first += batch {
		produceFrom(t, s, topic, p, first, min(batch, n-first))
	}
}

// pollN polls until it has at least n records (or fails the test on error).
func pollN(t testing.TB, c *log.Consumer, n int) []*log.Record {
	t.Helper()
	ctx := testContext(t)
	var out []*log.Record
	for len(out) < n {
		records, err := c.Poll(ctx)
		require.NoError(t, err)
		out = append(out, records...)
	}
	return out
}

func tp(topic string, p int32) log.TopicPartition {
	return log.TopicPartition{Topic: topic, Partition: p}
}

func describe(t testing.TB, s *log.Store, name string) log.TopicDescription {
	t.Helper()
	d, err := s.DescribeTopic(name)
	require.NoError(t, err)
	return d
}

// logBuffer collects a store's log lines (text format), safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger returns a logger writing every level to b.
func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
