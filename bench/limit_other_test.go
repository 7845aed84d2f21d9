//go:build !unix

package bench

// openFileLimit returns 0: the limit on open files is not known here.
func openFileLimit() uint64 { return 0 }
