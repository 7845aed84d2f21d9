package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the example as README's first command does: every record is
// consumed once, the group's committed position survives the reopen (the new member
// resumes exactly there and reads only the records produced after it), and a second
// run on the same directory continues where the first stopped.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, &out))
	text := out.String()
	require.Contains(t, text, "created topic orders")
	before, after, found := strings.Cut(text, "closed the store\n")
	require.True(t, found, text)

	require.Equal(t, 9, strings.Count(text, "produced "))
	require.Equal(t, 9, strings.Count(text, "consumed "))
	for i := 1; i <= 9; i++ {
		order := fmt.Sprintf("order %d ", i)
		require.Equal(t, 2, strings.Count(text, order), "%s produced and consumed once each", order)
	}
	require.Equal(t, 6, strings.Count(before, "consumed "), "before the close: the first six orders")
	require.Equal(t, 3, strings.Count(after, "consumed "), "after the reopen: only the three new orders")

	// What the group committed before the close is where it resumes after the reopen.
	committed := regexp.MustCompile(`partition (\d) at (\d+)`).FindAllStringSubmatch(lastLine(t, before, "group billing committed:"), -1)
	require.NotEmpty(t, committed)
	for _, c := range committed {
		require.Contains(t, after, fmt.Sprintf("group billing: partition %s resumes at its committed offset %s\n", c[1], c[2]))
	}

	// Again on the same directory: the topic exists, and the group continues.
	out.Reset()
	require.NoError(t, run(context.Background(), dir, &out))
	text = out.String()
	require.NotContains(t, text, "created topic")
	require.Equal(t, 9, strings.Count(text, "consumed "), "only this run's nine orders: %s", text)
	for i := 10; i <= 18; i++ {
		require.Equal(t, 2, strings.Count(text, fmt.Sprintf("order %d ", i)))
	}
}

// lastLine returns the last line of text that starts with prefix.
func lastLine(t *testing.T, text, prefix string) string {
	t.Helper()
	var found string
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, prefix) {
			found = line
		}
	}
	require.NotEmpty(t, found, "no line starting with %q in:\n%s", prefix, text)
	return found
}
