package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the example as README's first command does and checks that
// every produced record was consumed after the reopen.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), t.TempDir(), &out))
	text := out.String()
	require.Contains(t, text, "created topic orders")
	require.Contains(t, text, "closed the store")
	require.Equal(t, 6, strings.Count(text, "produced "))
	require.Equal(t, 6, strings.Count(text, "consumed "))
	for _, order := range []string{"order 1", "order 2", "order 3", "order 4", "order 5", "order 6"} {
		require.Equal(t, 2, strings.Count(text, order+" "), "%s produced and consumed once each", order)
	}
}
