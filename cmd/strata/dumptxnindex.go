package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/stratalog/strata/segment"
)

// dumpTxnIndex prints the entries of a .txnindex file (the segment's aborted
// transactions), one line each as kafka-dump-log prints them, and checks each as
// Open does: version 0, a producer id and offsets not negative, firstOffset <=
// lastOffset, markers rising and in the segment (at or above its base offset). It
// reads entry by entry: the file is not loaded whole, whatever its size.
func (d *dumper) dumpTxnIndex(path string, base int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(d.out, "Dumping %s\n", path)
	r := bufio.NewReader(f)
	entry := make([]byte, segment.AbortedTxnSize)
	problems := 0
	report := func(format string, args ...any) {
		problems++
		fmt.Fprintf(d.out, "Invalid: "+format+"\n", args...)
	}
	previous := int64(-1) // the last marker offset
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, entry)
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			report("%d trailing bytes, not a whole %d-byte entry", n, segment.AbortedTxnSize)
			break
		}
		if err != nil {
			return err
		}
		txns, _, err := segment.DecodeAbortedTxns(entry)
		if err != nil {
			report("entry %d: %s", i, cleanMessage(err.Error()))
			continue
		}
		t := txns[0]
		fmt.Fprintf(d.out, "version: 0 producerId: %d firstOffset: %d lastOffset: %d lastStableOffset: %d\n",
			t.ProducerID, t.FirstOffset, t.LastOffset, t.LastStableOffset)
		switch {
		case t.LastOffset <= previous:
			report("entry %d: marker offset %d not above the previous entry's %d", i, t.LastOffset, previous)
		case t.LastOffset < base:
			report("entry %d: marker offset %d below the segment's base offset %d", i, t.LastOffset, base)
		}
		previous = max(previous, t.LastOffset)
	}
	if problems > 0 {
		return fmt.Errorf("%d index problems", problems)
	}
	return nil
}
