package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/stratalog/strata/log"
)

const consumeAbout = `Prints the records of TOPIC, one per line.

Where to start (at most one of):
  (none)             at the end: only records produced from now on, as Kafka's
                     console consumer does
  --from-beginning   at each partition's first record
  --offset N         at offset N of partition --partition P (required); an offset
                     below the partition's first is read from its first
  --from-time T      in each partition, at the first record whose timestamp is at
                     or after T (RFC 3339: 2024-05-01T12:00:00Z, or with .000 and
                     an offset such as +02:00)
--partition P alone reads only partition P.

Transactions: --isolation-level read_uncommitted (the default, as Kafka's) prints
every record, those of open and aborted transactions too; read_committed prints
only the records of committed transactions (and those outside transactions),
stopping at each partition's last stable offset, before the first transaction
still open. Transaction markers are never printed. "The end" below is then the
last stable offset, and a consume that starts at the end starts there.

When to stop: a consume that reads history (--from-beginning, --offset,
--from-time, or --group) stops once every partition has been read up to the end
offset it had when consume started (as kcat -e does; partitions whose records
up to it are all transaction markers, or aborted, count as read), or after --max-messages
records. With --follow, or with no start flag (it starts at the end, so it can
only wait, as Kafka's console consumer does), consume waits for new records until
--max-messages, --timeout-ms without a record, or SIGINT/SIGTERM (exit status 0
each). A store is open in one process at a time: while consume holds it, no
other process can produce to it.

Output: one line per record, the fields separated by tabs, in this order:
  TIMESTAMP    with --print-timestamp: RFC 3339 in UTC, in milliseconds
               (2024-05-01T12:00:00.123Z), the form --from-time takes
  P:OFFSET     with --print-offset: partition and offset
  HEADERS      with --print-headers: KEY:VALUE pairs separated by ",", or
               NO_HEADERS, as Kafka's console consumer prints them
  KEY          with --print-key; null for a record without a key
  VALUE        always; null for a null value
Keys and values are printed as they are.

--property key=value (repeatable) takes the properties of Kafka's console
consumer's formatter: print.timestamp, print.key, print.headers, print.value
(true or false; print.value=false leaves the value out), print.offset and
print.partition (either prints the P:OFFSET field), key.separator (between the
fields, default a tab), line.separator (after each record, default a newline),
headers.separator (between headers, default ",") and null.literal (default
"null"). \t, \n and \r in a separator are a tab, a newline and a return.
Consumer groups: --group G consumes as a member of consumer group G. Each partition
starts at the group's committed offset; --from-beginning and --from-time apply
only to the partitions where the group has none (or one outside the partition's
records), and without them those start at the end, as with Kafka's console
consumer. After printing each batch of records, consume commits the offset after
the last record it printed of each partition, so that the next consume --group G
continues exactly where this one stopped. The position where a partition without
a committed offset starts is committed for the group before anything is read.
A store is open in one process at a time, so only one consume --group runs at a
time: it is the group's only member and reads every partition. (Members sharing
partitions are GroupConsumers of one application; see package log.)`

// timestampLayout is how consume prints timestamps: RFC 3339, milliseconds, UTC.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// consumeOptions is the parsed command line of consume.
type consumeOptions struct {
	topic          string
	fromBeginning  bool
	offset         int64 // with hasOffset
	hasOffset      bool
	partition      int32 // with hasPartition
	hasPartition   bool
	fromTime       time.Time // with hasFromTime
	hasFromTime    bool
	group          string
	isolation      log.IsolationLevel
	maxMessages    int           // 0: no limit
	timeout        time.Duration // 0: none; else stop after this long without a record
	follow         bool
	printKey       bool
	printOffset    bool
	printTimestamp bool
	printHeaders   bool
	printValue     bool
	fieldSeparator string // between the fields of a line: "\t"
	lineSeparator  string // after each line: "\n"
	headerSep      string // between two headers: ","
	nullLiteral    string // a null key, value or header value: "null"
}

