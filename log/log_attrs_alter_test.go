package log_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// AlterTopicConfig's records about a partition it could not reopen name it as
// every "partition" attribute does (Options.Logger): its name, a string.
func TestAlterTopicConfigLogsThePartitionByName(t *testing.T) {
	h := newAttrHandler("partition")
	fsys := vfs.NewMem()
	s := openStore(t, fsys, &log.Options{Logger: slog.New(h)})
	createTopic(t, s, "events", log.TopicConfig{})
	require.NoError(t, fsys.RemoveAll("/data/events-0")) // the reopen fails
	err := s.AlterTopicConfig(context.Background(), "events", log.TopicConfig{SegmentBytes: 4096})
	require.ErrorIs(t, err, log.ErrPartitionOffline)
	logged := false
	for _, a := range h.logged() {
		if a.msg == "partition offline after reopening it with a new config" {
			logged = true
		}
		require.Equal(t, slog.KindString, a.value.Kind(), "%q: partition=%v", a.msg, a.value)
		require.Equal(t, "events-0", a.value.String(), "%q", a.msg)
	}
	require.True(t, logged, "%v", h.logged())
}
