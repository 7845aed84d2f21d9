package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/txn"
)

// The transactions commands: kafka-transactions.sh's list, describe,
// describe-producers, abort and find-hanging, with its column names.

// openTransactionsStore opens the store for a transactions command: without
// the background check that aborts timed-out transactions, so that the command
// changes only what it says (abort writes its marker; opening the store still
// finishes the transactions a crash left decided, as any Open does).
func (e *cli) openTransactionsStore(c *commandFlags) (*log.Store, error) {
	return e.openStore(c.storeDir(), mustExist, func(o *log.Options) { o.TransactionCheckInterval = -1 })
}

const transactionsListAbout = `Lists the transactional ids the transaction coordinator knows, as
kafka-transactions list does:

  TransactionalId  Coordinator  ProducerId  TransactionState
  copier           0            1000        CompleteCommit

Coordinator is the broker leading the coordinator's log (__transaction_state);
the states are Kafka's (Empty, Ongoing, PrepareCommit, PrepareAbort,
CompleteCommit, CompleteAbort). A store that never had a transactional producer
lists none.`

func runTransactionsList(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "", transactionsListAbout)
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	store, err := e.openTransactionsStore(c)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	list, err := store.ListTransactions()
	if err != nil {
		return err
	}
	rows := make([][]string, len(list))
	for i, l := range list {
		rows[i] = []string{l.TransactionalID, brokerString(int64(l.Coordinator)), strconv.FormatInt(l.ProducerID, 10), l.State.String()}
	}
	return printTable(e.stdout, []string{"TransactionalId", "Coordinator", "ProducerId", "TransactionState"}, rows)
}

const transactionsDescribeAbout = `Describes a transactional id as kafka-transactions describe does: its
coordinator, producer id and epoch, state, transaction timeout, the start time
and duration of the transaction in progress ("None" if none is) and its
partitions (those the coordinator will write a marker to).`

func runTransactionsDescribe(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "--transactional-id ID", transactionsDescribeAbout)
	id := c.String("transactional-id", "", "the transactional `ID` to describe (required)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	if *id == "" {
		return c.usageError("--transactional-id is required")
	}
	store, err := e.openTransactionsStore(c)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	d, err := store.DescribeTransaction(*id)
	if err != nil {
		return err
	}
	start, duration := "None", "None"
	if inProgress(d.State) && !d.StartTime.IsZero() {
		start = strconv.FormatInt(d.StartTime.UnixMilli(), 10)
		duration = strconv.FormatInt(time.Since(d.StartTime).Milliseconds(), 10)
	}
	partitions := make([]string, len(d.Partitions))
	for i, tp := range d.Partitions {
		partitions[i] = tp.String()
	}
	row := []string{
		brokerString(int64(d.Coordinator)), d.TransactionalID, strconv.FormatInt(d.ProducerID, 10),
		strconv.Itoa(int(d.ProducerEpoch)), d.State.String(), strconv.FormatInt(d.Timeout.Milliseconds(), 10),
		start, duration, strings.Join(partitions, ","),
	}
	return printTable(e.stdout, []string{"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
		"TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions"}, [][]string{row})
}

// inProgress reports whether a transaction in state is begun and not complete.
func inProgress(state log.TransactionState) bool {
	switch state {
	case txn.Ongoing, txn.PrepareCommit, txn.PrepareAbort, txn.PrepareEpochFence:
		return true
	}
	return false
}

const transactionsDescribeProducersAbout = `Describes the producers a partition remembers, as kafka-transactions
describe-producers does: per producer id its epoch, the coordinator epoch of its
last marker (-1: none), the sequence of its last record, the timestamp of its
last batch (ms), and the first offset of its open transaction ("None" if none is
open). In a store of several brokers, the leader's.`

