package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/segment"
)

const dumpAbout = `Prints the contents of segment files, as kafka-dump-log does. dump opens no store
and changes nothing: it works while an application holds the data directory.
Relative FILE paths are taken from --dir when --dir is given, else from the
working directory.

A .log file: one line per batch,

  baseOffset: 0 lastOffset: 9 count: 10 baseSequence: -1 lastSequence: -1
  producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false
  isControl: false position: 0 timestampType: CreateTime baseTimestamp: ...
  maxTimestamp: ... size: 410 magic: 2 compresscodec: none crc: 123 isvalid: true

(on one line; deleteHorizonMs appears after isControl when compaction set one),
and with --print-data one line per record after its batch:

  | offset: 0 CreateTime: 1700000000000 keySize: 3 valueSize: 5 sequence: -1
    headers: [h=x] key: abc payload: hello

(key and payload are left out when null; bytes that are not printable UTF-8 are
printed Go-quoted). A control batch (isControl: true, a transaction's COMMIT or
ABORT marker, with the producer's producerId and producerEpoch) holds one record,
printed decoded in place of its key and payload:

  | offset: 7 CreateTime: 1700000000000 keySize: 4 valueSize: 6 sequence: -1
    headers: [] endTxnMarker: COMMIT coordinatorEpoch: 0

With --offsets-decoder (Kafka's), the records of a segment of __consumer_offsets
are decoded, key and payload:

  key: offset_commit::group=billing,partition=orders-0
    payload: offset=42,metadata=,commitTimestamp=1700000000123
  key: group_metadata::group=billing payload: protocolType=consumer,
    protocol=range,generation=3,leader=m-1,members=[m-1]

and a tombstone's payload is <DELETE>; a record that does not decode is printed
as it is, with decodeError: WHY. dump stops at the first invalid batch (bad header, CRC,
length, offsets that do not rise, undecodable records) and reports it.

A .index file: "offset: O position: P" per entry; a .timeindex file: "timestamp: T
offset: O" per entry; a .txnindex file (the segment's aborted transactions, whose
records read_committed consumers skip): one line per transaction,

  version: 0 producerId: 7 firstOffset: 2 lastOffset: 4 lastStableOffset: 5

(lastOffset is its ABORT marker's offset). A producer snapshot
(00000000000000000042.snapshot, the state of idempotent and transactional
producers): one line per producer,

  producerId: 7 producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: None
  lastTimestamp: ... firstSequence: 0 lastSequence: 9 lastOffset: 41 offsetDelta: 9

(on one line: the producer's newest batch, as kafka-dump-log prints it). Files
with a further suffix (00000000000000000042.log.swap, .index.cleaned,
.log.deleted) are read as their kind.

--verify-index checks every .index and .timeindex entry against the segment's
.log: an offset entry must point at the start of a batch holding its offset; a
time entry's offset must lie in a batch, and its timestamp must be the greatest
timestamp up to that batch. Given a .log, it checks the segment's .index and
.timeindex. A .txnindex is checked on its own (as Open checks it).

Exit status 1 when a file is corrupt, an index does not match, or a file cannot be
read.`

