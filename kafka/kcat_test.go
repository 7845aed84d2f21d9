package kafka

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
)

// requireKcatEnv makes TestKcatRoundTrip fail rather than skip when kcat is
// missing: .ci/run installs kcat (Debian's, on librdkafka) and sets it.
const requireKcatEnv = "STRATA_REQUIRE_KCAT"

// TestKcatRoundTrip: a client outside Go, kcat on librdkafka (the C client most
// non-Java clients wrap), produces to the listener and consumes back.
func TestKcatRoundTrip(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv(requireKcatEnv) != "" {
			t.Fatalf("kcat not found, and %s is set: %v", requireKcatEnv, err)
		}
		t.Skip("kcat is not installed (.ci/run installs it)")
	}
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, ts.store.CreateTopic(ctx, "kc", log.TopicConfig{Partitions: 2}))

	produce := exec.CommandContext(ctx, kcat, "-b", ts.addr, "-t", "kc", "-P", "-K", ":", "-X", "acks=all")
	produce.Stdin = strings.NewReader("k1:one\nk2:two\nk3:three\nk1:four\n")
	out, err := produce.CombinedOutput()
	require.NoError(t, err, "%s", out)

	consume := exec.CommandContext(ctx, kcat, "-b", ts.addr, "-t", "kc", "-C", "-o", "beginning", "-e", "-f", "%k=%s\n")
	var stdout, stderr bytes.Buffer
	consume.Stdout, consume.Stderr = &stdout, &stderr
	require.NoError(t, consume.Run(), "%s", stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.ElementsMatch(t, []string{"k1=one", "k2=two", "k3=three", "k1=four"}, lines)
	// Per key, in order: k1's records share a partition.
	require.Less(t, strings.Index(stdout.String(), "k1=one"), strings.Index(stdout.String(), "k1=four"))
}