func runConsume(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "TOPIC [--from-beginning | --offset N --partition P | --from-time RFC3339]\n"+
		"                      [--group G] [--max-messages N] [--follow]\n"+
		"                      [--isolation-level read_committed|read_uncommitted]\n"+
		"                      [--print-key] [--print-offset] [--print-timestamp] [--print-headers]\n"+
		"                      [--property key=value]...", consumeAbout)
	var o consumeOptions
	c.BoolVar(&o.fromBeginning, "from-beginning", false, "start at each partition's first record")
	c.Int64Var(&o.offset, "offset", 0, "start at offset `N` of --partition")
	partition := c.Int("partition", 0, "read only partition `P`")
	fromTime := c.String("from-time", "", "start at the first record at or after `RFC3339` time")
	c.StringVar(&o.group, "group", "", "consume as a member of consumer group `G`, committing what was printed")
	c.IntVar(&o.maxMessages, "max-messages", 0, "exit after printing `N` records")
	isolation := c.String("isolation-level", "read_uncommitted", "`LEVEL` read_committed prints only committed transactions' records, up to the last stable offset")
	c.BoolVar(&o.follow, "follow", false, "wait for new records instead of exiting at the end (the default without a start flag)")
	timeoutMs := c.Int64("timeout-ms", 0, "exit once no record came for `N` ms")
	c.BoolVar(&o.printKey, "print-key", false, "print each record's key before its value")
	c.BoolVar(&o.printOffset, "print-offset", false, "print partition:offset before the key and value")
	c.BoolVar(&o.printTimestamp, "print-timestamp", false, "print the timestamp first")
	c.BoolVar(&o.printHeaders, "print-headers", false, "print each record's headers (KEY:VALUE,...; NO_HEADERS if none) before its key")
	var properties stringList
	c.Var(&properties, "property", "a formatter property `key=value`, Kafka's (see above); repeat for more")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "TOPIC"); err != nil {
		return err
	}
	o.topic = positional[0]
	o.hasOffset, o.hasPartition, o.hasFromTime = c.isSet("offset"), c.isSet("partition"), c.isSet("from-time")
	if err := o.check(c, *partition, *fromTime); err != nil {
		return err
	}
	if o.isolation, err = parseIsolationLevel(c, *isolation); err != nil {
		return err
	}
	if err := o.applyProperties(properties); err != nil {
		return c.usageError("%s", err)
	}
	if *timeoutMs < 0 {
		return c.usageError("--timeout-ms %d: must not be negative", *timeoutMs)
	}
	if maxMs := int64(math.MaxInt64 / time.Millisecond); *timeoutMs > maxMs {
		return c.usageError("--timeout-ms %d: at most %d", *timeoutMs, maxMs)
	}
	o.timeout = time.Duration(*timeoutMs) * time.Millisecond
	if !o.fromBeginning && !o.hasOffset && !o.hasFromTime && o.group == "" {
		o.follow = true // at the end, there is nothing but new records to wait for
	}

	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	if o.group != "" {
		return consumeGroup(e, store, &o)
	}
	return consume(e, store, &o)
}

// check validates the combination of flags and fills partition and fromTime.
func (o *consumeOptions) check(c *commandFlags, partition int, fromTime string) error {
	starts := 0
	for _, set := range []bool{o.fromBeginning, o.hasOffset, o.hasFromTime} {
		if set {
			starts++
		}
	}
	switch {
	case starts > 1:
		return c.usageError("give at most one of --from-beginning, --offset, --from-time")
	case o.hasOffset && !o.hasPartition:
		return c.usageError("--offset requires --partition")
	case o.hasOffset && o.offset < 0:
		return c.usageError("--offset %d: must not be negative", o.offset)
	case o.hasPartition && (partition < 0 || partition >= log.MaxPartitions):
		return c.usageError("--partition %d: want 0 to %d", partition, log.MaxPartitions-1)
	case c.isSet("max-messages") && o.maxMessages <= 0:
		return c.usageError("--max-messages %d: want a number above 0", o.maxMessages)
	case o.group != "" && (o.hasPartition || o.hasOffset):
		return c.usageError("--group cannot be combined with --partition or --offset: the group assigns partitions")
	case c.isSet("group") && o.group == "":
		return c.usageError("--group: must not be empty")
	}
	o.partition = int32(partition)
	if o.hasFromTime {
		t, err := time.Parse(time.RFC3339Nano, fromTime)
		if err != nil {
			return c.usageError("--from-time %q: want an RFC 3339 time such as 2024-05-01T12:00:00Z", fromTime)
		}
		o.fromTime = t
	}
	return nil
}

