package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
)

const verifyAbout = `Checks every file of the store without changing it, like a scrub: topics.json
and recovery-points.checkpoint and their checksums, and every batch of every
segment of every partition (lengths, CRC-32C, offsets that follow each other), and
each partition's segments against its checkpoint and the point below which the
store recorded it as fsynced. Unlike opening the store, it recovers, removes and
writes nothing.
It needs the directory to itself (an application holding it must stop first).

One line per partition: "ok", or each problem with its file and byte position.
Exit status 1 when anything is wrong; 'strata repair' repairs a partition.`

func runVerify(e *cli, command string, args []string) error {
	c := newCommandFlags(e, command, "", verifyAbout)
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	dir := c.storeDir()
	if err := requireStore(dir); err != nil {
		return err
	}
	report, err := log.Scrub(dir, &log.Options{Logger: slog.New(slog.DiscardHandler)})
	if errors.Is(err, log.ErrSeveralBrokers) {
		report, err = e.verifyOpen(dir)
	}
	if errors.Is(err, log.ErrLocked) {
		return lockedError(dir)
	}
	if err != nil {
		return err
	}
	bad := 0
	for _, problem := range report.Problems {
		fmt.Fprintf(e.stdout, "store: %s\n", cleanMessage(problem.Error()))
		bad++
	}
	for _, p := range report.Partitions {
		name := fmt.Sprintf("%s-%d", p.Topic, p.Partition)
		switch {
		case p.Err != nil:
			fmt.Fprintf(e.stdout, "%s: %s\n", name, cleanMessage(p.Err.Error()))
			bad++
		case len(p.Problems) > 0:
			for _, problem := range p.Problems {
				fmt.Fprintf(e.stdout, "%s: %s\n", name, cleanMessage(problem.Error()))
			}
			bad++
		case p.Pending != "":
			fmt.Fprintf(e.stdout, "%s: ok, under %s: a topic change a crash interrupted, which opening the store finishes\n", name, p.Pending)
		default:
			fmt.Fprintf(e.stdout, "%s: ok (%d segments, %d batches, %d bytes)\n", name, p.Segments, p.Batches, p.Bytes)
		}
		if p.PendingCompaction {
			fmt.Fprintf(e.stdout, "%s: an interrupted compaction is pending; opening the store finishes it\n", name)
		}
	}
	if bad > 0 {
		return fmt.Errorf("verify: %d of %d partitions (or the store itself) damaged; see 'strata repair --help'", bad, len(report.Partitions))
	}
	return nil
}

const repairAbout = `Repairs partition P of TOPIC, explicitly: opening a store never repairs. It reads
every batch as verify does and, at the first problem, cuts the log there (with
--keep-later, it cuts out only each damaged range and keeps the valid segments
after it, whose offsets then follow a gap). Everything it removes is copied first
into --keep-dir (default: a new repair-<time> directory inside the partition's
directory). It prints what it found, what it did and exactly which offsets it gave
up. New records never reuse an offset. It needs the directory to itself.

Exit status 1 when the partition cannot be repaired.`

func runRepair(e *cli, command string, args []string) error {
	c := newCommandFlags(e, command, "TOPIC --partition P [--keep-later] [--keep-dir DIR]", repairAbout)
	partitionFlag := c.String("partition", "", "the partition `P` to repair")
	keepLater := c.Bool("keep-later", false, "keep the valid segments after a damaged range")
	keepDir := c.String("keep-dir", "", "where to keep a copy of what is removed (`DIR`)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "TOPIC"); err != nil {
		return err
	}
	p, err := strconv.ParseInt(*partitionFlag, 10, 32)
	if err != nil || p < 0 {
		return c.usageError("--partition P is required: a partition number")
	}
	dir := c.storeDir()
	if err := requireStore(dir); err != nil {
		return err
	}
	tp := log.TopicPartition{Topic: positional[0], Partition: int32(p)}
	report, err := log.Repair(dir, tp, &log.Options{Logger: slog.New(slog.DiscardHandler)},
		&partition.RepairOptions{KeepLater: *keepLater, KeepDir: *keepDir})
	if errors.Is(err, log.ErrLocked) {
		return lockedError(dir)
	}
	for _, problem := range report.Problems {
		fmt.Fprintf(e.stdout, "found: %s\n", cleanMessage(problem.Error()))
	}
	for _, action := range report.Actions {
		fmt.Fprintf(e.stdout, "did: %s\n", action)
	}
	if err != nil {
		return err
	}
	if len(report.Problems) == 0 {
		fmt.Fprintf(e.stdout, "%s-%d: nothing to repair\n", tp.Topic, tp.Partition)
		return nil
	}
	if len(report.Lost) == 0 {
		fmt.Fprintf(e.stdout, "gave up: no offsets\n")
	}
	for _, lost := range report.Lost {
		fmt.Fprintf(e.stdout, "gave up: offsets %d to %d (%d records at most)\n", lost.From, lost.To-1, lost.To-lost.From)
	}
	if report.StartOffset < report.EndOffset {
		fmt.Fprintf(e.stdout, "%s-%d repaired: offsets %d to %d; the next record gets offset %d\n",
			tp.Topic, tp.Partition, report.StartOffset, report.EndOffset-1, report.EndOffset)
	} else {
		fmt.Fprintf(e.stdout, "%s-%d repaired: empty; the next record gets offset %d\n", tp.Topic, tp.Partition, report.EndOffset)
	}
	return nil
}

// verifyOpen verifies a store of several brokers, which is checked open: every
// replica of every partition (Store.Verify).
func (e *cli) verifyOpen(dir string) (report log.ScrubReport, err error) {
	store, err := e.openStore(dir, mustExist, nil)
	if err != nil {
		return log.ScrubReport{}, err
	}
	defer closeStore(store, &err)
	return store.Verify(e.ctx)
}
