package errs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stratalog/strata/internal/errs"
)

var errInvalidName = errors.New("strata/log: invalid topic name")

type nameError struct{ name string }

func (e *nameError) Error() string { return "strata/log: bad name " + e.name }

func TestErrorfSaysThePackageOnce(t *testing.T) {
	inner := fmt.Errorf("%w: empty name", errInvalidName)
	typed := &nameError{"x"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{errs.Errorf("strata/log: create topic: %w", inner), "strata/log: create topic: invalid topic name: empty name"},
		{errs.Errorf("strata/log: produce record %d: %w", 3, fmt.Errorf("topic %q: %w", "t", errInvalidName)), `strata/log: produce record 3: topic "t": invalid topic name`},
		{errs.Errorf("strata/log: a: %w", errs.Errorf("strata/log: b: %w", inner)), "strata/log: a: b: invalid topic name: empty name"},
		{errs.Errorf("strata/log: commit: %w", errors.Join(errInvalidName, typed)), "strata/log: commit: invalid topic name\nbad name x"},
		// Another package's prefix stays: each says its own once.
		{errs.Errorf("strata/log: read: %w", errors.New("strata/partition: closed")), "strata/log: read: strata/partition: closed"},
		// Formats that name no package are fmt.Errorf's.
		{errs.Errorf("%w: empty name", errInvalidName), "strata/log: invalid topic name: empty name"},
		{errs.Errorf("strata says %s: %w", "hi", errInvalidName), "strata says hi: strata/log: invalid topic name"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	err := errs.Errorf("strata/log: create topic: %w", errors.Join(inner, typed))
	if !errors.Is(err, errInvalidName) {
		t.Errorf("%v does not match the sentinel", err)
	}
	var target *nameError
	if !errors.As(err, &target) || target != typed {
		t.Errorf("%v: errors.As does not find the typed error", err)
	}
}
