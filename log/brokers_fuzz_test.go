package log

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
)

// FuzzDecodeMetaProperties: no bytes make decodeMetaProperties panic; it fails only
// with a *CorruptError; whatever it accepts encodes back to a file it accepts
// again with the same identity.
func FuzzDecodeMetaProperties(f *testing.F) {
	golden := encodeMetaProperties(goldenMeta)
	f.Add(golden)
	f.Add(golden[:bytes.LastIndex(golden, []byte(metaPropertiesChecksumPrefix))])
	f.Add([]byte("#\n#Thu Mar 21 10:23:45 UTC 2024\nnode.id=1\ndirectory.id=0-SRq3OqSwmWqDlb2H11Hg\nversion=1\ncluster.id=Qn0hfwdvRHmNKkOTn0D8Vw\n"))
	f.Add([]byte("version=0\nbroker.id=1\ncluster.id=x\n"))
	f.Add([]byte("#crc32c=00000000\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMetaProperties("meta.properties", data)
		if err != nil {
			var corrupt *errs.CorruptError
			require.ErrorAs(t, err, &corrupt)
			return
		}
		back, err := decodeMetaProperties("meta.properties", encodeMetaProperties(m))
		require.NoError(t, err)
		require.Equal(t, m, back)
	})
}

// FuzzDecodeBrokerList: no bytes make decodeBrokerList panic; it fails only with a
// *CorruptError; whatever it accepts is a checked list (broker 0 first, the root),
// and encodes back to the same bytes.
func FuzzDecodeBrokerList(f *testing.F) {
	golden, err := encodeBrokerList(goldenBrokerList)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(bytes.TrimSuffix(golden, []byte("\n")))
	f.Add([]byte(`{"version": 1, "sequence": 1, "clusterId": "Qn0hfwdvRHmNKkOTn0D8Vw", "brokers": [{"id": 0, "dir": "/s", "directoryId": "9yb2kGvKTXeHi1KqWn0sEw"}]}` + "\ncrc32c 00000000\n"))
	f.Add([]byte("crc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := decodeBrokerList("brokers.json", data)
		if err != nil {
			var corrupt *errs.CorruptError
			require.ErrorAs(t, err, &corrupt)
			return
		}
		require.Equal(t, brokerListVersion, l.Version)
		require.Positive(t, l.Sequence)
		root := l.root()
		b, ok := l.broker(0)
		require.True(t, ok)
		require.Equal(t, root, b.Dir)
		again, err := encodeBrokerList(l)
		require.NoError(t, err)
		back, err := decodeBrokerList("brokers.json", again)
		require.NoError(t, err)
		require.Equal(t, l, back)
		again2, err := encodeBrokerList(back)
		require.NoError(t, err)
		require.Equal(t, again, again2)
	})
}
