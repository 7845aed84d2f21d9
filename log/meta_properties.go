package log

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// Every broker directory of a store with several brokers carries its identity in
// meta.properties, in the format of Kafka's (KRaft, version 1): Java properties, one
// "key=value" per line, comments starting with '#'. Kafka's file has no checksum;
// strata keeps Kafka's bytes and adds one as a comment, which Kafka ignores:
//
//	#strata broker directory: the last line is the CRC-32C of the lines above it
//	version=1
//	node.id=1
//	cluster.id=Qn0hfwdvRHmNKkOTn0D8Vw
//	directory.id=0-SRq3OqSwmWqDlb2H11Hg
//	#crc32c=1f24e637
//
// node.id is the broker's id; cluster.id is the store's id, the same in every
// broker directory of the store; directory.id is this directory's own id, made
// when it was formatted and recorded in brokers.json, so that a directory formatted
// again (a replaced disk) is told from the one the store knows.
//
// Reading is strict: every line other than comments is one of the four keys, once,
// spelled as strata writes it (no spaces around '=', no escapes, no blank lines,
// "\n" line ends); the ids are Kafka Uuids in text form (kafka_uuid.go). A file
// whose last line starts with "#crc32c=" must match it; a file without that line
// (written by hand, or by Kafka's tools) is accepted if it reads, unchecked: its
// three ids are then compared with brokers.json's by loadBrokers, so damage to any
// of them makes the directory foreign, never another broker's. A "#crc32c=" line
// anywhere but last is corrupt.

// Format: meta.properties.
const (
	metaPropertiesFileName = "meta.properties"
	// metaPropertiesVersion is Kafka's meta.properties version for KRaft nodes.
	metaPropertiesVersion = "1"
	// metaPropertiesHeader is the comment line strata writes first.
	metaPropertiesHeader = "#strata broker directory: the last line is the CRC-32C of the lines above it\n"
	// metaPropertiesChecksumPrefix starts the last line, a comment to Kafka.
	metaPropertiesChecksumPrefix = "#crc32c="
	// maxMetaPropertiesBytes bounds the size of meta.properties that is read.
	maxMetaPropertiesBytes = 16 << 10
)

// Format: the keys of meta.properties, in the order strata writes them.
const (
	metaKeyVersion     = "version"
	metaKeyNodeID      = "node.id"
	metaKeyClusterID   = "cluster.id"
	metaKeyDirectoryID = "directory.id"
)

// metaProperties is the identity of a broker directory.
type metaProperties struct {
	nodeID      replica.BrokerID
	clusterID   string
	directoryID string
}

// encodeMetaProperties returns the bytes of meta.properties for m.
func encodeMetaProperties(m metaProperties) []byte {
	var b bytes.Buffer
	b.WriteString(metaPropertiesHeader)
	fmt.Fprintf(&b, "%s=%s\n", metaKeyVersion, metaPropertiesVersion)
	fmt.Fprintf(&b, "%s=%d\n", metaKeyNodeID, m.nodeID)
	fmt.Fprintf(&b, "%s=%s\n", metaKeyClusterID, m.clusterID)
	fmt.Fprintf(&b, "%s=%s\n", metaKeyDirectoryID, m.directoryID)
	return crcline.AppendPrefixed(b.Bytes(), metaPropertiesChecksumPrefix)
}

// decodeMetaProperties decodes and checks the bytes of meta.properties (read from
// path, for errors). Any failure is a *CorruptError.
func decodeMetaProperties(path string, data []byte) (metaProperties, error) {
	body, _, err := crcline.SplitPrefixed(path, data, metaPropertiesChecksumPrefix)
	if err != nil {
		return metaProperties{}, err
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return metaProperties{}, errs.Corruptf(path, int64(len(body)), "meta.properties: last line without a newline")
	}
	values := map[string]string{}
	for position := 0; position < len(body); {
		end := position + bytes.IndexByte(body[position:], '\n')
		line := string(body[position:end])
		corrupt := func(reason string) (metaProperties, error) {
			return metaProperties{}, errs.Corruptf(path, int64(position), "meta.properties: %s in line %q", reason, line)
		}
		switch {
		case strings.HasPrefix(line, metaPropertiesChecksumPrefix):
			return corrupt("a checksum line that is not the last line")
		case line != "" && (line[0] == '#' || line[0] == '!'):
			// A comment, as Java properties have them.
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				return corrupt("not key=value")
			}
			switch key {
			case metaKeyVersion, metaKeyNodeID, metaKeyClusterID, metaKeyDirectoryID:
			default:
				return corrupt("unknown key")
			}
			if _, dup := values[key]; dup {
				return corrupt("key given twice")
			}
			values[key] = value
		}
		position = end + 1
	}
	corrupt := func(format string, args ...any) (metaProperties, error) {
		return metaProperties{}, errs.Corruptf(path, 0, "meta.properties: "+format, args...)
	}
	for _, key := range []string{metaKeyVersion, metaKeyNodeID, metaKeyClusterID, metaKeyDirectoryID} {
		if _, ok := values[key]; !ok {
			return corrupt("no %s", key)
		}
	}
	if v := values[metaKeyVersion]; v != metaPropertiesVersion {
		return corrupt("version %q, this code reads version %s", v, metaPropertiesVersion)
	}
	nodeID, ok := parseBrokerID(values[metaKeyNodeID])
	if !ok {
		return corrupt("node.id %q is not a broker id (a decimal from 0 to %d)", values[metaKeyNodeID], math.MaxInt32)
	}
	m := metaProperties{nodeID: nodeID, clusterID: values[metaKeyClusterID], directoryID: values[metaKeyDirectoryID]}
	if !validKafkaUUID(m.clusterID) {
		return corrupt("cluster.id %q is not a Kafka Uuid (22 characters of URL-safe base64)", m.clusterID)
	}
	if !validKafkaUUID(m.directoryID) {
		return corrupt("directory.id %q is not a Kafka Uuid (22 characters of URL-safe base64)", m.directoryID)
	}
	return m, nil
}

// parseBrokerID parses a broker id spelled as strata writes it: decimal, without
// sign or leading zeros, from 0 to math.MaxInt32.
func parseBrokerID(s string) (replica.BrokerID, bool) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return replica.BrokerID(n), true
}

// readMetaProperties reads and checks dir's meta.properties. A missing file is the
// filesystem's error (errors.Is(err, fs.ErrNotExist)); a damaged or oversized one is
// a *CorruptError; a symlink is refused (vfs.ErrSymlink).
func readMetaProperties(fsys vfs.FS, dir string) (metaProperties, error) {
	path := filepath.Join(dir, metaPropertiesFileName)
	data, err := keyvalue.ReadFile(fsys, path, maxMetaPropertiesBytes)
	if err != nil {
		return metaProperties{}, err
	}
	return decodeMetaProperties(path, data)
}

// writeMetaProperties writes dir's meta.properties crash-atomically.
func writeMetaProperties(fsys vfs.FS, dir string, m metaProperties) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, metaPropertiesFileName), encodeMetaProperties(m))
}
