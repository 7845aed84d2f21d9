package main

import (
	"fmt"
	"io"
	"os"

	"github.com/stratalog/strata/partition"
)

// maxDumpSnapshotBytes bounds what dump reads of a .snapshot file, as the
// partition bounds what Open reads.
const maxDumpSnapshotBytes = 256 << 20

// dumpSnapshot prints the producers of a <offset>.snapshot file, one line each, as
// kafka-dump-log prints a producer snapshot.
func (d *dumper) dumpSnapshot(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDumpSnapshotBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxDumpSnapshotBytes {
		return fmt.Errorf("larger than %d bytes: not a producer snapshot strata writes", maxDumpSnapshotBytes)
	}
	entries, err := partition.DecodeProducerSnapshot(b)
	if err != nil {
		return err
	}
	for _, e := range entries {
		txn := "None"
		if e.CurrentTxnFirstOffset >= 0 {
			txn = fmt.Sprint(e.CurrentTxnFirstOffset)
		}
		fmt.Fprintf(d.out, "producerId: %d producerEpoch: %d coordinatorEpoch: %d currentTxnFirstOffset: %s lastTimestamp: %d firstSequence: %d lastSequence: %d lastOffset: %d offsetDelta: %d\n",
			e.ProducerID, e.ProducerEpoch, e.CoordinatorEpoch, txn, e.LastTimestamp, e.FirstSequence, e.LastSequence, e.LastOffset, e.OffsetDelta)
	}
	return nil
}
