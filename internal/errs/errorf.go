package errs

import (
	"fmt"
	"strings"
)

// Errorf is fmt.Errorf for an error that names its package, as every strata error
// does ("strata/log: create topic: %w"): the package is said once, at the start,
// however many of the package's own errors the message wraps. Without it a
// sentinel or an error wrapped with context says its package again where it is
// wrapped: "strata/log: create topic: strata/log: invalid topic name: ...".
//
// The package is the start of format up to the first ": ", if it starts with
// "strata" ("strata/log: "); later occurrences of it are dropped from the text.
// Nothing else changes: the error wraps what fmt.Errorf's wraps, so errors.Is and
// errors.As see every wrapped error.
func Errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	prefix, ok := packagePrefix(format)
	if !ok {
		return err
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg[len(prefix):], prefix) {
		return err
	}
	return &onceError{msg: prefix + strings.ReplaceAll(msg[len(prefix):], prefix, ""), err: err}
}

// packagePrefix returns the "strata/<pkg>: " that starts format.
func packagePrefix(format string) (string, bool) {
	if !strings.HasPrefix(format, "strata") {
		return "", false
	}
	i := strings.Index(format, ": ")
	if i < 0 || strings.ContainsAny(format[:i], " %") {
		return "", false
	}
	return format[:i+2], true
}

// onceError is an error of Errorf whose text lost its package's repetitions.
type onceError struct {
	msg string
	err error // fmt.Errorf's, which wraps the arguments
}

func (e *onceError) Error() string { return e.msg }
func (e *onceError) Unwrap() error { return e.err }