// consume positions a consumer as o says and prints records until the stop
// condition.
func consume(e *cli, store *log.Store, o *consumeOptions) error {
	d, err := describe(store, o.topic)
	if err != nil {
		return err
	}
	if o.hasPartition && int(o.partition) >= len(d.Partitions) {
		return fmt.Errorf("topic %s has %d partitions (0 to %d), no partition %d", o.topic, len(d.Partitions), len(d.Partitions)-1, o.partition)
	}
	// The end offsets at the start (last stable offsets in read_committed): where
	// consume stops without --follow. (While consume holds the store nothing else
	// writes to it, so they are also the end.)
	ends, err := endOffsets(store, o.topic, o.isolation)
	if err != nil {
		return err
	}
	var tps []log.TopicPartition
	end := map[int32]int64{}
	for _, p := range d.Partitions {
		if o.hasPartition && p.Partition != o.partition {
			continue
		}
		tps = append(tps, log.TopicPartition{Topic: o.topic, Partition: p.Partition})
		end[p.Partition] = ends[p.Partition]
		if o.hasOffset && o.offset > p.EndOffset {
			return fmt.Errorf("--offset %d is beyond the end of partition %d (end offset %d)", o.offset, p.Partition, p.EndOffset)
		}
	}
	probe := newEndProbe(store, o.isolation)
	defer probe.close()
	consumer, err := store.NewConsumer(log.ConsumerOptions{IsolationLevel: o.isolation})
	if err != nil {
		return err
	}
	defer consumer.Close()
	if err := consumer.Assign(tps...); err != nil {
		return err
	}
	if err := o.seek(consumer, d, tps); err != nil {
		return err
	}

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	var line []byte
	printed := 0
	remaining := tps
	for {
		if !o.follow {
			if remaining, err = unfinished(consumer, probe, remaining, end); err != nil {
				return err
			}
			if len(remaining) == 0 {
				return nil
			}
		}
		records, err := e.poll(store, consumer.Poll, o.timeout)
		if interrupted(e.ctx, err) || errors.Is(err, errPollTimeout) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, r := range records {
			if !o.follow && r.Offset >= end[r.Partition] {
				continue
			}
			line = o.format(line[:0], r)
			if _, err := out.Write(line); err != nil {
				return err
			}
			printed++
			if o.maxMessages > 0 && printed >= o.maxMessages {
				return out.Flush()
			}
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// errPollTimeout is poll's error when --timeout-ms passed without a record.
var errPollTimeout = errors.New("no record within --timeout-ms")

// poll calls pollFunc (a Consumer's or GroupConsumer's Poll) with the command's
// context, limited to timeout if it is above 0: errPollTimeout when that passes.
// It calls e.beforePoll first, if set (tests produce through it into the store the
// command holds).
func (e *cli) poll(store *log.Store, pollFunc func(context.Context) ([]*log.Record, error), timeout time.Duration) ([]*log.Record, error) {
	if e.beforePoll != nil {
		e.beforePoll(store)
	}
	if timeout <= 0 {
		return pollFunc(e.ctx)
	}
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	records, err := pollFunc(ctx)
	if err != nil && e.ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, errPollTimeout
	}
	return records, err
}

// seek moves every partition of tps to where o starts.
func (o *consumeOptions) seek(consumer *log.Consumer, d log.TopicDescription, tps []log.TopicPartition) error {
	switch {
	case o.fromBeginning:
		return consumer.SeekToBeginning()
	case o.hasOffset:
		offset := max(o.offset, d.Partitions[o.partition].StartOffset)
		return consumer.Seek(tps[0], offset)
	case o.hasFromTime:
		for _, tp := range tps {
			if err := consumer.SeekToTime(tp, o.fromTime); err != nil {
				return err
			}
		}
		return nil
	}
	return consumer.SeekToEnd()
}

// unfinished returns the partitions of tps that hold a record to print between
// their position and their end, and makes them the consumer's assignment if that
// changes it.
func unfinished(consumer *log.Consumer, probe *endProbe, tps []log.TopicPartition, end map[int32]int64) ([]log.TopicPartition, error) {
	var left []log.TopicPartition
	for _, tp := range tps {
		position, err := consumer.Position(tp)
		if err != nil {
			return nil, err
		}
		found, err := probe.recordBelow(tp, position, end[tp.Partition])
		if err != nil {
			return nil, err
		}
		if found {
			left = append(left, tp)
		}
	}
	if len(left) > 0 && len(left) < len(tps) {
		if err := consumer.Assign(left...); err != nil {
			return nil, err
		}
	}
	return left, nil
}

// applyProperties applies consume's --property pairs over its flags, and sets the
// separators.
func (o *consumeOptions) applyProperties(pairs []string) error {
	props, err := parseProperties(pairs, consumeProperties)
	if err != nil {
		return err
	}
	o.printTimestamp = boolProperty(props, "print.timestamp", o.printTimestamp)
	o.printOffset = boolProperty(props, "print.offset", o.printOffset) || boolProperty(props, "print.partition", false)
	o.printKey = boolProperty(props, "print.key", o.printKey)
	o.printHeaders = boolProperty(props, "print.headers", o.printHeaders)
	o.printValue = boolProperty(props, "print.value", true)
	o.fieldSeparator = stringProperty(props, "key.separator", "\t")
	o.lineSeparator = stringProperty(props, "line.separator", "\n")
	o.headerSep = stringProperty(props, "headers.separator", ",")
	o.nullLiteral = stringProperty(props, "null.literal", "null")
	return nil
}

// format appends the output line of r to b: its fields, each followed by the
// field separator but the last, then the line separator.
func (o *consumeOptions) format(b []byte, r *log.Record) []byte {
	fields := 0
	field := func() {
		if fields > 0 {
			b = append(b, o.fieldSeparator...)
		}
		fields++
	}
	if o.printTimestamp {
		field()
		b = r.Timestamp.UTC().AppendFormat(b, timestampLayout)
	}
	if o.printOffset {
		field()
		b = strconv.AppendInt(b, int64(r.Partition), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, r.Offset, 10)
	}
	if o.printHeaders {
		field()
		b = appendHeaders(b, r.Headers, o.headerSep, o.nullLiteral)
	}
	if o.printKey {
		field()
		b = o.appendNullable(b, r.Key)
	}
	if o.printValue {
		field()
		b = o.appendNullable(b, r.Value)
	}
	return append(b, o.lineSeparator...)
}

// appendNullable appends v, or the null literal for a nil v.
func (o *consumeOptions) appendNullable(b, v []byte) []byte {
	if v == nil {
		return append(b, o.nullLiteral...)
	}
	return append(b, v...)
}
