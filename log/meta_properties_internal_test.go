package log

import (
	"bytes"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

// goldenMeta is the identity in testdata/brokers/meta.properties.
var goldenMeta = metaProperties{nodeID: 1, clusterID: "Qn0hfwdvRHmNKkOTn0D8Vw", directoryID: "0-SRq3OqSwmWqDlb2H11Hg"}

// meta.properties is byte for byte the file FORMAT.md shows, and reads back.
func TestMetaPropertiesGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/brokers/meta.properties")
	require.NoError(t, err)
	require.Equal(t, string(golden), string(encodeMetaProperties(goldenMeta)))
	got, err := decodeMetaProperties("meta.properties", golden)
	require.NoError(t, err)
	require.Equal(t, goldenMeta, got)
}

// A file as Kafka's Properties.store writes it (a date comment, its own order of
// keys, no checksum line) reads: unchecked, but strictly.
func TestMetaPropertiesWithoutChecksum(t *testing.T) {
	kafka := "#\n#Thu Mar 21 10:23:45 UTC 2024\nnode.id=1\ndirectory.id=0-SRq3OqSwmWqDlb2H11Hg\nversion=1\ncluster.id=Qn0hfwdvRHmNKkOTn0D8Vw\n"
	got, err := decodeMetaProperties("meta.properties", []byte(kafka))
	require.NoError(t, err)
	require.Equal(t, goldenMeta, got)

	// strata's file with its checksum line cut off reads the same.
	golden := encodeMetaProperties(goldenMeta)
	cut := golden[:bytes.LastIndex(golden, []byte(metaPropertiesChecksumPrefix))]
	got, err = decodeMetaProperties("meta.properties", cut)
	require.NoError(t, err)
	require.Equal(t, goldenMeta, got)
}

func TestMetaPropertiesCorrupt(t *testing.T) {
	const (
		version   = "version=1\n"
		node      = "node.id=1\n"
		cluster   = "cluster.id=Qn0hfwdvRHmNKkOTn0D8Vw\n"
		directory = "directory.id=0-SRq3OqSwmWqDlb2H11Hg\n"
		valid     = version + node + cluster + directory
	)
	golden := string(encodeMetaProperties(goldenMeta))
	tests := map[string]string{
		"empty":                    "",
		"comments only":            "#\n#crc32c=00000000\n",
		"checksum mismatch":        strings.Replace(golden, "node.id=1", "node.id=2", 1),
		"bad checksum line":        strings.Replace(golden, "#crc32c=1f24e637", "#crc32c=1F24E637", 1),
		"checksum line not last":   golden + "#a comment\n",
		"no newline at the end":    strings.TrimSuffix(valid, "\n"),
		"blank line":               version + "\n" + node + cluster + directory,
		"CRLF":                     strings.ReplaceAll(valid, "\n", "\r\n"),
		"spaces around =":          "version = 1\n" + node + cluster + directory,
		"colon separator":          "version:1\n" + node + cluster + directory,
		"unknown key":              valid + "broker.id=1\n",
		"key twice":                valid + node,
		"no version":               node + cluster + directory,
		"no node.id":               version + cluster + directory,
		"no cluster.id":            version + node + directory,
		"no directory.id":          version + node + cluster,
		"version 0 (ZooKeeper's)":  "version=0\n" + node + cluster + directory,
		"node.id negative":         version + "node.id=-1\n" + cluster + directory,
		"node.id leading zero":     version + "node.id=01\n" + cluster + directory,
		"node.id plus":             version + "node.id=+1\n" + cluster + directory,
		"node.id beyond int32":     version + "node.id=2147483648\n" + cluster + directory,
		"cluster.id short":         version + node + "cluster.id=Qn0hfwdvRHmNKkOTn0D8V\n" + directory,
		"cluster.id padded":        version + node + "cluster.id=Qn0hfwdvRHmNKkOTn0D8Vw==\n" + directory,
		"cluster.id standard b64":  version + node + "cluster.id=Qn0hfwdvRHmNKkOTn0D8+w\n" + directory,
		"cluster.id non-canonical": version + node + "cluster.id=Qn0hfwdvRHmNKkOTn0D8Vx\n" + directory,
		"cluster.id zero":          version + node + "cluster.id=AAAAAAAAAAAAAAAAAAAAAA\n" + directory,
		"directory.id empty":       version + node + cluster + "directory.id=\n",
		"directory.id with a CR":   version + node + cluster + "directory.id=0-SRq3OqSwmWqDlb2H11\rHg\n",
		"escaped value":            version + node + cluster + "directory.id=0-SRq3OqSwmWqDlb2H11H\\g\n",
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeMetaProperties("meta.properties", []byte(data))
			var corrupt *errs.CorruptError
			require.ErrorAs(t, err, &corrupt)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

// Every flipped bit of meta.properties is detected, or lands where it changes
// nothing a reader sees (a comment, or the checksum line's prefix, which leaves
// the file read unchecked with its lines intact).
func TestMetaPropertiesBitFlips(t *testing.T) {
	golden := encodeMetaProperties(goldenMeta)
	for i := range len(golden) * 8 {
		data := bytes.Clone(golden)
		data[i/8] ^= 1 << (i % 8)
		got, err := decodeMetaProperties("meta.properties", data)
		if err == nil {
			require.Equal(t, goldenMeta, got, "bit %d", i)
			require.True(t, i/8 < len(metaPropertiesHeader) || i/8 >= bytes.LastIndexByte(golden[:len(golden)-1], '\n'), "bit %d", i)
		}
	}
}

// readMetaProperties tells a missing file from a damaged one, and reads with a
// bound.
func TestReadMetaProperties(t *testing.T) {
	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll("/b", 0o755))
	_, err := readMetaProperties(fsys, "/b")
	require.ErrorIs(t, err, fs.ErrNotExist)

	require.NoError(t, writeMetaProperties(fsys, "/b", goldenMeta))
	got, err := readMetaProperties(fsys, "/b")
	require.NoError(t, err)
	require.Equal(t, goldenMeta, got)

	huge := append(encodeMetaProperties(goldenMeta), bytes.Repeat([]byte("#\n"), maxMetaPropertiesBytes)...)
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/b/meta.properties", huge))
	_, err = readMetaProperties(fsys, "/b")
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestKafkaUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newKafkaUUID()
		require.Len(t, id, kafkaUUIDLength)
		require.True(t, validKafkaUUID(id), id)
		require.NotEqual(t, byte('-'), id[0])
		require.False(t, seen[id])
		seen[id] = true
	}
	for _, id := range []string{"", "AAAAAAAAAAAAAAAAAAAAAA", "Qn0hfwdvRHmNKkOTn0D8Vx", "Qn0hfwdvRHmNKkOTn0D8V", "Qn0hfwdvRHmNKkOTn0D8Vw=", "Qn0hfwdvRHmNKkOTn0D8\nVw"} {
		require.False(t, validKafkaUUID(id), "%q", id)
	}
}
