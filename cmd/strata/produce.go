package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stratalog/strata/log"
)

const produceAbout = `Reads stdin and produces one record per line to TOPIC. The line ending (\n or
\r\n) is not part of the record; an empty line is a record with an empty value.

Keys: with --key-separator SEP each line is KEY SEP VALUE, split at the first SEP.
A line without SEP is an error, as with Kafka's console producer: the lines before
it are produced, the command stops there and exits 1. Without --key-separator the
records have no key, and the default partitioner spreads them over the partitions
(a keyed record goes to the partition of its key's hash). --partition P sends
every record to partition P.

Acknowledgement (--acks), as Kafka's acks:
  all, -1  once every in-sync replica holds the record under the topic's sync
           policy: with sync=every-append, once an fsync covers it on each (the
           default; "durable" is a former name)
  leader, 1
           once the leader wrote it to the OS: survives a crash of this process,
           not of the machine, nor a failover before the followers copied it
  none, 0  as soon as the record is buffered (its offset is then unknown: -1)

--print-offsets prints "partition:offset" on its own line for every input line,
in input order, as soon as that line is acknowledged at the chosen level, and
flushes stdout: a script reading it knows exactly which lines are stored.

--compression sets the codec of the batches written: it applies to topics that
take their codec from the store's defaults (no compression.type of their own);
a topic with its own compression.type different from it is an error.

--property key=value (repeatable) takes the properties of Kafka's console
producer's line reader (KIP-798): parse.key=true splits KEY and VALUE at
key.separator (default a tab; --key-separator SEP is the same as both);
parse.headers=true reads headers first, HEADERS<headers.delimiter>RECORD, the
headers K1:V1,K2:V2 split at headers.separator (default ",") and
headers.key.separator (default ":"), headers.delimiter defaulting to a tab; an
empty HEADERS part is no headers. null.marker=M makes a key, value or header
value equal to M null. \t, \n and \r in a separator are a tab, a newline and
a return. So with both parse properties a line is "h1:v1,h2:v2<TAB>key<TAB>value".

A line may be at most the topic's max.message.bytes long. On SIGINT or SIGTERM
produce stops reading, waits for what it read to be acknowledged, and exits 130.`

