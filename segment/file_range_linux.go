//go:build linux

package segment

import (
	"io"
	"os"
	"runtime"
	"syscall"
)

// SendTo sends the range's bytes from its from-th on to the socket sock (a file
// descriptor, non-blocking or not) with one sendfile(2) call, and returns how many
// it sent: possibly fewer than asked, as a socket takes what its buffer holds. A
// non-blocking socket that takes nothing returns syscall.EAGAIN: wait until it is
// writable and call again. It returns ErrFileChanged, sending nothing, once the
// segment has been truncated since the range was made; the call is ordered against
// TruncateTo, so the bytes it sends are those the range named.
func (r *FileRange) SendTo(sock int, from int) (int, error) {
	if r.file == nil {
		return 0, os.ErrClosed
	}
	if from < 0 || from >= r.n {
		return 0, io.EOF
	}
	r.seg.send.RLock()
	defer r.seg.send.RUnlock()
	if r.seg.send.truncations != r.truncations {
		return 0, ErrFileChanged
	}
	offset := r.pos + int64(from)
	n, err := syscall.Sendfile(sock, int(r.file.Fd()), &offset, r.n-from)
	runtime.KeepAlive(r.file)
	if n < 0 {
		n = 0
	}
	if n == 0 && err == nil {
		// The file ends before the range: only a truncation cuts a .log, and it
		// would have been counted. Never pad: the caller breaks the connection.
		return 0, io.ErrUnexpectedEOF
	}
	return n, err
}
