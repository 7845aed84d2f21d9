package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
)

const groupsResetAbout = `Plans, and with --execute commits, new offsets of consumer group GROUP for every
partition of topic T, as kafka-consumer-groups --reset-offsets does. Without
--execute it is a dry run (Kafka's default, --dry-run says so explicitly): it
prints the plan and changes nothing. The new offset of each partition is:

  --to-earliest      its first offset
  --to-latest        its end offset
  --to-current       the group's committed offset (none: the first offset)
  --to-offset N      offset N
  --shift-by N       the committed offset plus N (N may be negative; none
                     committed: from the first offset)
  --to-datetime T    the first record whose timestamp is at or after T (none:
                     the end offset); T is RFC 3339 (2024-05-01T12:00:00Z) or
                     Kafka's form without a zone, 2024-05-01T12:00:00.000, read
                     as UTC (Kafka reads it in the local zone)

As in Kafka, an offset outside a partition's records is moved to its first or
end offset. The group must have no members: stop its consumers first. A group
that does not exist yet is created with these offsets. The plan is printed in
Kafka's columns, the same with --execute:

  GROUP    TOPIC   PARTITION  NEW-OFFSET
  billing  orders  0          0`

// resetTarget is where groups reset-offsets moves the offsets.
type resetTarget struct {
	earliest, latest, current bool
	offset                    int64 // with hasOffset: --to-offset
	hasOffset                 bool
	shift                     int64 // with hasShift: --shift-by
	hasShift                  bool
	time                      time.Time // with hasTime: --to-datetime
	hasTime                   bool
}

// of returns the new offset of partition p, whose committed offset is committed
// (-1: none) and whose first offset at or after the target's time is atTime.
func (t resetTarget) of(p log.PartitionInfo, committed, atTime int64) int64 {
	if committed < 0 {
		committed = p.StartOffset
	}
	var offset int64
	switch {
	case t.earliest:
		offset = p.StartOffset
	case t.latest:
		offset = p.EndOffset
	case t.current:
		offset = committed
	case t.hasShift:
		offset = committed + t.shift
		if t.shift > 0 && offset < committed { // overflowed: far past the end
			offset = p.EndOffset
		}
	case t.hasTime:
		offset = atTime
	default:
		offset = t.offset
	}
	return min(max(offset, p.StartOffset), p.EndOffset)
}

// kafkaDateTime is the --to-datetime form Kafka's tool documents.
const kafkaDateTime = "2006-01-02T15:04:05.000"

// parseDateTime parses --to-datetime: RFC 3339, or Kafka's form read as UTC.
func parseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{kafkaDateTime, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--to-datetime %q: want RFC 3339 (2024-05-01T12:00:00Z) or 2024-05-01T12:00:00.000 (UTC)", s)
}

