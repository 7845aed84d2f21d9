package log_test

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// attrHandler records, for every log record, the message and the value of one
// attribute, those given to With included.
type attrHandler struct {
	key   string
	attrs []slog.Attr
	mu    *sync.Mutex
	seen  *[]loggedAttr
}

type loggedAttr struct {
	msg   string
	value slog.Value
}

func newAttrHandler(key string) *attrHandler {
	return &attrHandler{key: key, mu: &sync.Mutex{}, seen: new([]loggedAttr)}
}

func (h *attrHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *attrHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	record := func(a slog.Attr) {
		if a.Key == h.key {
			*h.seen = append(*h.seen, loggedAttr{r.Message, a.Value.Resolve()})
		}
	}
	for _, a := range h.attrs {
		record(a)
	}
	r.Attrs(func(a slog.Attr) bool { record(a); return true })
	return nil
}

func (h *attrHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := *h
	out.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &out
}

func (h *attrHandler) WithGroup(string) slog.Handler { return h }

func (h *attrHandler) logged() []loggedAttr {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]loggedAttr(nil), *h.seen...)
}

// Every "partition" attribute of the store's logs, and of its partitions', is the
// same kind of value: the partition's name, "topic-N" (a string), never a bare
// number beside a "topic" attribute, nor a directory path.
func TestLogPartitionAttributeIsTheName(t *testing.T) {
	h := newAttrHandler("partition")
	fsys := vfs.NewMem()
	opts := &log.Options{Logger: slog.New(h), RetentionCheckInterval: -1}
	s := openStore(t, fsys, opts)
	createTopic(t, s, "events", log.TopicConfig{Partitions: 2, SegmentBytes: 200, RetentionBytes: 200})
	for range 20 {
		require.NoError(t, s.Produce(context.Background(), &log.Record{Topic: "events", Partition: 1, ExplicitPartition: true, Value: []byte("0123456789")}))
	}
	_, err := s.ApplyRetention() // logs "retention deleted segments"
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, fsys.RemoveAll("/data/events-0"))
	s = openStore(t, fsys, opts) // logs the offline partition
	require.NoError(t, fsys.MkdirAll("/data/events-0", 0o755))
	require.NoError(t, s.ReopenPartition(context.Background(), tp("events", 0))) // logs it back online
	require.NoError(t, s.Close())

	name := regexp.MustCompile(`^events-[01]$`)
	messages := map[string]bool{}
	for _, a := range h.logged() {
		messages[a.msg] = true
		require.Equal(t, slog.KindString, a.value.Kind(), "%q: partition=%v", a.msg, a.value)
		require.Regexp(t, name, a.value.String(), "%q", a.msg)
	}
	for _, msg := range []string{"retention deleted segments", "partition offline: the rest of the store opens without it", "partition back online", "rolled segment"} {
		require.True(t, messages[msg], "no %q logged with a partition: %v", msg, messages)
	}
}
