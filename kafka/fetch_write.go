package kafka

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/stratalog/strata/segment"
)

// FetchStats counts the record-batch bytes that Fetch responses served, by how
// they reached the socket.
type FetchStats struct {
	// SentFromFileBytes went from the segment files to the socket with
	// sendfile(2), never copied through the server's memory: on Linux, over
	// plain TCP, from a store on the OS filesystem.
	SentFromFileBytes int64
	// CopiedBytes were written from memory: through TLS (which encrypts them),
	// on other platforms or filesystems, in a response of a version the server
	// encodes with kmsg, or after a truncation of the segment being sent.
	CopiedBytes int64
}

// fetchCounters are the server's FetchStats.
type fetchCounters struct {
	sentFromFile atomic.Int64
	copied       atomic.Int64
}

// FetchStats returns the server's counts of the record-batch bytes Fetch
// responses served since it started.
func (s *Server) FetchStats() FetchStats {
	return FetchStats{SentFromFileBytes: s.fetchStats.sentFromFile.Load(), CopiedBytes: s.fetchStats.copied.Load()}
}

// writeFetchResponse writes resp, framed for correlationID, to c: the fields
// from c.out, each partition's batches from their segment file with sendfile
// where c is a plain TCP connection on Linux (fileSender), else from memory.
func (s *Server) writeFetchResponse(c *conn, correlationID int32, resp *fetchResponse) error {
	if s.fetchWrite == fetchWriteCopied {
		return s.writeFetchResponseCopied(c, correlationID, resp)
	}
	var splices []fetchSplice
	c.out, splices = appendFetchResponse(c.out[:0], correlationID, resp.FetchResponse, resp.files(), nil)
	inline := 0
	for _, h := range resp.held {
		inline += h.len()
	}
	for _, sp := range splices {
		inline -= sp.batches.len()
	}
	s.fetchStats.copied.Add(int64(inline))
	if len(splices) == 0 {
		_, err := c.nc.Write(c.out)
		return err
	}
	sender := newFileSender(c.nc)
	if s.fetchWrite == fetchWriteFromMemory {
		sender = nil
	}
	written := 0
	for _, sp := range splices {
		if _, err := c.nc.Write(c.out[written:sp.at]); err != nil {
			return err
		}
		written = sp.at
		if err := s.writeBatches(c.nc, sender, sp.batches); err != nil {
			return err
		}
	}
	_, err := c.nc.Write(c.out[written:])
	return err
}

// writeBatches writes one partition's batches: from the file with sender when
// there is one, the rest from memory (no sender; the segment was truncated since
// the fetch: the batches, a view the truncation preserved, still hold the bytes
// fetched; or the kernel refused sendfile to this socket).
func (s *Server) writeBatches(nc net.Conn, sender *fileSender, b *heldBatches) error {
	if s.beforeSendBatches != nil {
		s.beforeSendBatches()
	}
	sent := 0
	if sender != nil {
		var err error
		sent, err = sender.send(b.result.File)
		s.fetchStats.sentFromFile.Add(int64(sent))
		if err != nil && !errors.Is(err, segment.ErrFileChanged) && !sendfileRefused(err) {
			return err
		}
	}
	_, err := nc.Write(b.result.Batches[sent:])
	s.fetchStats.copied.Add(int64(len(b.result.Batches) - sent))
	return err
}

// fileSender sends file ranges to a connection's socket with sendfile.
type fileSender struct {
	raw syscall.RawConn
}

// newFileSender returns a sender for nc, or nil where sendfile cannot be used:
// a connection that is not plain TCP or Unix (TLS encrypts what it sends), or a
// platform other than Linux.
func newFileSender(nc net.Conn) *fileSender {
	if !sendfileSupported {
		return nil
	}
	var conn syscall.Conn
	switch nc := nc.(type) {
	case *net.TCPConn:
		conn = nc
	case *net.UnixConn:
		conn = nc
	default:
		return nil
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	return &fileSender{raw: raw}
}

// fetchWriteMode is how a server writes Fetch responses: the benchmarks compare
// them (BenchmarkKgoConsumeSealedSegments).
type fetchWriteMode int

const (
	// fetchWriteSendfile is the server's way: batches from their files with
	// sendfile where it can, else from memory.
	fetchWriteSendfile fetchWriteMode = iota
	// fetchWriteFromMemory writes the batches from the segments' mappings,
	// never with sendfile (as through TLS).
	fetchWriteFromMemory
	// fetchWriteCopied is how strata wrote Fetch responses before sendfile:
	// the batches copied into the response, which kmsg encodes (a second copy),
	// then written.
	fetchWriteCopied
)

// writeFetchResponseCopied writes resp as fetchWriteCopied says.
func (s *Server) writeFetchResponseCopied(c *conn, correlationID int32, resp *fetchResponse) error {
	copied := 0
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			if len(p.RecordBatches) > 0 {
				p.RecordBatches = append([]byte(nil), p.RecordBatches...)
				copied += len(p.RecordBatches)
			}
		}
	}
	s.fetchStats.copied.Add(int64(copied))
	c.out = appendResponse(c.out[:0], correlationID, resp.FetchResponse)
	_, err := c.nc.Write(c.out)
	return err
}
