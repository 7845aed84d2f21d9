// Package memtest helps tests check memory that may be unmapped: Touch reads bytes and
// reports a fault as an error instead of letting it kill the test binary.
package memtest

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
)

// sink keeps the compiler from dropping Touch's reads.
var sink atomic.Uint32

// Touch reads every byte of b and returns the fault (SIGSEGV or SIGBUS, turned into a
// panic by debug.SetPanicOnFault) if reading one faulted, or nil.
func Touch(b []byte) (fault error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			fault = fmt.Errorf("reading %d bytes at %p: %v", len(b), b, r)
		}
	}()
	var sum uint32
	for _, c := range b {
		sum += uint32(c)
	}
	sink.Add(sum)
	return nil
}
