package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChangelog runs the example twice on one directory: compaction shrinks the log
// and keeps the table, and the second start-up rebuilds the table from what was
// kept.
func TestChangelog(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, &out))
	text := out.String()
	require.Contains(t, text, "start-up: rebuilt 0 items from 0 records")
	require.Contains(t, text, "compacted 1 partition(s)")
	require.Contains(t, text, "rebuilt 39 items from")
	require.Contains(t, text, "same table as before compaction; item-13 deleted: true")

	out.Reset()
	require.NoError(t, run(context.Background(), dir, &out))
	require.Contains(t, out.String(), "start-up: rebuilt 39 items from")
}
