package main

import (
	"strings"
	"testing"
)

// TestAllowlistParsesAndRunsItsTests checks that the checked-in allowlist
// parses, runs the group ETL test and the SCRAM tests, and gives every
// skipped test a reason.
func TestAllowlistParsesAndRunsItsTests(t *testing.T) {
	a, err := parseAllowlist(allowlistText)
	if err != nil {
		t.Fatal(err)
	}
	pattern := a.runPattern()
	if !strings.Contains(pattern, "|TestGroupETL|") && !strings.HasPrefix(pattern, "^(TestGroupETL|") {
		t.Errorf("the run pattern %s lacks TestGroupETL", pattern)
	}
	for _, name := range []string{"TestSCRAMAuth", "TestSCRAMAuthBadCredentials"} {
		if !strings.Contains(pattern, "|"+name+"|") && !strings.Contains(pattern, "|"+name+")$") {
			t.Errorf("the run pattern %s lacks %s (the SCRAM listener)", pattern, name)
		}
	}
	for name, reason := range a.skip {
		if reason == "" {
			t.Errorf("%s is skipped without a reason", name)
		}
	}
}

// TestAllowlistRejectsMalformedLines is a table of allowlist texts: each
// malformed one is an error naming its line.
func TestAllowlistRejectsMalformedLines(t *testing.T) {
	for _, tc := range []struct {
		text, wantErr string
	}{
		{"run TestA\nskip TestB slow\n# comment\n\n", ""},
		{"run TestA extra", "allowlist.txt:1"},
		{"skip TestA", "allowlist.txt:1"},
		{"run TestA\nrun TestA", "allowlist.txt:2"},
		{"run TestA\nskip TestA slow", "allowlist.txt:2"},
		{"keep TestA", "allowlist.txt:1"},
	} {
		_, err := parseAllowlist(tc.text)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want one naming %s", tc.text, err, tc.wantErr)
		}
	}
}

// TestAllowlistCoversReportsMissingAndStaleTests checks both directions of the
// check against the package's test list.
func TestAllowlistCoversReportsMissingAndStaleTests(t *testing.T) {
	a, err := parseAllowlist("run TestA\nskip TestB slow\nrun TestGone\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := a.runPattern(); got != "^(TestA|TestGone)$" {
		t.Errorf("run pattern %s", got)
	}
	err = a.covers([]string{"TestA", "TestB", "TestNew"})
	if err == nil || !strings.Contains(err.Error(), "does not name TestNew") || !strings.Contains(err.Error(), "lacks: TestGone") {
		t.Errorf("covers: %v, want TestNew missing and TestGone stale", err)
	}
	if err := a.covers([]string{"TestA", "TestB", "TestGone"}); err != nil {
		t.Errorf("covers the exact list: %v", err)
	}
	if got := (allowlist{}).runPattern(); got != "^$" {
		t.Errorf("empty run pattern %s", got)
	}
}