func runDump(e *cli, command string, args []string) error {
	c := newCommandFlags(e, command, "FILE... [--print-data] [--offsets-decoder] [--verify-index]", dumpAbout)
	printData := c.Bool("print-data", false, "print every record of every batch")
	offsetsDecoder := c.Bool("offsets-decoder", false, "print every record decoded as a record of "+log.OffsetsTopic+" (implies --print-data)")
	verifyIndex := c.Bool("verify-index", false, "check index entries against the .log")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, -1, "FILE"); err != nil {
		return err
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	d := &dumper{out: out, printData: *printData || *offsetsDecoder, offsetsDecoder: *offsetsDecoder, verifyIndex: *verifyIndex}
	var failures []string
	for _, path := range positional {
		if c.dir != "" && !filepath.IsAbs(path) {
			path = filepath.Join(c.dir, path)
		}
		if err := d.dumpFile(path); err != nil {
			failures = append(failures, path+": "+cleanMessage(err.Error()))
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if len(failures) > 0 {
		return errors.New("dump: " + strings.Join(failures, "; "))
	}
	return nil
}

// dumper prints segment files.
type dumper struct {
	out            *bufio.Writer
	printData      bool
	offsetsDecoder bool // decode records as the offsets topic's (implies printData)
	verifyIndex    bool
	buf            []byte // the current batch
	decoder        segment.Decoder
	record         segment.Record
}

// dumpFile dumps one file. It returns an error if the file cannot be read, is
// corrupt or does not match its index: the dump shows where.
//
// Besides .log, .index, .timeindex and .txnindex it reads the files compaction and deletion
// leave with a further suffix (00000000000000368769.log.swap, .index.cleaned,
// .log.deleted, ...); their siblings are the files with the same further suffix.
func (d *dumper) dumpFile(path string) error {
	base, suffix, named := segment.ParseFileName(filepath.Base(path))
	kind, _ := splitSuffix(suffix)
	switch {
	case named && kind == segment.LogSuffix:
		return d.dumpLog(path, base)
	case !named && strings.HasSuffix(path, segment.LogSuffix):
		return d.dumpLog(path, -1) // not named by its base offset: no offset check
	case named && kind == segment.IndexSuffix:
		return d.dumpOffsetIndex(path, base)
	case named && kind == segment.TimeIndexSuffix:
		return d.dumpTimeIndex(path, base)
	case named && kind == segment.TxnIndexSuffix:
		return d.dumpTxnIndex(path, base)
	case named && kind == partition.SnapshotSuffix:
		return d.dumpSnapshot(path)
	case strings.Contains(path, segment.IndexSuffix) || strings.Contains(path, segment.TimeIndexSuffix) || strings.Contains(path, segment.TxnIndexSuffix):
		return errors.New("an index file must be named by its segment's base offset (20 digits)")
	}
	return errors.New("not a segment file: want a .log, .index, .timeindex, .txnindex or .snapshot file")
}

// splitSuffix splits a segment file suffix into its kind (.log, .index,
// .timeindex, .txnindex) and what follows (".swap", or "").
func splitSuffix(suffix string) (kind, extra string) {
	for _, kind := range []string{segment.TimeIndexSuffix, segment.IndexSuffix, segment.TxnIndexSuffix, segment.LogSuffix} {
		if rest, ok := strings.CutPrefix(suffix, kind); ok {
			return kind, rest
		}
	}
	return suffix, ""
}

// sibling returns the path of the file of the same segment with kind instead of
// path's own: 00000000000000000042.log.swap → 00000000000000000042.index.swap.
func sibling(path string, base int64, kind string) string {
	_, suffix, _ := segment.ParseFileName(filepath.Base(path))
	_, extra := splitSuffix(suffix)
	return filepath.Join(filepath.Dir(path), segment.FileName(base, kind)+extra)
}

// dumpLog dumps a .log file, and verifies its indexes with --verify-index.
func (d *dumper) dumpLog(path string, base int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Dumping %s\n", path)
	if base >= 0 {
		fmt.Fprintf(d.out, "Log starting offset: %d\n", base)
	}
	scanner := &logScanner{r: f, size: info.Size()}
	logErr := d.dumpBatches(scanner, max(base, 0))
	if logErr != nil {
		fmt.Fprintf(d.out, "Invalid batch at %s\n", logErr)
		logErr = fmt.Errorf("invalid batch at %w", logErr)
	}
	if !d.verifyIndex || base < 0 {
		return logErr
	}
	var errs []error
	for _, v := range []struct {
		path   string
		verify func(string, int64) error
	}{
		{sibling(path, base, segment.IndexSuffix), d.dumpOffsetIndex},
		{sibling(path, base, segment.TimeIndexSuffix), d.dumpTimeIndex},
	} {
		if _, err := os.Stat(v.path); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(d.out, "No index %s to verify\n", v.path)
			continue
		}
		if err := v.verify(v.path, base); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(v.path), err))
		}
	}
	return errors.Join(append([]error{logErr}, errs...)...)
}

