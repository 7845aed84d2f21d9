package log_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestAlterTopicConfigLowerMaxMessageBytesKeepsOldRecordsReadable: as in Kafka,
// max.message.bytes bounds the batches written from then on, not those already
// stored: a record of 200 KB, acknowledged under the default 1 MiB, stays readable
// after the topic's max.message.bytes drops to 10 KB, before and after a reopen.
func TestAlterTopicConfigLowerMaxMessageBytesKeepsOldRecordsReadable(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	ctx := testContext(t)
	createTopic(t, s, "blobs", log.TopicConfig{})
	big := bytes.Repeat([]byte("x"), 200<<10)
	require.NoError(t, s.Produce(ctx, &log.Record{Topic: "blobs", Value: big}))

	require.NoError(t, s.AlterTopicConfig(ctx, "blobs", log.TopicConfig{MaxBatchBytes: 10 << 10}))
	read := func(s *log.Store) {
		c, err := s.NewConsumer(log.ConsumerOptions{})
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Assign(tp("blobs", 0)))
		got := pollN(t, c, 1)
		require.Equal(t, big, got[0].Value)
	}
	read(s)
	require.Error(t, s.Produce(ctx, &log.Record{Topic: "blobs", Value: big}), "new batches are bounded")

	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	read(s)
}