func runProduce(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "TOPIC [--partition P] [--key-separator SEP] [--acks all|-1|1|0]\n"+
		"                      [--compression none|gzip|snappy|zstd] [--print-offsets] [--property key=value]...", produceAbout)
	partition := c.Int("partition", 0, "send every record to partition `P` (without it the partitioner decides)")
	keySeparator := c.String("key-separator", "", "split each line into key and value at the first `SEP`")
	acks := newChoice("all", "all", "-1", "leader", "1", "none", "0", "durable")
	c.Var(acks, "acks", "acknowledgement `level`: all (-1), leader (1) or none (0)")
	compression := newChoice("", log.CompressionNone, log.CompressionGzip, log.CompressionSnappy, log.CompressionZstd)
	c.Var(compression, "compression", "`codec` of the batches: none, gzip, snappy or zstd (default: the topic's)")
	printOffsets := c.Bool("print-offsets", false, "print partition:offset for each line once acknowledged")
	var properties stringList
	c.Var(&properties, "property", "a line reader property `key=value`, Kafka's (see above); repeat for more")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "TOPIC"); err != nil {
		return err
	}
	topic := positional[0]
	if c.isSet("partition") && *partition < 0 {
		return c.usageError("--partition %d: must not be negative", *partition)
	}
	if c.isSet("key-separator") && *keySeparator == "" {
		return c.usageError("--key-separator: must not be empty")
	}
	props, err := parseProperties(properties, produceProperties)
	if err != nil {
		return c.usageError("%s", err)
	}
	keyed := c.isSet("key-separator") || boolProperty(props, "parse.key", false)
	if _, set := props["key.separator"]; set && c.isSet("key-separator") {
		return c.usageError("give --key-separator or --property key.separator, not both")
	}
	if sep, set := props["key.separator"]; set && sep == "" {
		return c.usageError("--property key.separator: must not be empty")
	}
	separator := stringProperty(props, "key.separator", *keySeparator)
	if keyed && separator == "" {
		separator = "\t" // Kafka's default key.separator
	}
	var headers *headerFormat
	if boolProperty(props, "parse.headers", false) {
		headers = &headerFormat{
			delimiter:    []byte(stringProperty(props, "headers.delimiter", "\t")),
			separator:    []byte(stringProperty(props, "headers.separator", ",")),
			keySeparator: []byte(stringProperty(props, "headers.key.separator", ":")),
		}
		for name, sep := range map[string][]byte{"headers.delimiter": headers.delimiter, "headers.separator": headers.separator, "headers.key.separator": headers.keySeparator} {
			if len(sep) == 0 {
				return c.usageError("--property %s: must not be empty", name)
			}
		}
	}
	var nullMarker []byte
	if marker, set := props["null.marker"]; set && marker != "" {
		nullMarker = []byte(marker)
		if headers != nil {
			headers.nullMarker = nullMarker
		}
	}

	store, err := e.openStore(c.storeDir(), mustExist, func(o *log.Options) {
		if compression.value != "" {
			// The log API has no per-producer codec; a topic without a codec of its
			// own inherits this one for as long as this store is open.
			o.TopicDefaults.Compression = compression.value
		}
	})
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	d, err := describe(store, topic)
	if err != nil {
		return err
	}
	if compression.value != "" && d.Config.Compression != compression.value {
		return fmt.Errorf("--compression %s: topic %s has compression.type=%s of its own, and the log API cannot override a topic's codec per producer",
			compression.value, topic, d.Config.Compression)
	}
	if c.isSet("partition") && *partition >= len(d.Partitions) {
		return fmt.Errorf("topic %s has %d partitions (0 to %d), no partition %d", topic, len(d.Partitions), len(d.Partitions)-1, *partition)
	}
	producer, err := store.NewProducer(log.ProducerOptions{Acks: parseAcks(acks.value)})
	if err != nil {
		return err
	}
	defer producer.Close()

	p := &lineProducer{
		e:            e,
		topic:        topic,
		producer:     producer,
		partition:    int32(*partition),
		explicit:     c.isSet("partition"),
		separator:    []byte(separator),
		keyed:        keyed,
		headers:      headers,
		nullMarker:   nullMarker,
		printOffsets: *printOffsets,
		maxLine:      d.Config.MaxBatchBytes,
	}
	return p.run()
}

func parseAcks(s string) log.Acks {
	switch s {
	case "none", "0":
		return log.AcksNone
	case "leader", "1":
		return log.AcksLeader
	}
	return log.AcksAll
}

// lineProducer produces stdin's lines.
type lineProducer struct {
	e            *cli
	topic        string
	producer     *log.Producer
	partition    int32
	explicit     bool
	separator    []byte
	keyed        bool
	headers      *headerFormat // nil: lines have no headers
	nullMarker   []byte        // a key or value equal to it is null (nil: none)
	printOffsets bool
	maxLine      int
}

// inputLine is a line of stdin, or the error that ended reading.
type inputLine struct {
	number int
	text   []byte
	err    error
}

// pendingRecord is a produced line waiting for its acknowledgement.
type pendingRecord struct {
	line   int
	record *log.Record
	done   chan error // receives the promise's error, once
}

// run produces every line of stdin. The acknowledgements are printed in input order
// by a printer goroutine, so that a line's partition:offset appears as soon as it
// is acknowledged, even while stdin waits for the next line.
func (p *lineProducer) run() error {
	lines, stopReading := p.readLines()
	defer close(stopReading)

	queue := make(chan *pendingRecord, 1024)
	printed := make(chan printResult, 1)
	failed := make(chan struct{}) // closed by the printer at the first failed record
	go p.printAcknowledgements(queue, failed, printed)

	var stopErr error // why the loop stopped before the end of stdin, if it did
loop:
	for {
		select {
		case <-failed:
			break loop
		case <-p.e.ctx.Done():
			stopErr = p.e.ctx.Err()
			break loop
		case in, ok := <-lines:
			if !ok {
				break loop // end of stdin
			}
			if in.err != nil {
				stopErr = fmt.Errorf("stdin line %d: %w", in.number, in.err)
				break loop
			}
			record, err := p.record(in)
			if err != nil {
				stopErr = err
				break loop
			}
			pending := &pendingRecord{line: in.number, record: record, done: make(chan error, 1)}
			p.producer.Produce(p.e.ctx, record, func(_ *log.Record, err error) { pending.done <- err })
			queue <- pending // the printer drains it whatever happens
		}
	}
	// Wait for everything produced so far, even after an interruption: what was
	// read is written and acknowledged (or fails) before the store closes.
	flushErr := p.producer.Flush(context.Background())
	close(queue)
	result := <-printed
	ctxErr := p.e.ctx.Err()
	switch {
	case ctxErr != nil && (result.err == nil || errors.Is(result.err, ctxErr)):
		return &interruptedError{message: fmt.Sprintf("interrupted: %d lines produced", result.acknowledged)}
	case result.err != nil:
		return result.err
	case stopErr != nil:
		return stopErr
	case flushErr != nil:
		return fmt.Errorf("produce: %w", flushErr)
	}
	return nil
}

