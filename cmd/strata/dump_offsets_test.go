package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalog/strata/log"
)

// TestDumpOffsetsDecoder: dump --offsets-decoder prints the offsets topic's
// records decoded: the group's metadata, its committed offsets, and the
// tombstones of a deleted group.
func TestDumpOffsetsDecoder(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	ok(t, dir, "a\nb\n", "produce", "t")
	ok(t, dir, "", "consume", "t", "--group", "g", "--from-beginning")
	ok(t, dir, "", "groups", "delete", "g")
	segment := filepath.Join(dir, log.OffsetsTopic+"-0", "00000000000000000000.log")
	out := ok(t, dir, "", "dump", segment, "--offsets-decoder")
	for _, want := range []string{
		" key: offset_commit::group=g,partition=t-0 payload: offset=2,metadata=,commitTimestamp=",
		" key: group_metadata::group=g payload: protocolType=consumer,protocol=",
		" key: offset_commit::group=g,partition=t-0 payload: <DELETE>\n",
		" key: group_metadata::group=g payload: <DELETE>\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dump --offsets-decoder lacks %q:\n%s", want, out)
		}
	}
	// A segment of another topic does not decode: its records are printed as they
	// are, with why.
	out = ok(t, dir, "", "dump", filepath.Join(dir, "t-0", "00000000000000000000.log"), "--offsets-decoder")
	if !strings.Contains(out, " payload: a decodeError: ") {
		t.Errorf("dump --offsets-decoder of another topic:\n%s", out)
	}
}
