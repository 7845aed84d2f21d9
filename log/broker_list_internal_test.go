package log

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/replica"
)

// goldenBrokerList is the list in testdata/brokers/brokers.json.
var goldenBrokerList = brokerListFile{Version: 1, Sequence: 1, ClusterID: "Qn0hfwdvRHmNKkOTn0D8Vw", Brokers: []brokerListEntry{
	{ID: 0, Dir: "/data/strata", DirectoryID: "9yb2kGvKTXeHi1KqWn0sEw"},
	{ID: 1, Dir: "/data/strata/broker.1", DirectoryID: "0-SRq3OqSwmWqDlb2H11Hg"},
	{ID: 2, Dir: "/mnt/disk2/strata", DirectoryID: "u8Wd3F2bQ8C9mVf6lJbL5A"},
}}

// brokers.json is byte for byte the file FORMAT.md shows, and reads back.
func TestBrokerListGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/brokers/brokers.json")
	require.NoError(t, err)
	data, err := encodeBrokerList(goldenBrokerList)
	require.NoError(t, err)
	require.Equal(t, string(golden), string(data))
	got, err := decodeBrokerList("brokers.json", golden)
	require.NoError(t, err)
	require.Equal(t, goldenBrokerList, got)
}

func TestBrokerListCorrupt(t *testing.T) {
	golden, err := encodeBrokerList(goldenBrokerList)
	require.NoError(t, err)
	body, _, err := crcline.Split("brokers.json", golden)
	require.NoError(t, err)
	// edit returns the golden JSON with old replaced by new, sealed again.
	edit := func(old, new string) []byte {
		require.Contains(t, string(body), old)
		return crcline.Append([]byte(strings.Replace(string(body), old, new, 1)))
	}
	tests := map[string][]byte{
		"no checksum line":       body,
		"checksum mismatch":      []byte(strings.Replace(string(golden), `"sequence": 1`, `"sequence": 2`, 1)),
		"version 2":              edit(`"version": 1`, `"version": 2`),
		"sequence 0":             edit(`"sequence": 1`, `"sequence": 0`),
		"unknown key":            edit(`"sequence": 1`, `"sequence": 1, "epoch": 3`),
		"bytes after the JSON":   crcline.Append(append(bytes.Clone(body), "{}\n"...)),
		"cluster id invalid":     edit(`Qn0hfwdvRHmNKkOTn0D8Vw`, `not-an-id`),
		"no brokers":             crcline.Append([]byte(`{"version": 1, "sequence": 1, "clusterId": "Qn0hfwdvRHmNKkOTn0D8Vw", "brokers": []}` + "\n")),
		"no broker 0":            edit(`"id": 0`, `"id": 3`),
		"ids out of order":       edit(`"id": 2`, `"id": 1`),
		"negative id":            edit(`"id": 1`, `"id": -1`),
		"id as a float":          edit(`"id": 1`, `"id": 1.0`),
		"directory id invalid":   edit(`u8Wd3F2bQ8C9mVf6lJbL5A`, `u8Wd3F2bQ8C9mVf6lJbL5B`),
		"directory id twice":     edit(`u8Wd3F2bQ8C9mVf6lJbL5A`, `0-SRq3OqSwmWqDlb2H11Hg`),
		"relative dir":           edit(`"/mnt/disk2/strata"`, `"mnt/disk2/strata"`),
		"unclean dir":            edit(`"/mnt/disk2/strata"`, `"/mnt/disk2/../strata"`),
		"dir inside the root":    edit(`"/mnt/disk2/strata"`, `"/data/strata/orders-0"`),
		"default dir of another": edit(`"/mnt/disk2/strata"`, `"/data/strata/broker.3"`),
		"dir twice":              edit(`"/mnt/disk2/strata"`, `"/data/strata/broker.1"`),
		"root inside another":    edit(`"/mnt/disk2/strata"`, `"/data"`),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeBrokerList("brokers.json", data)
			var corrupt *errs.CorruptError
			require.ErrorAs(t, err, &corrupt)
		})
	}
}

// Every flipped bit of brokers.json is detected: the checksum line is required.
func TestBrokerListBitFlips(t *testing.T) {
	golden, err := encodeBrokerList(goldenBrokerList)
	require.NoError(t, err)
	for i := range len(golden) * 8 {
		data := bytes.Clone(golden)
		data[i/8] ^= 1 << (i % 8)
		_, err := decodeBrokerList("brokers.json", data)
		require.ErrorIs(t, err, ErrCorrupt, "bit %d", i)
	}
}

func TestCheckBrokerDirs(t *testing.T) {
	const root = "/data/s"
	tests := []struct {
		name string
		dirs map[replica.BrokerID]string
		bad  int // how many problems
	}{
		{"defaults", map[replica.BrokerID]string{0: root, 1: root + "/broker.1", 2: root + "/broker.2"}, 0},
		{"other disks", map[replica.BrokerID]string{0: root, 1: "/mnt/a/s", 7: "/mnt/b"}, 0},
		{"a sibling of the root", map[replica.BrokerID]string{0: root, 1: "/data/s2"}, 0},
		{"broker 0 elsewhere", map[replica.BrokerID]string{0: "/x", 1: "/y"}, 1},
		{"negative id", map[replica.BrokerID]string{0: root, -1: "/y"}, 1},
		{"relative", map[replica.BrokerID]string{0: root, 1: "y"}, 1},
		{"unclean", map[replica.BrokerID]string{0: root, 1: "/y/"}, 1},
		{"NUL", map[replica.BrokerID]string{0: root, 1: "/y\x00"}, 1},
		{"the root twice", map[replica.BrokerID]string{0: root, 1: root}, 1},
		{"inside the root, not default", map[replica.BrokerID]string{0: root, 1: root + "/disk"}, 1},
		{"another's default", map[replica.BrokerID]string{0: root, 1: root + "/broker.2"}, 1},
		{"nested", map[replica.BrokerID]string{0: root, 1: "/mnt/a", 2: "/mnt/a/b"}, 1},
		{"the root inside another", map[replica.BrokerID]string{0: root, 1: "/data"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := checkBrokerDirs(root, tt.dirs)
			require.Len(t, problems, tt.bad, "%v", errors.Join(problems...))
		})
	}
}

func TestDefaultBrokerDirNames(t *testing.T) {
	require.Equal(t, "/s/broker.12", defaultBrokerDir("/s", 12))
	for name, want := range map[string]replica.BrokerID{"broker.1": 1, "broker.2147483647": 2147483647} {
		got, ok := parseDefaultBrokerDirName(name)
		require.True(t, ok, name)
		require.Equal(t, want, got)
	}
	for _, name := range []string{"broker.0", "broker.01", "broker.-1", "broker.+1", "broker.", "broker-1", "broker.2147483648", "broker.1.x"} {
		_, ok := parseDefaultBrokerDirName(name)
		require.False(t, ok, name)
	}
	// A default broker directory is never a partition directory's name, nor a
	// marked one's.
	_, _, partitionDir := parsePartitionDirName("broker.1")
	require.False(t, partitionDir)
	_, marked := parseMarkedDirName("broker.1")
	require.False(t, marked)
}
