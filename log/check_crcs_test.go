package log_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// TestConsumerSkipCRCChecks checks that a Consumer verifies batch CRCs unless
// SkipCRCChecks is set, in which case it returns a record changed on disk as it is.
func TestConsumerSkipCRCChecks(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
	produce(t, s, "t", 0, 10)

	const name = "/data/t-0/00000000000000000000.log"
	data, err := vfs.ReadFile(fsys, name)
	require.NoError(t, err)
	i := bytes.Index(data, value("t", 5))
	require.GreaterOrEqual(t, i, 0)
	f, err := fsys.OpenFile(name, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("t/X"), int64(i))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	c := newConsumer(t, s, log.ConsumerOptions{}, tp("t", 0))
	_, err = c.Poll(testContext(t))
	require.ErrorIs(t, err, log.ErrCorrupt)

	c = newConsumer(t, s, log.ConsumerOptions{SkipCRCChecks: true}, tp("t", 0))
	records := pollN(t, c, 10)
	require.Equal(t, []byte("t/X"), records[5].Value)
	require.Equal(t, value("t", 6), records[6].Value)
}
