package log_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// damageRecord changes the value of record i of topic t's partition 0 on disk, so
// that its batch fails its CRC check.
func damageRecord(t *testing.T, fsys vfs.FS, topic string, i int) {
	t.Helper()
	name := "/data/" + topic + "-0/00000000000000000000.log"
	data, err := vfs.ReadFile(fsys, name)
	require.NoError(t, err)
	at := bytes.Index(data, value(topic, i))
	require.GreaterOrEqual(t, at, 0)
	f, err := fsys.OpenFile(name, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("X"), int64(at))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// TestNextReadsOnAroundADamagedPartition: a partition whose batch fails its check
// makes Next return the error, and the next call reads the other partitions, as
// Poll does (partitions take turns being read first), instead of returning the
// same error forever and starving them. Partition 0's first batch (records 0-4)
// is good and its second damaged, so the error comes both while Next reads a
// run of partition 0 and when it looks for the next partition with a record.
func TestNextReadsOnAroundADamagedPartition(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 2})
	produceInCalls(t, s, "t", 0, 10, 5)
	produce(t, s, "t", 1, 10)
	damageRecord(t, fsys, "t", 7)

	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0), tp("t", 1))
	read := map[int32]int{}
	failures := 0
	for range 30 {
		r, err := c.Next(testContext(t))
		if err != nil {
			require.ErrorIs(t, err, log.ErrCorrupt)
			failures++
			continue
		}
		require.Equal(t, int64(read[r.Partition]), r.Offset)
		read[r.Partition]++
	}
	require.Equal(t, map[int32]int{0: 5, 1: 10}, read, "every readable record")
	require.Equal(t, 15, failures, "then only the damaged batch is left")
}
