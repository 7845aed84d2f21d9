// Package crcline seals a text file with a last line holding the CRC-32C of every
// byte before it, "crc32c xxxxxxxx\n" (8 lowercase hex digits): the convention of
// strata's JSON files (topics.json, the controller state), which stay readable and
// editable by hand (an edit must recompute the line).
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
func Append(body []byte) []byte {
	return fmt.Appendf(body, "%s%08x\n", Prefix, crc32.Checksum(body, castagnoli))
}

// Split returns the body of data (read from path, for errors) without its checksum
// line, checked. found is false if data has no checksum line (body is data then); a
// checksum line that is malformed or does not match is a *CorruptError.
func Split(path string, data []byte) (body []byte, found bool, err error) {
	i := bytes.LastIndexByte(bytes.TrimSuffix(data, []byte("\n")), '\n')
	if i < 0 || !bytes.HasPrefix(data[i+1:], []byte(Prefix)) {
		return data, false, nil
	}
	body = data[:i+1]
	line := string(data[i+1:])
	digits, ok := strings.CutSuffix(strings.TrimPrefix(line, Prefix), "\n")
	sum, perr := strconv.ParseUint(digits, 16, 32)
	if !ok || perr != nil || len(digits) != 8 || digits != strings.ToLower(digits) {
		return nil, true, errs.Corruptf(path, int64(i+1), "bad checksum line %q", line)
	}
	if got := crc32.Checksum(body, castagnoli); got != uint32(sum) {
		return nil, true, errs.Corruptf(path, 0, "checksum mismatch: the file says crc32c %08x, its bytes have %08x", sum, got)
	}
	return body, true, nil
}
