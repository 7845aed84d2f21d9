package log_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
)

// A value that embeds a TopicPartition logs through slog as itself, not as the
// partition's name: an offline partition's error says why it is offline, and an
// event or a partition's stats keep their fields. (TopicPartition's methods are
// promoted to every type embedding it, and slog resolves a LogValuer before
// anything else.)
func TestValuesEmbeddingTopicPartitionLogAsThemselves(t *testing.T) {
	tp := log.TopicPartition{Topic: "orders", Partition: 1}
	offline := &log.PartitionOfflineError{TopicPartition: tp, Err: errors.New("disk gone")}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Error("partition offline", "err", offline)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, offline.Error(), line["err"])

	for _, v := range []any{
		log.FsyncEvent{TopicPartition: tp, FsyncEvent: partition.FsyncEvent{Duration: time.Millisecond}},
		log.RollEvent{TopicPartition: tp, RollEvent: partition.RollEvent{BaseOffset: 42}},
		log.RetentionEvent{TopicPartition: tp, RetentionEvent: partition.RetentionEvent{SegmentsDeleted: 2, StartOffset: 42}},
		log.CompactionEvent{TopicPartition: tp},
		log.PartitionStats{TopicPartition: tp},
	} {
		buf.Reset()
		logger.Info("event", "value", v)
		var line map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := json.Marshal(line["value"])
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got), "%T", v)
	}
}
