package log_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

func TestCreateTopicConfigValidation(t *testing.T) {
	tests := []struct {
		name   string
		config log.TopicConfig
		fields []string // every field the error must name; none: valid
	}{
		{"zero value", log.TopicConfig{}, nil},
		{"full", log.TopicConfig{Partitions: 3, Sync: log.SyncPolicy{Mode: log.SyncPeriodic, EveryRecords: 10, Interval: time.Second},
			SegmentBytes: 1 << 20, SegmentAge: time.Hour, RetentionBytes: 1 << 30, RetentionAge: 24 * time.Hour,
			Compression: log.CompressionZstd, MaxBatchBytes: 1 << 16, CleanupPolicy: log.CleanupDelete}, nil},
		{"unlimited retention", log.TopicConfig{RetentionBytes: log.Unlimited, RetentionAge: log.Unlimited}, nil},
		{"sync none", log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncNone}}, nil},
		{"negative partitions", log.TopicConfig{Partitions: -1}, []string{"Partitions"}},
		{"too many partitions", log.TopicConfig{Partitions: log.MaxPartitions + 1}, []string{"Partitions"}},
		{"periodic without trigger", log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncPeriodic}}, []string{"Sync"}},
		{"interval without periodic", log.TopicConfig{Sync: log.SyncPolicy{Mode: log.SyncEveryAppend, Interval: time.Second}}, []string{"Sync"}},
		{"unknown sync mode", log.TopicConfig{Sync: log.SyncPolicy{Mode: 42}}, []string{"Sync.Mode"}},
		{"negative segment bytes", log.TopicConfig{SegmentBytes: -1}, []string{"SegmentBytes"}},
		{"huge segment bytes", log.TopicConfig{SegmentBytes: 1 << 40}, []string{"SegmentBytes"}},
		{"negative segment age", log.TopicConfig{SegmentAge: -time.Second}, []string{"SegmentAge"}},
		{"retention bytes -2", log.TopicConfig{RetentionBytes: -2}, []string{"RetentionBytes"}},
		{"retention age -1s", log.TopicConfig{RetentionAge: -time.Second}, []string{"RetentionAge"}},
		{"lz4", log.TopicConfig{Compression: "lz4"}, []string{"Compression"}},
		{"unknown codec", log.TopicConfig{Compression: "brotli"}, []string{"Compression"}},
		{"codec case", log.TopicConfig{Compression: "ZSTD"}, []string{"Compression"}},
		{"tiny batch", log.TopicConfig{MaxBatchBytes: 60}, []string{"MaxBatchBytes"}},
		{"negative batch", log.TopicConfig{MaxBatchBytes: -1}, []string{"MaxBatchBytes"}},
		{"compact", log.TopicConfig{CleanupPolicy: log.CleanupCompact, DeleteRetention: time.Hour, MinCleanableDirtyRatio: 0.2,
			MinCompactionLag: time.Minute}, nil},
		{"compact,delete", log.TopicConfig{CleanupPolicy: log.CleanupCompactDelete, RetentionAge: time.Hour}, nil},
		{"delete,compact", log.TopicConfig{CleanupPolicy: "delete,compact"}, nil},
		{"tombstones forever", log.TopicConfig{CleanupPolicy: log.CleanupCompact, DeleteRetention: log.Unlimited}, nil},
		{"unknown cleanup", log.TopicConfig{CleanupPolicy: "archive"}, []string{"CleanupPolicy"}},
		{"delete retention -2", log.TopicConfig{DeleteRetention: -2}, []string{"DeleteRetention"}},
		{"dirty ratio above 1", log.TopicConfig{MinCleanableDirtyRatio: 1.5}, []string{"MinCleanableDirtyRatio"}},
		{"dirty ratio NaN", log.TopicConfig{MinCleanableDirtyRatio: math.NaN()}, []string{"MinCleanableDirtyRatio"}},
		{"negative lag", log.TopicConfig{MinCompactionLag: -time.Second}, []string{"MinCompactionLag"}},
		{"everything wrong", log.TopicConfig{Partitions: -3, Sync: log.SyncPolicy{Mode: log.SyncPeriodic}, SegmentBytes: -1, SegmentAge: -1,
			RetentionBytes: -5, RetentionAge: -5, Compression: "lz4", MaxBatchBytes: 1, CleanupPolicy: "archive",
			DeleteRetention: -5, MinCleanableDirtyRatio: -1, MinCompactionLag: -1},
			[]string{"Partitions", "Sync", "SegmentBytes", "SegmentAge", "RetentionBytes", "RetentionAge", "Compression", "MaxBatchBytes", "CleanupPolicy",
				"DeleteRetention", "MinCleanableDirtyRatio", "MinCompactionLag"}},
	}
	s := openStore(t, vfs.NewMem(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreateTopic(context.Background(), "t", tt.config)
			if tt.fields == nil {
				require.NoError(t, err)
				require.NoError(t, s.DeleteTopic(context.Background(), "t"))
				return
			}
			require.ErrorIs(t, err, log.ErrInvalidConfig)
			require.ErrorIs(t, err, log.ErrInvalidArgument)
			var configErr *log.ConfigError
			require.True(t, errors.As(err, &configErr))
			require.Equal(t, `"t"`, configErr.What)
			for _, field := range tt.fields {
				require.ErrorContains(t, err, field)
			}
			if tt.name == "everything wrong" {
				require.Len(t, configErr.Problems, len(tt.fields))
			}
			_, err = s.DescribeTopic("t")
			require.ErrorIs(t, err, log.ErrUnknownTopic, "nothing created")
		})
	}
}

