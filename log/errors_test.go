package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// Every sentinel of errors.go, and the call that returns it.
func TestEverySentinelIsReachable(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*log.Store, vfs.FS) {
		fsys := vfs.NewMem()
		s := openStore(t, fsys, nil)
		createTopic(t, s, "t", log.TopicConfig{MaxBatchBytes: 1024})
		return s, fsys
	}
	tests := []struct {
		sentinel error
		call     func(t *testing.T) error
	}{
		{log.ErrTopicExists, func(t *testing.T) error {
			s, _ := setup(t)
			return s.CreateTopic(ctx, "t", log.TopicConfig{})
		}},
		{log.ErrUnknownTopic, func(t *testing.T) error {
			s, _ := setup(t)
			return s.Produce(ctx, &log.Record{Topic: "nope"})
		}},
		{log.ErrUnknownPartition, func(t *testing.T) error {
			s, _ := setup(t)
			return s.Produce(ctx, &log.Record{Topic: "t", Partition: 1, ExplicitPartition: true})
		}},
		{log.ErrInvalidTopicName, func(t *testing.T) error {
			s, _ := setup(t)
			return s.CreateTopic(ctx, "../x", log.TopicConfig{})
		}},
		{log.ErrInvalidConfig, func(t *testing.T) error {
			s, _ := setup(t)
			return s.CreateTopic(ctx, "u", log.TopicConfig{CleanupPolicy: "archive"})
		}},
		{log.ErrLocked, func(t *testing.T) error {
			_, fsys := setup(t)
			_, err := log.Open("/data", &log.Options{FS: fsys})
			return err
		}},
		{log.ErrClosed, func(t *testing.T) error {
			s, _ := setup(t)
			require.NoError(t, s.Close())
			return s.Produce(ctx, &log.Record{Topic: "t"})
		}},
		{log.ErrOffsetOutOfRange, func(t *testing.T) error {
			s, _ := setup(t)
			return s.DeleteRecords(ctx, log.TopicPartition{Topic: "t"}, 1)
		}},
		{log.ErrRecordTooLarge, func(t *testing.T) error {
			s, _ := setup(t)
			return s.Produce(ctx, &log.Record{Topic: "t", Value: make([]byte, 2048)})
		}},
		{log.ErrInternalTopic, func(t *testing.T) error {
			s, _ := setup(t)
			require.NoError(t, s.CommitGroupOffsets(ctx, "g", map[log.TopicPartition]log.OffsetAndMetadata{{Topic: "t"}: {Offset: 0}}))
			return s.Produce(ctx, &log.Record{Topic: log.OffsetsTopic, Key: []byte("k")})
		}},
		{log.ErrInvalidArgument, func(t *testing.T) error {
			s, _ := setup(t)
			return s.Produce(ctx, nil)
		}},
		{log.ErrGroupNotFound, func(t *testing.T) error {
			s, _ := setup(t)
			_, err := s.DescribeGroup("nobody")
			return err
		}},
		// ErrNonEmptyGroup: TestCommitGroupOffsetsRefusedWithMembers.
		// ErrUnknownMemberID, ErrIllegalGeneration: TestGroupMemberCrashAndZombieCommit.
		// ErrRebalanceInProgress: the group package's coordinator and member tests.
		{log.ErrCorrupt, func(t *testing.T) error {
			fsys := vfs.NewMem()
			require.NoError(t, fsys.MkdirAll("/data", 0o755))
			require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", []byte("not json")))
			_, err := log.Open("/data", &log.Options{FS: fsys})
			return err
		}},
		{log.ErrSeveralBrokers, func(t *testing.T) error {
			fsys := vfs.NewMem()
			s := openBrokers(t, fsys, 2)
			require.NoError(t, s.Close())
			_, err := log.Scrub("/data", &log.Options{FS: fsys})
			return err
		}},
		{log.ErrBrokerOffline, func(t *testing.T) error {
			fsys := vfs.NewMem()
			s := openBrokers(t, fsys, 2)
			require.NoError(t, s.Close())
			require.NoError(t, fsys.RemoveAll("/data/broker.1"))
			s = openStore(t, fsys, nil)
			brokers, err := s.Brokers()
			require.NoError(t, err)
			return brokers[1].Offline
		}},
		{log.ErrBrokerDirMissing, func(t *testing.T) error {
			fsys := vfs.NewMem()
			s := openBrokers(t, fsys, 2)
			require.NoError(t, s.Close())
			require.NoError(t, fsys.RemoveAll("/data/broker.1"))
			s = openStore(t, fsys, nil)
			brokers, err := s.Brokers()
			require.NoError(t, err)
			return brokers[1].Offline
		}},
		{log.ErrBrokerDirEmpty, func(t *testing.T) error {
			fsys := vfs.NewMem()
			s := openBrokers(t, fsys, 2)
			require.NoError(t, s.Close())
			require.NoError(t, fsys.RemoveAll("/data/broker.1"))
			require.NoError(t, fsys.MkdirAll("/data/broker.1", 0o755))
			s = openStore(t, fsys, nil)
			brokers, err := s.Brokers()
			require.NoError(t, err)
			return brokers[1].Offline
		}},
		{log.ErrStoreExists, func(t *testing.T) error {
			fsys := vfs.NewMem()
			openStore(t, fsys, nil)
			return log.InitBrokers(fsys, "/data", map[replica.BrokerID]string{0: "", 1: ""})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.sentinel.Error(), func(t *testing.T) {
			require.ErrorIs(t, tt.call(t), tt.sentinel)
		})
	}
}
