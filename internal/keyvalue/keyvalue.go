// Package keyvalue is the text format of strata's small checkpoint files (a
// partition's partition.checkpoint and cleaner.checkpoint, a store's
// recovery-points.checkpoint): a first line naming the format and its version, one
// "key value" line per field, and a last line "crc32c XXXXXXXX", the CRC-32C
// (Castagnoli) of every byte before it in lowercase hex. FORMAT.md describes each
// file.
//
//	strata-partition-checkpoint 2
//	log-start-offset 250
//	crc32c 8da559b1
package keyvalue

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/vfs"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns a file of format name at version, with the fields in the given
// order (pairs of key and value) and its CRC line.
func Encode(name string, version int, fields ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d\n", name, version)
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, "%s %s\n", fields[i], fields[i+1])
	}
	fmt.Fprintf(&b, "crc32c %08x\n", crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes()
}

// Decode checks data's CRC line and format line (name at a version from minVersion
// to maxVersion) and returns its fields by key (the format line's too: name ->
// version), and the version. A failed check is a *errs.CorruptError naming path.
func Decode(path, name string, minVersion, maxVersion int, data []byte) (map[string]string, int, error) {
	corrupt := func(reason string) (map[string]string, int, error) {
		return nil, 0, errs.Corruptf(path, 0, "%s: %s", name, reason)
	}
	body, sumLine, ok := cutLastLine(data)
	if !ok {
		return corrupt("no crc line")
	}
	var sum uint32
	if _, err := fmt.Sscanf(sumLine, "crc32c %08x", &sum); err != nil {
		return corrupt("bad crc line")
	}
	if crc32.Checksum(body, castagnoli) != sum {
		return corrupt("crc mismatch")
	}
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), " ")
		fields[key] = value
	}
	version, err := strconv.Atoi(fields[name])
	if err != nil || version < minVersion || version > maxVersion {
		return corrupt("unknown version " + fields[name])
	}
	return fields, version, nil
}

// ReadFile reads one of strata's small files (a checkpoint, topics.json) of at most
// limit bytes: a larger one, such as a damaged or sparse file claiming gigabytes, is
// a *errs.CorruptError, never read. Other errors are the filesystem's.
func ReadFile(fsys vfs.FS, path string, limit int64) ([]byte, error) {
	data, err := vfs.ReadFileLimit(fsys, path, limit)
	if errors.Is(err, vfs.ErrTooLarge) {
		return nil, errs.Corruptf(path, 0, "%v", err)
	}
	return data, err
}

// cutLastLine splits data ending in "\n" into everything up to and including the
// second-to-last newline, and the last line without its newline.
func cutLastLine(data []byte) (body []byte, last string, ok bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, "", false
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if i < 0 {
		return nil, "", false
	}
	return data[:i+1], string(data[i+1 : len(data)-1]), true
}