func TestOpenValidatesTopicDefaults(t *testing.T) {
	fsys := vfs.NewMem()
	_, err := log.Open("/data", &log.Options{FS: fsys, TopicDefaults: log.TopicConfig{
		SegmentBytes: -1, Compression: "lz4", CleanupPolicy: "archive"}})
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	for _, field := range []string{"TopicDefaults.SegmentBytes", "TopicDefaults.Compression", "TopicDefaults.CleanupPolicy"} {
		require.ErrorContains(t, err, field)
	}
	_, statErr := fsys.Stat("/data")
	require.Error(t, statErr, "nothing created")
}

func TestEffectiveConfig(t *testing.T) {
	s := openStore(t, vfs.NewMem(), &log.Options{TopicDefaults: log.TopicConfig{
		Partitions: 2, Compression: log.CompressionSnappy, RetentionAge: time.Hour}})
	createTopic(t, s, "inherits", log.TopicConfig{})
	createTopic(t, s, "overrides", log.TopicConfig{Partitions: 4, Compression: log.CompressionNone, RetentionAge: log.Unlimited,
		Sync: log.SyncPolicy{Mode: log.SyncNone}})

	require.Equal(t, log.TopicConfig{
		Partitions:     2,
		Sync:           log.SyncPolicy{Mode: log.SyncEveryAppend},
		SegmentBytes:   log.DefaultSegmentBytes,
		SegmentAge:     log.DefaultSegmentAge,
		RetentionBytes: log.Unlimited,
		RetentionAge:   time.Hour,
		Compression:    log.CompressionSnappy,
		MaxBatchBytes:  log.DefaultMaxBatchBytes,
		CleanupPolicy:  log.CleanupDelete,

		DeleteRetention:        log.DefaultDeleteRetention,
		MinCleanableDirtyRatio: log.DefaultMinCleanableDirtyRatio,
		ReplicationFactor:      log.DefaultReplicationFactor,
		MinInsyncReplicas:      log.DefaultMinInsyncReplicas,
	}, describe(t, s, "inherits").Config)

	o := describe(t, s, "overrides")
	require.Equal(t, 4, o.Config.Partitions)
	require.Len(t, o.Partitions, 4)
	require.Equal(t, log.CompressionNone, o.Config.Compression)
	require.Equal(t, time.Duration(log.Unlimited), o.Config.RetentionAge)
	require.Equal(t, log.SyncNone, o.Config.Sync.Mode)
}

func TestProducerAndConsumerOptionsValidation(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	_, err := s.NewProducer(log.ProducerOptions{BatchBytes: -1, MaxBufferedBytes: -1, Acks: 7})
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	for _, field := range []string{"BatchBytes", "MaxBufferedBytes", "Acks"} {
		require.ErrorContains(t, err, field)
	}
	_, err = s.NewConsumer(log.ConsumerOptions{MaxPollRecords: -1, MaxPollBytes: -1, Reset: 9})
	require.ErrorIs(t, err, log.ErrInvalidConfig)
	for _, field := range []string{"MaxPollRecords", "MaxPollBytes", "Reset"} {
		require.ErrorContains(t, err, field)
	}
}
