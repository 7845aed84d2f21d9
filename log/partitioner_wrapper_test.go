package log_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// lastForAudit is a user's partitioner that embeds the DefaultPartitioner and
// overrides Partition: the records of topic "audit" all go to its last partition,
// the others as the default partitioner puts them.
type lastForAudit struct{ *log.DefaultPartitioner }

func (p lastForAudit) Partition(r *log.Record, numPartitions int) int {
	if r.Topic == "audit" {
		return numPartitions - 1
	}
	return p.DefaultPartitioner.Partition(r, numPartitions)
}

// A Partitioner that embeds *DefaultPartitioner is asked through its own
// Partition, by Store.Produce and by a Producer: the embedded partitioner's
// methods do not stand in for the override.
func TestPartitionerEmbeddingTheDefaultIsAskedItself(t *testing.T) {
	partitioner := lastForAudit{log.NewDefaultPartitioner(0)}
	s := openStore(t, vfs.NewMem(), &log.Options{Partitioner: partitioner})
	createTopic(t, s, "audit", log.TopicConfig{Partitions: 4})
	ctx := context.Background()
	key := []byte("k")
	if log.KeyPartition(key, 4) == 3 {
		key = []byte("k2")
	}
	r := &log.Record{Topic: "audit", Key: key, Value: []byte("v")}
	require.NoError(t, s.Produce(ctx, r))
	require.Equal(t, int32(3), r.Partition, "Store.Produce")

	p, err := s.NewProducer(log.ProducerOptions{Partitioner: partitioner})
	require.NoError(t, err)
	r2 := &log.Record{Topic: "audit", Key: key, Value: []byte("w")}
	var produceErr error
	p.Produce(ctx, r2, func(_ *log.Record, err error) { produceErr = err })
	require.NoError(t, p.Close())
	require.NoError(t, produceErr)
	require.Equal(t, int32(3), r2.Partition, "a Producer")
}