func runTransactionsDescribeProducers(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "--topic T --partition P", transactionsDescribeProducersAbout)
	topic := c.String("topic", "", "the `TOPIC` (required)")
	partition := c.Int("partition", 0, "the partition `P` (required)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	tp, err := partitionFlags(c, *topic, *partition)
	if err != nil {
		return err
	}
	store, err := e.openTransactionsStore(c)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	producers, err := store.DescribeProducers(tp)
	if err != nil {
		return err
	}
	rows := make([][]string, len(producers))
	for i, p := range producers {
		start := "None"
		if p.CurrentTxnFirstOffset >= 0 {
			start = strconv.FormatInt(p.CurrentTxnFirstOffset, 10)
		}
		rows[i] = []string{strconv.FormatInt(p.ProducerID, 10), strconv.Itoa(int(p.ProducerEpoch)), strconv.Itoa(int(p.CoordinatorEpoch)),
			strconv.Itoa(int(p.LastSequence)), strconv.FormatInt(p.LastTimestamp, 10), start}
	}
	return printTable(e.stdout, []string{"ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp",
		"CurrentTransactionStartOffset"}, rows)
}

const transactionsAbortAbout = `Aborts a hanging transaction (see find-hanging) as kafka-transactions
abort does: writes an ABORT marker for it directly to the partition, so that its
records are aborted and read_committed readers move past them. The transaction is
named by the offset it starts at (--start-offset, the StartOffset of
find-hanging), or by its producer: --producer-id, --producer-epoch and
--coordinator-epoch (a negative coordinator epoch, as describe-producers prints
for a producer without markers, counts as 0).

The transaction coordinator is not told: aborting a transaction it still has in
progress aborts this partition's share only. Abort what find-hanging reports.`

func runTransactionsAbort(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "--topic T --partition P (--start-offset O | --producer-id ID --producer-epoch E --coordinator-epoch C)", transactionsAbortAbout)
	topic := c.String("topic", "", "the `TOPIC` (required)")
	partition := c.Int("partition", 0, "the partition `P` (required)")
	startOffset := c.Int64("start-offset", 0, "the first offset `O` of the transaction to abort")
	producerID := c.Int64("producer-id", 0, "the transaction's producer `ID` (without --start-offset)")
	producerEpoch := c.Int("producer-epoch", 0, "the producer's epoch `E` (with --producer-id)")
	coordinatorEpoch := c.Int("coordinator-epoch", 0, "the producer's coordinator epoch `C` (with --producer-id)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	tp, err := partitionFlags(c, *topic, *partition)
	if err != nil {
		return err
	}
	byOffset, byProducer := c.isSet("start-offset"), c.isSet("producer-id")
	switch {
	case byOffset == byProducer:
		return c.usageError("name the transaction with either --start-offset or --producer-id, --producer-epoch and --coordinator-epoch")
	case byOffset && *startOffset < 0:
		return c.usageError("--start-offset %d: want an offset, at least 0", *startOffset)
	case byProducer && *producerID < 0:
		return c.usageError("--producer-id %d: want an id, at least 0", *producerID)
	case byProducer && !c.isSet("producer-epoch"):
		return c.usageError("--producer-id needs --producer-epoch")
	case byProducer && !c.isSet("coordinator-epoch"):
		return c.usageError("--producer-id needs --coordinator-epoch")
	case byProducer && (*producerEpoch < 0 || *producerEpoch > 32767):
		return c.usageError("--producer-epoch %d: want 0 to 32767", *producerEpoch)
	case byProducer && (*coordinatorEpoch < -1 || *coordinatorEpoch > 1<<31-1):
		return c.usageError("--coordinator-epoch %d: want -1 to 2147483647", *coordinatorEpoch)
	}
	store, err := e.openTransactionsStore(c)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	id, epoch, coordinator := *producerID, int16(*producerEpoch), int32(*coordinatorEpoch)
	if byOffset {
		producers, err := store.DescribeProducers(tp)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(producers, func(p log.ProducerState) bool { return p.CurrentTxnFirstOffset == *startOffset })
		if i < 0 {
			return fmt.Errorf("no open transaction starts at offset %d in %s (see 'strata transactions describe-producers')", *startOffset, tp)
		}
		id, epoch, coordinator = producers[i].ProducerID, producers[i].ProducerEpoch, producers[i].CoordinatorEpoch
	}
	// A producer whose transaction hangs before its first marker has no
	// coordinator epoch (-1): 0 is at or below any the partition can have seen.
	coordinator = max(coordinator, 0)
	if err := store.AbortTransaction(e.ctx, tp, id, epoch, coordinator); err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "Aborted the transaction of producer %d (epoch %d) in %s.\n", id, epoch, tp)
	return err
}

