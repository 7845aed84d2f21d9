package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReplicas plays the failover twice on the same store: every order is kept
// through the broker's loss, and the second run finds the store as the first left
// it.
func TestReplicas(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, &out))
	require.Contains(t, out.String(), "after the failover:")
	require.NotContains(t, out.String(), "after the failover:\n  partition 1: leader 1")
	require.Contains(t, out.String(), "broker 1 is back and in sync; 1 leadership(s) moved back to it")
	require.Contains(t, out.String(), "60 orders stored, none lost")

	out.Reset()
	require.NoError(t, run(context.Background(), dir, &out))
	require.Contains(t, out.String(), "120 orders stored, none lost")
}
