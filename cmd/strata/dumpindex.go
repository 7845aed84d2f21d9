package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stratalog/strata/index"
	"github.com/stratalog/strata/segment"
)

// The index files are read here entry by entry rather than through package index:
// its Open functions create a missing file and open it for writing, and dump must
// change nothing. The layout is index's Format constants (FORMAT.md).

// dumpOffsetIndex prints the entries of a .index file, checks its structure, and
// with --verify-index checks every entry against the segment's .log.
func (d *dumper) dumpOffsetIndex(path string, base int64) error {
	return d.dumpIndex(path, base, index.OffsetEntrySize, func(v *indexVerifier, i int, entry []byte) string {
		offset := base + int64(binary.BigEndian.Uint32(entry[0:4]))
		position := int64(binary.BigEndian.Uint32(entry[4:8]))
		fmt.Fprintf(d.out, "offset: %d position: %d\n", offset, position)
		if i > 0 && (offset <= v.previous[0] || position <= v.previous[1]) {
			return fmt.Sprintf("entry %d (offset %d position %d) does not rise above the previous one (offset %d position %d)",
				i, offset, position, v.previous[0], v.previous[1])
		}
		v.previous = [2]int64{offset, position}
		if v.scanner == nil {
			return ""
		}
		if problem := v.checkOffset(offset, position); problem != "" {
			return fmt.Sprintf("entry %d (offset %d position %d): %s", i, offset, position, problem)
		}
		return ""
	})
}

// dumpTimeIndex prints the entries of a .timeindex file, checks its structure, and
// with --verify-index checks every entry against the segment's .log.
func (d *dumper) dumpTimeIndex(path string, base int64) error {
	return d.dumpIndex(path, base, index.TimeEntrySize, func(v *indexVerifier, i int, entry []byte) string {
		timestamp := int64(binary.BigEndian.Uint64(entry[0:8]))
		offset := base + int64(binary.BigEndian.Uint32(entry[8:12]))
		fmt.Fprintf(d.out, "timestamp: %d offset: %d\n", timestamp, offset)
		if i > 0 && (timestamp <= v.previous[0] || offset < v.previous[1]) {
			return fmt.Sprintf("entry %d (timestamp %d offset %d): timestamps must rise and offsets not fall (previous: timestamp %d offset %d)",
				i, timestamp, offset, v.previous[0], v.previous[1])
		}
		v.previous = [2]int64{timestamp, offset}
		if v.scanner == nil {
			return ""
		}
		if problem := v.checkTime(timestamp, offset); problem != "" {
			return fmt.Sprintf("entry %d (timestamp %d offset %d): %s", i, timestamp, offset, problem)
		}
		return ""
	})
}

// dumpIndex reads the entries of an index file of entrySize-byte entries, calling
// check for each; check prints the entry and returns a problem, or "".
func (d *dumper) dumpIndex(path string, base int64, entrySize int, check func(v *indexVerifier, i int, entry []byte) string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(d.out, "Dumping %s\n", path)
	v := &indexVerifier{}
	if d.verifyIndex {
		logPath := sibling(path, base, segment.LogSuffix)
		logFile, err := os.Open(logPath)
		if err != nil {
			fmt.Fprintf(d.out, "Cannot verify %s: %v\n", filepath.Base(path), err)
			return fmt.Errorf("cannot verify against the .log: %w", err)
		}
		defer logFile.Close()
		info, err := logFile.Stat()
		if err != nil {
			return err
		}
		v.logPath = logPath
		v.scanner = &logScanner{r: logFile, size: info.Size()}
	}
	r := bufio.NewReader(f)
	entry := make([]byte, entrySize)
	problems, entries := 0, 0
	report := func(format string, args ...any) {
		problems++
		fmt.Fprintf(d.out, format+"\n", args...)
	}
	for ; ; entries++ {
		n, err := io.ReadFull(r, entry)
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			report("Invalid: %d trailing bytes, not a whole %d-byte entry", n, entrySize)
			break
		}
		if err != nil {
			return err
		}
		if problem := check(v, entries, entry); problem != "" {
			if v.scanner != nil {
				report("Mismatch: %s", problem)
			} else {
				report("Invalid: %s", problem)
			}
		}
	}
	if d.verifyIndex {
		fmt.Fprintf(d.out, "Verified %d entries of %s against %s: %d problems\n",
			entries, filepath.Base(path), filepath.Base(v.logPath), problems)
	}
	if problems > 0 {
		return fmt.Errorf("%d index problems", problems)
	}
	return nil
}

// indexVerifier checks index entries against a .log, walking its batch headers
// forward as the entries rise (and from the start again if they do not).
type indexVerifier struct {
	logPath  string
	scanner  *logScanner // nil without --verify-index
	previous [2]int64    // the previous entry's fields, for the structure check

	batch        segment.BatchHeader // the batch the scanner last returned
	batchPos     int64
	have         bool  // batch is set
	maxTimestamp int64 // greatest max timestamp of the batches up to batch
}

// restart goes back to the start of the .log.
func (v *indexVerifier) restart() {
	v.scanner.pos, v.have, v.maxTimestamp = 0, false, -1
}

// advance moves to the next batch; it returns a problem when there is none.
func (v *indexVerifier) advance() string {
	if !v.have {
		v.maxTimestamp = -1
	}
	pos, h, ok, err := v.scanner.next()
	if err != nil {
		return fmt.Sprintf("the .log cannot be read there: %s", cleanMessage(err.Error()))
	}
	if !ok {
		return fmt.Sprintf("beyond the last batch of the .log (%d bytes)", v.scanner.size)
	}
	v.batch, v.batchPos, v.have = h, pos, true
	v.maxTimestamp = max(v.maxTimestamp, h.MaxTimestamp)
	return ""
}

// checkOffset checks an offset index entry: a batch starts at position and holds
// offset (strata and Kafka index a batch's last offset).
func (v *indexVerifier) checkOffset(offset, position int64) string {
	if v.have && position < v.batchPos {
		v.restart()
	}
	for !v.have || v.batchPos < position {
		if problem := v.advance(); problem != "" {
			return problem
		}
	}
	if v.batchPos != position {
		return fmt.Sprintf("no batch starts at position %d (the next batch starts at %d)", position, v.batchPos)
	}
	if offset < v.batch.BaseOffset || offset > v.batch.LastOffset() {
		return fmt.Sprintf("the batch at position %d holds offsets %d to %d", position, v.batch.BaseOffset, v.batch.LastOffset())
	}
	return ""
}

// checkTime checks a time index entry: offset lies in a batch, and timestamp is the
// greatest timestamp of the log up to and including that batch.
func (v *indexVerifier) checkTime(timestamp, offset int64) string {
	if v.have && offset < v.batch.BaseOffset {
		v.restart()
	}
	for !v.have || v.batch.LastOffset() < offset {
		if problem := v.advance(); problem != "" {
			return problem
		}
	}
	if offset < v.batch.BaseOffset {
		return fmt.Sprintf("offset %d is in no batch (the next batch, at position %d, starts at offset %d)", offset, v.batchPos, v.batch.BaseOffset)
	}
	if timestamp != v.maxTimestamp {
		return fmt.Sprintf("the greatest timestamp up to offset %d's batch (position %d) is %d", offset, v.batchPos, v.maxTimestamp)
	}
	return ""
}