// dumpBatches prints every batch of the scanner's file, and its records with
// --print-data, until the end or the first invalid batch, which it returns.
// next is the least base offset the first batch may have.
func (d *dumper) dumpBatches(scanner *logScanner, next int64) error {
	for {
		pos, h, ok, err := scanner.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		d.buf, err = scanner.read(d.buf, pos, &h)
		if err != nil {
			return err
		}
		_, verifyErr := segment.VerifyBatch(d.buf, maxDumpBatchBytes)
		d.printBatch(pos, &h, verifyErr == nil)
		if verifyErr != nil {
			return &logProblem{pos, cleanMessage(verifyErr.Error())}
		}
		if h.BaseOffset < next {
			return &logProblem{pos, fmt.Sprintf("base offset %d is below %d: offsets must rise from batch to batch, from the segment's base offset", h.BaseOffset, next)}
		}
		next = h.NextOffset()
		if d.printData {
			if err := d.printRecords(pos, &h); err != nil {
				return err
			}
		}
	}
}

// printBatch prints the header line of a batch.
func (d *dumper) printBatch(pos int64, h *segment.BatchHeader, valid bool) {
	w := d.out
	fmt.Fprintf(w, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t",
		h.BaseOffset, h.LastOffset(), h.RecordCount, h.BaseSequence, sequenceAt(h, h.LastOffsetDelta),
		h.ProducerID, h.ProducerEpoch, h.PartitionLeaderEpoch, h.IsTransactional(), h.IsControl())
	if h.HasDeleteHorizon() {
		fmt.Fprintf(w, " deleteHorizonMs: %d", h.BaseTimestamp)
	}
	fmt.Fprintf(w, " position: %d timestampType: %s baseTimestamp: %d maxTimestamp: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
		pos, timestampType(h), h.BaseTimestamp, h.MaxTimestamp, h.Size(), h.Magic, h.Compression(), h.CRC, valid)
}

// printRecords decodes and prints the records of the batch in d.buf.
func (d *dumper) printRecords(pos int64, h *segment.BatchHeader) error {
	// The bound every reader of a log of such batches applies, and at least the
	// bound of a log with the default maximum batch size.
	d.decoder.MaxDecompressedBytes = segment.MaxDecompressedFor(max(h.Size(), segment.DefaultMaxBatchBytes))
	if err := d.decoder.Reset(d.buf); err != nil {
		if errors.Is(err, segment.ErrUnsupportedCompression) {
			fmt.Fprintf(d.out, "| records not shown: %s\n", cleanMessage(err.Error()))
			return nil
		}
		return &logProblem{pos, "records: " + cleanMessage(err.Error())}
	}
	r := &d.record
	for {
		ok, err := d.decoder.Next(r)
		if err != nil {
			return &logProblem{pos, "records: " + cleanMessage(err.Error())}
		}
		if !ok {
			return nil
		}
		fmt.Fprintf(d.out, "| offset: %d %s: %d keySize: %d valueSize: %d sequence: %d headers: [",
			r.Offset, timestampType(h), r.Timestamp, nullableLen(r.Key), nullableLen(r.Value),
			sequenceAt(h, int32(r.Offset-h.BaseOffset)))
		for i, header := range r.Headers {
			if i > 0 {
				d.out.WriteByte(' ')
			}
			d.out.WriteString(printable([]byte(header.Key)))
			d.out.WriteByte('=')
			if header.Value == nil {
				d.out.WriteString("null")
			} else {
				d.out.WriteString(printable(header.Value))
			}
		}
		d.out.WriteByte(']')
		switch {
		case h.IsControl():
			d.out.WriteString(controlRecord(r.Key, r.Value))
		case d.offsetsDecoder:
			d.out.WriteString(decodeOffsetsRecord(r.Key, r.Value))
		default:
			if r.Key != nil {
				d.out.WriteString(" key: " + printable(r.Key))
			}
			if r.Value != nil {
				d.out.WriteString(" payload: " + printable(r.Value))
			}
		}
		d.out.WriteByte('\n')
	}
}

