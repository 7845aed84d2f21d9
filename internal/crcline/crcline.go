// Package crcline seals a text file with a last line holding the CRC-32C of every
// byte before it, "crc32c xxxxxxxx\n" (8 lowercase hex digits): the convention of
// strata's JSON files (topics.json, brokers.json, the controller state), which stay
// readable and editable by hand (an edit must recompute the line). Files in another
// format that must stay readable by that format's own readers put the line behind a
// prefix of their own (AppendPrefixed, SplitPrefixed): meta.properties, in Kafka's
// Java-properties format, ends with the comment "#crc32c=xxxxxxxx\n".
package crcline

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/errs"
)

// Prefix starts the checksum line.
const Prefix = "crc32c "

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Append returns body followed by its checksum line; body must end with a newline.
func Append(body []byte) []byte { return AppendPrefixed(body, Prefix) }

// Split returns the body of data (read from path, for errors) without its checksum
// line, checked. found is false if data has no checksum line (body is data then); a
// checksum line that is malformed or does not match is a *CorruptError.
func Split(path string, data []byte) (body []byte, found bool, err error) {
	return SplitPrefixed(path, data, Prefix)
}

// AppendPrefixed is Append with a checksum line starting with prefix instead of
// Prefix.
func AppendPrefixed(body []byte, prefix string) []byte {
	return fmt.Appendf(body, "%s%08x\n", prefix, crc32.Checksum(body, castagnoli))
}

// SplitPrefixed is Split for a checksum line starting with prefix instead of
// Prefix: data has a checksum line if its last line starts with prefix.
func SplitPrefixed(path string, data []byte, prefix string) (body []byte, found bool, err error) {
	i := bytes.LastIndexByte(bytes.TrimSuffix(data, []byte("\n")), '\n')
	if i < 0 || !bytes.HasPrefix(data[i+1:], []byte(prefix)) {
		return data, false, nil
	}
	body = data[:i+1]
	line := string(data[i+1:])
	digits, ok := strings.CutSuffix(strings.TrimPrefix(line, prefix), "\n")
	sum, perr := strconv.ParseUint(digits, 16, 32)
	if !ok || perr != nil || len(digits) != 8 || digits != strings.ToLower(digits) {
		return nil, true, errs.Corruptf(path, int64(i+1), "bad checksum line %q", line)
	}
	if got := crc32.Checksum(body, castagnoli); got != uint32(sum) {
		return nil, true, errs.Corruptf(path, 0, "checksum mismatch: the file says crc32c %08x, its bytes have %08x", sum, got)
	}
	return body, true, nil
}
