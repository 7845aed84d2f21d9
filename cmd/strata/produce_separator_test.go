package main

import "testing"

// TestProduceEmptyKeySeparatorProperty: --property key.separator= (empty) with
// parse.key is a usage error, as --key-separator "" is, rather than read silently
// as a tab.
func TestProduceEmptyKeySeparatorProperty(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "topics", "create", "t")
	fails(t, dir, 2, "--property key.separator: must not be empty", "produce", "t",
		"--property", "parse.key=true", "--property", "key.separator=")
}
