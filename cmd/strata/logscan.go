package main

import (
	"fmt"
	"io"
	"math"

	"github.com/stratalog/strata/segment"
)

// maxDumpBatchBytes is the largest batch dump reads into memory (Kafka's
// kafka-dump-log reads at most 5 MB by default; strata topics default to 1 MiB).
// A larger length field is reported, never allocated.
const maxDumpBatchBytes = 64 << 20

// logScanner walks the batch headers of a .log file in order, without trusting
// them: every header is checked (segment.ParseBatchHeader) and must fit in the rest
// of the file before the scanner moves past it. It reads only headers; read reads a
// whole batch.
type logScanner struct {
	r      io.ReaderAt
	size   int64 // of the file
	pos    int64 // where the next batch starts
	header [segment.BatchHeaderSize]byte
}

// logProblem is invalid bytes in a .log: the first bad batch.
type logProblem struct {
	position int64
	reason   string
}

func (p *logProblem) Error() string {
	return fmt.Sprintf("position %d: %s", p.position, p.reason)
}

// next returns the position and header of the next batch and moves past it; ok is
// false at the end of the file. Invalid bytes are a *logProblem; the scanner does
// not move past them.
func (s *logScanner) next() (pos int64, h segment.BatchHeader, ok bool, err error) {
	pos = s.pos
	left := s.size - pos
	if left == 0 {
		return pos, h, false, nil
	}
	if left < segment.BatchHeaderSize {
		return pos, h, false, &logProblem{pos, fmt.Sprintf("%d bytes left, fewer than a batch header (%d): a torn write?", left, segment.BatchHeaderSize)}
	}
	if _, err := s.r.ReadAt(s.header[:], pos); err != nil {
		return pos, h, false, err
	}
	// The largest batch a segment can hold: the size is checked against the rest of
	// the file below, and nothing is allocated for it here.
	h, err = segment.ParseBatchHeader(s.header[:], math.MaxInt32)
	if err != nil {
		return pos, h, false, &logProblem{pos, "invalid batch header: " + cleanMessage(err.Error())}
	}
	if int64(h.Size()) > left {
		return pos, h, false, &logProblem{pos, fmt.Sprintf("batch of %d bytes runs past the end of the file (%d bytes left)", h.Size(), left)}
	}
	s.pos += int64(h.Size())
	return pos, h, true, nil
}

// read reads the whole batch of h at pos into buf (grown as needed) and returns it.
// A batch larger than maxDumpBatchBytes is a *logProblem.
func (s *logScanner) read(buf []byte, pos int64, h *segment.BatchHeader) ([]byte, error) {
	size := h.Size()
	if size > maxDumpBatchBytes {
		return buf, &logProblem{pos, fmt.Sprintf("batch of %d bytes is larger than dump reads (%d)", size, maxDumpBatchBytes)}
	}
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := s.r.ReadAt(buf, pos); err != nil {
		return buf, err
	}
	return buf, nil
}
