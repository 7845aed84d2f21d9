package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReplay replays from 18:00 and from midnight: exactly the readings at or after
// the time come back, and a second run on the same directory reuses the data.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, day.Add(18*time.Hour), &out))
	require.Contains(t, out.String(), "replayed 1080 readings from 6:00PM to 11:59PM")
	require.Contains(t, out.String(), "roof: 6 hours recomputed")

	out.Reset()
	require.NoError(t, run(context.Background(), dir, day, &out))
	require.Contains(t, out.String(), "replayed 4320 readings from 12:00AM to 11:59PM")
	require.Contains(t, out.String(), "boiler: 24 hours recomputed")
}
