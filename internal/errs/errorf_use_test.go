package errs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every package whose errors can wrap its own builds them with its errorf
// (errs.Errorf), so that a message says the package once: a fmt.Errorf that starts
// with the package's name is a message that may say it twice.
func TestPackagesBuildTheirErrorsWithErrorf(t *testing.T) {
	for _, pkg := range []string{"log", "partition", "replica", "group", "index", "txn"} {
		files, err := filepath.Glob(filepath.Join("..", "..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no files (%v)", pkg, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(data), "\n") {
				if strings.Contains(line, `fmt.Errorf("strata/`+pkg+`: `) {
					t.Errorf("%s:%d: fmt.Errorf(\"strata/%s: ...\"): use errorf, which says the package once", f, i+1, pkg)
				}
			}
		}
	}
}