func runGroupsResetOffsets(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "GROUP --topic T (--to-earliest|--to-latest|--to-current|--to-offset N|--shift-by N|--to-datetime T) [--execute|--dry-run]", groupsResetAbout)
	topic := c.String("topic", "", "move the offsets of topic `T`")
	toEarliest := c.Bool("to-earliest", false, "move to each partition's first offset")
	toLatest := c.Bool("to-latest", false, "move to each partition's end offset")
	toCurrent := c.Bool("to-current", false, "move to the group's committed offsets")
	toOffset := c.Int64("to-offset", 0, "move to offset `N`")
	shiftBy := c.Int64("shift-by", 0, "move each committed offset by `N` (negative: back)")
	toDateTime := c.String("to-datetime", "", "move to the first record at or after time `T`")
	execute := c.Bool("execute", false, "commit the new offsets (without it, a dry run)")
	dryRun := c.Bool("dry-run", false, "print the plan only (the default)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "GROUP"); err != nil {
		return err
	}
	if *topic == "" {
		return c.usageError("--topic is required")
	}
	targets := 0
	for _, name := range []string{"to-earliest", "to-latest", "to-current", "to-offset", "shift-by", "to-datetime"} {
		if c.isSet(name) {
			targets++
		}
	}
	if targets != 1 {
		return c.usageError("give exactly one of --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime")
	}
	if *execute && *dryRun {
		return c.usageError("give --execute or --dry-run, not both")
	}
	if c.isSet("to-offset") && *toOffset < 0 {
		return c.usageError("--to-offset %d: must not be negative", *toOffset)
	}
	target := resetTarget{earliest: *toEarliest, latest: *toLatest, current: *toCurrent,
		offset: *toOffset, hasOffset: c.isSet("to-offset"), shift: *shiftBy, hasShift: c.isSet("shift-by")}
	if c.isSet("to-datetime") {
		t, err := parseDateTime(*toDateTime)
		if err != nil {
			return c.usageError("%s", err)
		}
		target.time, target.hasTime = t, true
	}
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	if err := resetOffsets(e.ctx, e.stdout, store, positional[0], *topic, target, *execute); err != nil {
		return err
	}
	if !*execute && !*dryRun {
		fmt.Fprintln(e.stderr, "strata: a dry run: nothing changed; add --execute to commit these offsets (--dry-run to say so)")
	}
	return nil
}

// resetOffsets computes target's offsets of every partition of topic for group
// name, writes them to w, and commits them if execute.
func resetOffsets(ctx context.Context, w io.Writer, store *log.Store, name, topic string, target resetTarget, execute bool) error {
	d, err := describe(store, topic)
	if err != nil {
		return err
	}
	// Checked first for a clear message; the commit refuses a group with members
	// anyway (one could join in between).
	if g, err := store.DescribeGroup(name); err == nil && (len(g.Members) > 0 || g.State != group.Empty) {
		return activeGroupError(name, g.State.String(), len(g.Members))
	} else if err != nil && !errors.Is(err, log.ErrGroupNotFound) {
		return err
	}
	tps := make([]log.TopicPartition, len(d.Partitions))
	for i, p := range d.Partitions {
		tps[i] = log.TopicPartition{Topic: topic, Partition: p.Partition}
	}
	committed, err := store.CommittedOffsets(ctx, name, tps...)
	if err != nil {
		return err
	}
	atTime, err := offsetsForTime(store, tps, target)
	if err != nil {
		return err
	}
	offsets := make(map[log.TopicPartition]log.OffsetAndMetadata, len(d.Partitions))
	for i, p := range d.Partitions {
		current := int64(-1)
		if c, ok := committed[tps[i]]; ok {
			current = c.Offset
		}
		offsets[tps[i]] = log.OffsetAndMetadata{Offset: target.of(p, current, atTime[tps[i]])}
	}
	if execute {
		if err := commitOutsideGroup(ctx, store, name, offsets); err != nil {
			return err
		}
	}
	var b strings.Builder
	table := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(table, "GROUP\tTOPIC\tPARTITION\tNEW-OFFSET")
	for _, tp := range tps { // in partition order
		fmt.Fprintf(table, "%s\t%s\t%d\t%d\n", name, topic, tp.Partition, offsets[tp].Offset)
	}
	if err := table.Flush(); err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// offsetsForTime returns, with --to-datetime, each partition's first offset at or
// after the target's time (its end offset if none); else nothing.
func offsetsForTime(store *log.Store, tps []log.TopicPartition, target resetTarget) (map[log.TopicPartition]int64, error) {
	out := map[log.TopicPartition]int64{}
	if !target.hasTime {
		return out, nil
	}
	consumer, err := store.NewConsumer(log.ConsumerOptions{})
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	if err := consumer.Assign(tps...); err != nil {
		return nil, err
	}
	for _, tp := range tps {
		if err := consumer.SeekToTime(tp, target.time); err != nil {
			return nil, err
		}
		offset, err := consumer.Position(tp)
		if err != nil {
			return nil, err
		}
		out[tp] = offset
	}
	return out, nil
}