// record builds the record of an input line.
func (p *lineProducer) record(in inputLine) (*log.Record, error) {
	r := &log.Record{Topic: p.topic, Partition: p.partition, ExplicitPartition: p.explicit, Value: in.text}
	if p.headers != nil {
		headers, rest, err := p.headers.parse(in.text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", in.number, err)
		}
		r.Headers, r.Value = headers, rest
	}
	if p.keyed {
		key, value, found := bytes.Cut(r.Value, p.separator)
		if !found {
			return nil, fmt.Errorf("line %d: no key separator %q (every line must be KEY%sVALUE)", in.number, p.separator, p.separator)
		}
		r.Key, r.Value = key, value
		if p.nullMarker != nil && bytes.Equal(r.Key, p.nullMarker) {
			r.Key = nil
		}
	}
	if p.nullMarker != nil && bytes.Equal(r.Value, p.nullMarker) {
		r.Value = nil
	}
	return r, nil
}

// printResult is what the printer reports when it stops.
type printResult struct {
	acknowledged int   // lines acknowledged, all before any failed one
	err          error // the first failed line
}

// printAcknowledgements waits for the records of queue in order, printing
// partition:offset for each with --print-offsets, until queue is closed; then it
// sends its result to done. It stops printing at the first failed record (so that
// every printed line is stored), closes failed, and keeps draining the queue.
func (p *lineProducer) printAcknowledgements(queue <-chan *pendingRecord, failed chan<- struct{}, done chan<- printResult) {
	var result printResult
	for pending := range queue {
		err := <-pending.done
		switch {
		case result.err != nil:
		case err != nil:
			result.err = fmt.Errorf("line %d: %w", pending.line, err)
			close(failed)
		default:
			result.acknowledged++
			if p.printOffsets {
				fmt.Fprintf(p.e.stdout, "%d:%d\n", pending.record.Partition, pending.record.Offset)
				flush(p.e.stdout)
			}
		}
	}
	done <- result
}

// flush flushes w if it buffers.
func flush(w io.Writer) {
	if f, ok := w.(interface{ Flush() error }); ok {
		f.Flush()
	}
}

// readLines reads stdin in its own goroutine, so that a signal can stop produce
// while a read blocks. It stops at the end of stdin, at a read error (sent as the
// last line), or once stop is closed. (A Read blocked on a terminal cannot be
// interrupted: the goroutine then ends with the process.)
func (p *lineProducer) readLines() (<-chan inputLine, chan struct{}) {
	lines := make(chan inputLine)
	stop := make(chan struct{})
	go func() {
		defer close(lines)
		r := bufio.NewReaderSize(p.e.stdin, 64<<10)
		for number := 1; ; number++ {
			text, err := readLine(r, p.maxLine)
			if errors.Is(err, io.EOF) {
				return
			}
			select {
			case lines <- inputLine{number: number, text: text, err: err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return lines, stop
}

// errLineTooLong is a line longer than the topic accepts.
var errLineTooLong = errors.New("line longer than the topic's max.message.bytes")

// readLine returns the next line of r without its line ending, in a new slice, at
// most max bytes long (errLineTooLong otherwise). A last line without a newline
// counts; io.EOF means there is no line left.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max+2 { // +2: the \r\n that is not kept
			return nil, fmt.Errorf("%w (%d bytes)", errLineTooLong, max)
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(line) == 0 {
				return nil, io.EOF
			}
			break
		}
		if err != nil {
			return nil, err
		}
		break
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > max {
		return nil, fmt.Errorf("%w (%d bytes)", errLineTooLong, max)
	}
	if line == nil {
		line = []byte{}
	}
	return line, nil
}