const transactionsFindHangingAbout = `Finds hanging transactions as kafka-transactions find-hanging does: open
transactions in partitions whose producer's last batch there is older than
--max-transaction-timeout minutes and whose partition the transaction
coordinator does not have in a transaction of that producer in progress, so
that no marker will ever end them; they hold the partition's last stable offset
back, and read_committed readers with it. Abort them with 'strata transactions
abort --topic T --partition P --start-offset O'. Without --topic, every topic
(the internal ones included) is searched.

  Topic  Partition  ProducerId  ProducerEpoch  CoordinatorEpoch  StartOffset  LastTimestamp  Duration(min)
  out    1          4000        0              -1                120          1764926400000  42`

func runTransactionsFindHanging(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "[--topic T [--partition P]] [--max-transaction-timeout MIN]", transactionsFindHangingAbout)
	topic := c.String("topic", "", "search only `TOPIC`")
	partition := c.Int("partition", 0, "search only partition `P` of --topic")
	maxTimeout := c.Int("max-transaction-timeout", 15, "the longest transaction timeout, in `MIN`utes: younger transactions are not hanging")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	if c.isSet("partition") && *topic == "" {
		return c.usageError("--partition needs --topic")
	}
	if c.isSet("partition") && *partition < 0 {
		return c.usageError("--partition %d: want a partition, at least 0", *partition)
	}
	if *maxTimeout < 1 {
		return c.usageError("--max-transaction-timeout %d: want at least 1 (minutes)", *maxTimeout)
	}
	store, err := e.openTransactionsStore(c)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	var topics []string
	if *topic != "" {
		topics = []string{*topic}
	}
	hanging, err := store.FindHangingTransactions(time.Duration(*maxTimeout)*time.Minute, topics...)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, h := range hanging {
		if c.isSet("partition") && h.TopicPartition.Partition != int32(*partition) {
			continue
		}
		rows = append(rows, []string{h.TopicPartition.Topic, strconv.Itoa(int(h.TopicPartition.Partition)),
			strconv.FormatInt(h.ProducerID, 10), strconv.Itoa(int(h.ProducerEpoch)), strconv.Itoa(int(h.CoordinatorEpoch)),
			strconv.FormatInt(h.CurrentTxnFirstOffset, 10), strconv.FormatInt(h.LastTimestamp, 10),
			strconv.FormatInt(int64(h.Duration/time.Minute), 10)})
	}
	return printTable(e.stdout, []string{"Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset",
		"LastTimestamp", "Duration(min)"}, rows)
}

// partitionFlags checks the required --topic and --partition of a command.
func partitionFlags(c *commandFlags, topic string, partition int) (log.TopicPartition, error) {
	if topic == "" {
		return log.TopicPartition{}, c.usageError("--topic is required")
	}
	if !c.isSet("partition") {
		return log.TopicPartition{}, c.usageError("--partition is required")
	}
	if partition < 0 || partition > 1<<31-1 {
		return log.TopicPartition{}, c.usageError("--partition %d: want a partition, at least 0", partition)
	}
	return log.TopicPartition{Topic: topic, Partition: int32(partition)}, nil
}

// brokerString formats a broker id, "None" for none (negative).
func brokerString(id int64) string {
	if id < 0 {
		return "None"
	}
	return strconv.FormatInt(id, 10)
}

// printTable writes a header line and rows in aligned columns, as Kafka's tools
// print their tables (ToolsUtils.prettyPrintTable), with two spaces between
// columns as this CLI's other tables.
func printTable(w io.Writer, header []string, rows [][]string) error {
	var b strings.Builder
	table := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(table, strings.Join(header, "\t"))
	for _, row := range rows {
		fmt.Fprintln(table, strings.Join(row, "\t"))
	}
	if err := table.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
