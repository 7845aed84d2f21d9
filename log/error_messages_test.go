package log_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// An error says its package once, at its start, however many of the package's own
// errors it wraps: "strata/log: create topic: invalid topic name: ...", not
// "strata/log: create topic: strata/log: invalid topic name: ...". errors.Is
// still matches every wrapped sentinel.
func TestErrorsSayTheirPackageOnce(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	ctx := context.Background()
	createTopic(t, s, "orders", log.TopicConfig{})
	tests := []struct {
		err      error
		sentinel error
		want     string
	}{
		{s.CreateTopic(ctx, "", log.TopicConfig{}), log.ErrInvalidTopicName,
			"strata/log: create topic: invalid topic name: empty name"},
		{s.CreateTopic(ctx, "orders", log.TopicConfig{}), log.ErrTopicExists,
			`strata/log: create topic "orders": topic already exists`},
		{s.Produce(ctx, &log.Record{Topic: "nowhere"}), log.ErrUnknownTopic,
			`strata/log: produce record 0: topic "nowhere": unknown topic`},
		{s.AddPartitions(ctx, "nowhere", 2), log.ErrUnknownTopic, ""},
		{s.DeleteTopic(ctx, "nowhere"), log.ErrUnknownTopic, ""},
		{s.DeleteRecords(ctx, tp("orders", 5), 0), log.ErrUnknownPartition, ""},
	}
	for _, tt := range tests {
		require.ErrorIs(t, tt.err, tt.sentinel)
		msg := tt.err.Error()
		require.True(t, strings.HasPrefix(msg, "strata/log: "), "%q", msg)
		require.Equal(t, 1, strings.Count(msg, "strata/log: "), "%q", msg)
		if tt.want != "" {
			require.Equal(t, tt.want, msg)
		}
	}
}
