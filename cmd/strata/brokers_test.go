package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBrokersSession(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	elsewhere := filepath.Join(t.TempDir(), "disk2")
	out := ok(t, dir, "", "init", "--brokers", "3", "--broker-dir", "2="+elsewhere)
	if !strings.Contains(out, "Created a store of 3 brokers") {
		t.Fatalf("init: %q", out)
	}
	fails(t, dir, 1, "", "init", "--brokers", "2")
	ok(t, dir, "", "topics", "create", "orders", "--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2")
	fails(t, dir, 1, "replication-factor", "topics", "create", "big", "--replication-factor", "4")

	describe := maskTopicIDs(t, lines(ok(t, dir, "", "topics", "describe", "orders")))
	if len(describe) != 4 || !strings.HasPrefix(describe[0], "Topic: orders\tTopicId: ID\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: ") ||
		!strings.Contains(describe[0], "min.insync.replicas=2") {
		t.Fatalf("describe: %q", describe)
	}
	for i, want := range []string{"Leader: 0\tReplicas: 0,1,2\tIsr: 0,1,2", "Leader: 1\tReplicas: 1,2,0\tIsr: 1,2,0", "Leader: 2\tReplicas: 2,0,1\tIsr: 2,0,1"} {
		if !strings.Contains(describe[i+1], want) {
			t.Fatalf("partition %d: %q, want %q", i, describe[i+1], want)
		}
	}
	ok(t, dir, "a\nb\nc\n", "produce", "orders", "--partition", "1", "--acks", "all")
	if got := ok(t, dir, "", "consume", "orders", "--from-beginning"); got != "a\nb\nc\n" {
		t.Fatalf("consume: %q", got)
	}
	brokers := lines(ok(t, dir, "", "brokers", "list"))
	if len(brokers) != 3 || !strings.HasPrefix(brokers[0], "0\t"+dir+"\tonline\tleads ") || !strings.HasPrefix(brokers[2], "2\t"+elsewhere+"\tonline\t") {
		t.Fatalf("brokers list: %q", brokers)
	}
	if got := ok(t, dir, "", "topics", "describe", "--under-replicated-partitions"); got != "" {
		t.Fatalf("under-replicated: %q", got)
	}
	if got := ok(t, dir, "", "verify"); !strings.Contains(got, "orders-1: ok") {
		t.Fatalf("verify: %q", got)
	}

	// Broker 2's disk is gone: the store opens without it, every record still reads.
	if err := os.RemoveAll(elsewhere); err != nil {
		t.Fatal(err)
	}
	// Each command logs, at Error, that broker 2 is offline.
	offline := func(args ...string) string {
		t.Helper()
		r := strata(t, dir, "", args...)
		if r.code != 0 || !strings.Contains(r.stderr, "broker offline") {
			t.Fatalf("strata %q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		return r.stdout
	}
	brokers = lines(offline("brokers", "list"))
	if !strings.HasPrefix(brokers[2], "2\t"+elsewhere+"\toffline: ") {
		t.Fatalf("brokers list: %q", brokers)
	}
	under := lines(offline("topics", "describe", "--under-replicated-partitions"))
	if len(under) != 3 {
		t.Fatalf("under-replicated: %q", under)
	}
	if got := offline("consume", "orders", "--from-beginning"); got != "a\nb\nc\n" {
		t.Fatalf("consume without broker 2: %q", got)
	}
	r := strata(t, dir, "d\n", "produce", "orders", "--partition", "1")
	if r.code != 0 {
		t.Fatalf("produce without broker 2: %+v", r)
	}
	out = offline("leaders", "elect", "--preferred", "--topic", "orders")
	if !strings.Contains(out, "Moved the leadership of") {
		t.Fatalf("leaders elect: %q", out)
	}
	fails(t, dir, 2, "--preferred is required", "leaders", "elect")

	// A fourth broker, and partition 0 moved onto it.
	if got := ok(t, dir, "", "brokers", "add"); got != "Added broker 3.\n" {
		t.Fatalf("brokers add: %q", got)
	}
	r = strata(t, dir, "", "partitions", "reassign", "orders", "--partition", "0", "--replicas", "3,0,1")
	if r.code != 0 || !strings.Contains(r.stdout, "Reassigning orders-0 to brokers 3,0,1.") {
		t.Fatalf("reassign: %+v", r)
	}
	fails(t, dir, 2, "--replicas", "partitions", "reassign", "orders", "--partition", "0", "--replicas", "x")
}
