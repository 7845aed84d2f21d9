//go:build linux

package kafka

import (
	"errors"
	"syscall"

	"github.com/stratalog/strata/segment"
)

// sendfileSupported: Linux's sendfile(2) takes an explicit file offset, which
// FileRange.SendTo uses.
const sendfileSupported = true

// send sends all of r with sendfile calls (FileRange.SendTo), waiting for the
// socket to be writable as the runtime's poller says, never holding anything
// while it waits: each call is ordered against a truncation of the segment, so
// a truncation waits for one call at most. It returns the bytes sent; after
// segment.ErrFileChanged the caller sends the rest from memory.
//
// Not net.TCPConn.ReadFrom, which also uses sendfile: it takes an *os.File (or an
// io.LimitedReader of one; not an io.SectionReader, as of Go 1.26) and sends from
// the file's current position, which every duplicate of a segment's descriptor
// shares, so concurrent fetches of one segment would move it under each other;
// and it waits for the socket inside one call, which could then not be ordered
// against a truncation without holding the truncation up for as long as a client
// is slow to read.
func (f *fileSender) send(r *segment.FileRange) (sent int, err error) {
	var sendErr error
	err = f.raw.Write(func(fd uintptr) bool {
		for sent < r.Len() {
			n, err := r.SendTo(int(fd), sent)
			sent += n
			switch err {
			case nil:
			case syscall.EAGAIN:
				return false // the poller waits until the socket is writable
			case syscall.EINTR:
			default:
				sendErr = err
				return true
			}
		}
		return true
	})
	if err == nil {
		err = sendErr
	}
	return sent, err
}

// sendfileRefused tells the errors with which the kernel refuses sendfile for
// this file or socket, sending nothing (as Go's own sendfile falls back on): the
// rest is then written from memory.
func sendfileRefused(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP)
}
