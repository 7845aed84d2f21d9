package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// TestWorkers runs the example under testing/synctest: heartbeats, session
// timeouts and the work take fake time, and run's steps wait for events, so the
// run is quick and does not depend on the machine's speed. It checks that the
// group settled twice, that worker-2 stopped mid-stream and its partitions went to
// the other workers, and that run found every job handled at least once (run fails
// otherwise). A second run on the same directory continues with new jobs.
func TestWorkers(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), dir, &out))
		text := out.String()
		t.Log("\n" + text)
		require.Contains(t, text, "all 600 jobs handled, none lost")
		require.Equal(t, 2, strings.Count(text, "group settled: "))

		// worker-2 owned two partitions, handled some of their jobs, stopped.
		settled := regexp.MustCompile(`worker-2 owns (jobs-\d) (jobs-\d);`).FindStringSubmatch(text)
		require.NotNil(t, settled, "worker-2 owned two partitions once settled")
		_, after, found := strings.Cut(text, "stopping worker-2 mid-stream")
		require.True(t, found)
		require.Contains(t, after, "worker-2 revoked "+settled[1]+" "+settled[2]+"\n")
		// The rebalance gave each of them to worker-1 or worker-3.
		for _, tp := range settled[1:] {
			require.Regexp(t, `worker-[13] assigned [a-z0-9 -]*\b`+tp+`\b`, after)
		}
		handled := map[string]int{}
		for _, m := range regexp.MustCompile(`(worker-\d) handled (\d+) jobs`).FindAllStringSubmatch(text, -1) {
			handled[m[1]], _ = strconv.Atoi(m[2])
		}
		require.Len(t, handled, 3)
		require.GreaterOrEqual(t, handled["worker-2"], stopAfter)
		require.Less(t, handled["worker-2"], 2*jobsPerBatch/workerCount, "worker-2 stopped mid-stream")
		require.GreaterOrEqual(t, handled["worker-1"]+handled["worker-2"]+handled["worker-3"], 2*jobsPerBatch)

		// Again on the same directory: the group continues with this run's jobs.
		out.Reset()
		require.NoError(t, run(context.Background(), dir, &out))
		require.NotContains(t, out.String(), "created topic")
		require.Contains(t, out.String(), "all 600 jobs handled, none lost")
	})
}