// controlRecord returns what kafka-dump-log prints of the record of a control
// batch: " endTxnMarker: COMMIT coordinatorEpoch: 5" for a transaction marker,
// " controlType: UNKNOWN(3)" for another control record, and the record with
// decodeError: WHY if it does not decode.
func controlRecord(key, value []byte) string {
	typ, coordinatorEpoch, err := partition.DecodeTxnMarker(key, value)
	switch {
	case err != nil:
		return undecodable(key, value, err)
	case typ == partition.MarkerCommit:
		return fmt.Sprintf(" endTxnMarker: COMMIT coordinatorEpoch: %d", coordinatorEpoch)
	case typ == partition.MarkerAbort:
		return fmt.Sprintf(" endTxnMarker: ABORT coordinatorEpoch: %d", coordinatorEpoch)
	}
	return fmt.Sprintf(" controlType: UNKNOWN(%d)", typ)
}

// timestampType names the batch's timestamp type as Kafka does.
func timestampType(h *segment.BatchHeader) string {
	if h.LogAppendTime() {
		return "LogAppendTime"
	}
	return "CreateTime"
}

// sequenceAt returns the producer sequence of the record at offsetDelta, as Kafka
// computes it (wrapping at 2^31), or -1 for a batch without a producer.
func sequenceAt(h *segment.BatchHeader, offsetDelta int32) int64 {
	if h.BaseSequence < 0 {
		return -1
	}
	return (int64(h.BaseSequence) + int64(offsetDelta)) % (1 << 31)
}

func nullableLen(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

// printable returns b as it is if it is printable UTF-8 (no tabs, newlines or other
// control characters, which would break the line), else Go-quoted.
func printable(b []byte) string {
	if utf8.Valid(b) && !strings.ContainsFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) }) {
		return string(b)
	}
	return strconv.Quote(string(b))
}

// decodeOffsetsRecord returns the " key: ... payload: ..." of a record of the
// offsets topic, decoded as Kafka's --offsets-decoder prints it.
func decodeOffsetsRecord(key, value []byte) string {
	r, err := group.DecodeOffsetsRecord(key, value)
	if err != nil {
		return undecodable(key, value, err)
	}
	var b strings.Builder
	if r.IsOffset {
		fmt.Fprintf(&b, " key: offset_commit::group=%s,partition=%s-%d payload: ", printable([]byte(r.Group)), printable([]byte(r.Partition.Topic)), r.Partition.Partition)
	} else {
		fmt.Fprintf(&b, " key: group_metadata::group=%s payload: ", printable([]byte(r.Group)))
	}
	switch {
	case r.Tombstone:
		b.WriteString("<DELETE>")
	case r.IsOffset:
		fmt.Fprintf(&b, "offset=%d,metadata=%s,commitTimestamp=%d", r.Offset.Offset, printable([]byte(r.Offset.Metadata)), r.Offset.CommitTime.UnixMilli())
	default:
		m := r.Metadata
		members := make([]string, len(m.Members))
		for i, member := range m.Members {
			members[i] = printable([]byte(member.MemberID))
		}
		fmt.Fprintf(&b, "protocolType=%s,protocol=%s,generation=%d,leader=%s,members=[%s]",
			printable([]byte(m.ProtocolType)), printable([]byte(m.Protocol)), m.Generation, printable([]byte(m.Leader)), strings.Join(members, ","))
	}
	return b.String()
}

// undecodable prints a record that does not decode as kafka-dump-log does: its
// key and payload as they are, and why.
func undecodable(key, value []byte, err error) string {
	out := ""
	if key != nil {
		out += " key: " + printable(key)
	}
	if value != nil {
		out += " payload: " + printable(value)
	}
	return out + " decodeError: " + cleanMessage(err.Error())
}
