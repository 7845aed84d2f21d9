// Command strata works on a strata data directory from the shell: the seeds'
// deployment commands (create, list, describe and delete topics, produce from and
// consume to the console) and the tools Kafka users reach for when something is
// wrong (kafka-dump-log, kafka-consumer-groups, kafka-transactions).
//
//	go install github.com/stratalog/strata/cmd/strata@latest
//
//	strata topics create orders --partitions 3 --config retention.ms=604800000
//	strata topics list
//	strata topics describe orders
//	printf 'alice:book\nbob:pen\n' | strata produce orders --key-separator : --print-offsets
//	strata consume orders --from-beginning --print-offset --print-key
//	strata dump strata-data/orders-0/00000000000000000000.log --print-data --verify-index
//	strata topics delete orders
//
// Every command takes --dir DIR (default $STRATA_DIR, else ./strata-data), before
// or after the command (the one after wins), and --help ("strata help COMMAND"
// says the same); "strata --version" prints the version. A command's flags may
// come before or after its positional arguments; "--" ends them.
//
// # Commands
//
//	strata topics create NAME [--partitions N] [--config key=value]...
//	strata topics list
//	strata topics describe [NAME]
//	strata topics alter NAME [--config key=value]... [--delete-config key]... [--partitions N]
//	strata topics delete-records NAME --offset N [--partition P]
//	strata topics delete NAME
//	strata produce TOPIC [--partition P] [--key-separator SEP] [--acks all|-1|1|0]
//	                     [--compression none|gzip|snappy|zstd] [--print-offsets]
//	                     [--property parse.headers=true|parse.key=true|...]...
//	strata consume TOPIC [--from-beginning | --offset N --partition P | --from-time RFC3339]
//	                     [--group G] [--max-messages N] [--follow] [--timeout-ms N]
//	                     [--isolation-level read_committed|read_uncommitted]
//	                     [--print-key] [--print-offset] [--print-timestamp] [--print-headers]
//	                     [--property print.headers=true|key.separator=SEP|...]...
//	strata groups list
//	strata groups describe GROUP
//	strata groups reset-offsets GROUP --topic T (--to-earliest|--to-latest|--to-current|
//	                     --to-offset N|--shift-by N|--to-datetime T) [--execute|--dry-run]
//	strata groups delete GROUP
//	strata transactions list
//	strata transactions describe --transactional-id ID
//	strata transactions describe-producers --topic T --partition P
//	strata transactions abort --topic T --partition P (--start-offset O |
//	                     --producer-id ID --producer-epoch E --coordinator-epoch C)
//	strata transactions find-hanging [--topic T [--partition P]] [--max-transaction-timeout MIN]
//	strata dump FILE... [--print-data] [--offsets-decoder] [--verify-index]
//
// Topic configs take Kafka's names (cleanup.policy, retention.ms, retention.bytes,
// segment.bytes, segment.ms, compression.type, max.message.bytes, and for compacted
// topics delete.retention.ms, min.cleanable.dirty.ratio, min.compaction.lag.ms) plus
// strata's sync policy (sync=every-append|periodic|none, sync.interval.ms,
// sync.records), read by log.ParseTopicConfigs: the CLI, the API and topics.json
// (which keeps a topic's own settings under these names) share one mapping. Every bad --config is reported at once. topics alter
// changes them after creation (log.Store.AlterTopicConfig; --delete-config makes
// one inherit the store's default again) and grows a topic (--partitions).
//
// # Consumer groups
//
// consume --group G reads as a member of group G: each partition starts at the
// group's committed offset (--from-beginning and --from-time apply only where it
// has none; without them, the end), and after printing each Poll's records consume
// commits the offset after the last one printed, so a second run continues exactly
// where the first stopped (where a partition without a committed offset starts is
// committed before anything is read, as Kafka's console consumer commits its
// positions, so that records produced after a run that printed nothing are read by
// the next). Since a store is open in one process at a time, the CLI
// is the group's only member and reads every partition; it leaves the group when it
// exits.
//
//	strata consume orders --group billing --from-beginning --max-messages 10
//	strata consume orders --group billing   # the next records after those 10
//	strata groups list                      # billing	Empty	consumer
//	strata groups describe billing          # committed offset, end offset, lag
//	strata groups reset-offsets billing --topic orders --to-earliest            # the plan
//	strata groups reset-offsets billing --topic orders --to-earliest --execute  # done
//	strata groups delete billing
//
// groups describe prints kafka-consumer-groups --describe's table (GROUP TOPIC
// PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID, "-" for unknown) under a
// line with the group's state, generation and members; groups reset-offsets
// plans new offsets for every partition of a topic (to the earliest, latest or
// current offset, an offset, a shift, or a time), prints them as GROUP TOPIC
// PARTITION NEW-OFFSET, and commits them only with --execute (Kafka's dry-run
// default), only for a group without members.
//
// # Transactions
//
// The transactions commands are kafka-transactions.sh's, with its column names:
// list prints every transactional id the transaction coordinator knows with its
// producer id and state (Kafka's: Ongoing, CompleteCommit, ...); describe one id's
// producer epoch, timeout, the start and duration of the transaction in progress
// and its partitions; describe-producers what a partition remembers of each
// producer, the first offset of its open transaction among it. A hanging
// transaction is one open in a partition that no coordinator will end (its marker
// was lost, or a client wrote it without the coordinator): it holds the
// partition's last stable offset back, and read_committed readers with it.
// find-hanging reports those whose producer's last batch is older than
// --max-transaction-timeout minutes (15 by default, Kafka's) and whose partition
// the coordinator does not have in a transaction of that producer in progress;
// abort writes an ABORT marker to the partition to end one.
//
//	strata transactions find-hanging
//	strata transactions abort --topic out --partition 1 --start-offset 120
//
// The commands open the store without its background check of transaction
// timeouts: only abort changes anything.
//
// # Output
//
// produce --print-offsets prints "partition:offset" per input line, in input
// order, once the line is acknowledged at the --acks level (-1 with --acks none).
// consume prints one record per line, tab-separated: timestamp (RFC 3339, UTC,
// milliseconds; --print-timestamp), partition:offset (--print-offset), headers
// (--print-headers: k1:v1,k2:v2, or NO_HEADERS), key (--print-key), value; a null
// key or value prints as "null". Kafka's formatter properties change that
// (--property print.value=false, key.separator, line.separator, headers.separator,
// null.literal), and produce reads headers and keys with Kafka's line reader
// properties (--property parse.headers=true, headers.delimiter, headers.separator,
// headers.key.separator, parse.key=true, key.separator, null.marker).
//
// consume with no start flag begins at the end and waits for new records, as
// Kafka's console consumer does (--timeout-ms ends the wait); a consume that reads
// history (--from-beginning, --offset, --from-time, --group) stops at the end
// offsets it found at its start unless --follow, as kcat -e does. topics describe and
// dump print in the style of kafka-topics --describe and kafka-dump-log; dump
// --offsets-decoder decodes the records of __consumer_offsets segments.
//
// # Transactions
//
// consume --isolation-level read_committed (Kafka's console consumer flag) prints
// only the records of committed transactions, and those outside transactions, up
// to each partition's last stable offset: the end it stops at, and where it starts
// without a start flag. read_uncommitted, the default as in Kafka, prints every
// record, of open and aborted transactions too. Neither prints transaction markers.
// dump shows each batch's producerId, producerEpoch, baseSequence and
// isTransactional, a marker's control batch as isControl: true with its record
// (--print-data) decoded as endTxnMarker: COMMIT coordinatorEpoch: N, a segment's
// aborted transactions (its .txnindex file) one a line, and a producer snapshot
// (.snapshot). topics list
// prints the names alone, one a line; topics describe prints Kafka's fields, then
// strata's: a topic's key partitioner (murmur2, Kafka's; xxhash for a topic created
// before strata used it), a partition's offsets, size and segments.
//
// # The directory lock
//
// A store is open in one process at a time. Commands that open it (all but dump)
// fail at once with one line when an application holds the directory; dump reads
// segment files without opening the store, so it works at any time and changes
// nothing.
//
// # Offline partitions
//
// A partition the store cannot open (corrupt, its directory missing or a symlink)
// is offline: every command still opens the store, logs the offline partition on
// stderr, and works on the rest. topics describe shows it ("Offline:" and the
// cause); a command that needs it (consume its topic, produce to it, a group
// member assigned it) exits 1 naming the partition and why.
//
// # Exit status
//
// 0 on success; 1 when the command fails (an error, corrupt data found by dump);
// 2 for a usage error; 130 when produce was interrupted by SIGINT or SIGTERM (what
// it had read is stored). Errors are one line on stderr starting with "strata: ".
package main
