package log

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalog/strata/partition"
)

// ResetPolicy says where a Consumer reads from when it has no position for a
// partition (just assigned, never sought) or its position is out of range (below the
// start offset, after retention or DeleteRecords, or above the end offset): Kafka's
// auto.offset.reset. The zero value is ResetEarliest.
type ResetPolicy int

const (
	// ResetEarliest moves to the partition's start offset: replay everything kept.
	// It is the default, as in franz-go (Kafka's own default is latest).
	ResetEarliest ResetPolicy = iota
	// ResetLatest moves to the end offset: only records produced from now on.
	ResetLatest
	// ResetNone does not move: Poll returns an error matching ErrOffsetOutOfRange
	// until Seek gives the partition a valid position.
	ResetNone
)

// String returns the policy's name as Kafka spells it.
func (r ResetPolicy) String() string {
	switch r {
	case ResetEarliest:
		return "earliest"
	case ResetLatest:
		return "latest"
	case ResetNone:
		return "none"
	}
	return fmt.Sprintf("ResetPolicy(%d)", int(r))
}

// Defaults for ConsumerOptions fields left at zero.
const (
	DefaultMaxPollRecords = 500      // Kafka's max.poll.records
	DefaultMaxPollBytes   = 16 << 20 // bytes of keys, values and headers per Poll
)

// ConsumerOptions configure a Consumer. The zero value is valid and means the
// defaults.
type ConsumerOptions struct {
	// MaxPollRecords is the most records one Poll returns, and the most Next
	// returns from one partition before it turns to the next. Default 500.
	MaxPollRecords int
	// MaxPollBytes bounds the key, value and header bytes one Poll returns; a single
	// larger record is still returned alone, so that a consumer always makes
	// progress. Default 16 MiB.
	MaxPollBytes int
	// Reset is where to read from without a valid position. Default ResetEarliest.
	Reset ResetPolicy
	// SkipCRCChecks reads batches without verifying their CRC-32C (Kafka's
	// check.crcs=false): faster, but corruption inside records goes unnoticed.
	SkipCRCChecks bool
	// IsolationLevel says which records of transactions the consumer reads
	// (Kafka's isolation.level). Default ReadUncommitted, as Kafka's; with
	// ReadCommitted the consumer reads up to the last stable offset and skips
	// aborted transactions, and SeekToEnd, ResetLatest, Lag and CaughtUp take the
	// last stable offset as the end.
	IsolationLevel IsolationLevel
}

// Consumer reads the partitions assigned to it, without a consumer group: the
// application chooses the partitions (Assign, AssignTopics) and the positions
// (Seek...), and Poll returns copies of records from all of them, or Next returns
// them one at a time without copying (the fastest way). Pause and Resume hold
// partitions back; Lag and CaughtUp tell how far the consumer is from the end.
// Positions are not saved anywhere: a new Consumer starts where its Reset policy
// says.
//
// A Consumer is for one goroutine at a time, except Close, which any goroutine may
// call at any time: it makes a blocked Poll return ErrClosed.
type Consumer struct {
	s          *Store
	opts       ConsumerOptions
	fetchBytes int // bytes of batches a partition's reader fetches at a time

	assigned []*assignment // in Assign order
	byTP     map[TopicPartition]*assignment
	next     int // index of the assignment the next Poll reads first

	lastRecords, lastBytes int // size of the last Poll: how much the next one allocates up front

	// Next's state: the partition it reads (nil: none yet), its index in assigned,
	// how many records in a row it returned from it, and the record it returns.
	current      *assignment
	currentIndex int
	run          int
	viewRecord   Record
	viewOf       *assignment // the partition viewRecord's Topic and Partition name
	viewMillis   int64       // viewRecord's Timestamp in Unix milliseconds

	closed     chan struct{}
	closedFlag atomic.Bool // set with closed: cheaper to test on every Next
	closeOnce  sync.Once
}

// assignment is one assigned partition and the consumer's position in it.
type assignment struct {
	tp          TopicPartition
	incarnation uint64 // of tp's topic when assigned
	p           *partition.Partition
	reader      *partition.Reader
	positioned  bool              // false until a Seek or the Reset policy sets it
	paused      bool              // Pause: Poll and Next skip it until Resume
	pending     *partition.Record // read but not returned by the last Poll (aliases reader)
}

// position returns the offset of the next record the consumer returns.
func (a *assignment) position() int64 {
	if a.pending != nil {
		return a.pending.Offset
	}
	return a.reader.Offset()
}

func (a *assignment) seek(offset int64) {
	a.reader.SetOffset(offset)
	a.pending = nil
	a.positioned = true
}

// NewConsumer returns a Consumer with no partitions assigned. Invalid options are a
// *ConfigError naming every invalid field.
func (s *Store) NewConsumer(opts ConsumerOptions) (*Consumer, error) {
	var problems []string
	if opts.MaxPollRecords < 0 {
		problems = append(problems, fmt.Sprintf("MaxPollRecords: %d is negative", opts.MaxPollRecords))
	}
	if opts.MaxPollBytes < 0 {
		problems = append(problems, fmt.Sprintf("MaxPollBytes: %d is negative", opts.MaxPollBytes))
	}
	if opts.Reset < ResetEarliest || opts.Reset > ResetNone {
		problems = append(problems, fmt.Sprintf("Reset: %v is not a reset policy", opts.Reset))
	}
	if problem := checkIsolationLevel(opts.IsolationLevel); problem != "" {
		problems = append(problems, problem)
	}
	if err := checkConfig("ConsumerOptions", problems); err != nil {
		return nil, err
	}
	if opts.MaxPollRecords == 0 {
		opts.MaxPollRecords = DefaultMaxPollRecords
	}
	if opts.MaxPollBytes == 0 {
		opts.MaxPollBytes = DefaultMaxPollBytes
	}
	c := &Consumer{
		s:          s,
		opts:       opts,
		fetchBytes: min(opts.MaxPollBytes, partition.DefaultReadBytes),
		byTP:       map[TopicPartition]*assignment{},
		closed:     make(chan struct{}),
	}
	if err := s.register(nil, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Assign makes tps the consumer's partitions, replacing the previous assignment
// (Kafka's assign). Partitions that stay assigned keep their positions and pauses,
// also when their log was opened again meanwhile (AlterTopicConfig, a repair) or
// their leader moved; new ones, and those of a topic deleted and created again,
// start where the Reset policy says, unless sought first. An unknown topic or
// partition, or an offline one, fails the call (ErrUnknownTopic,
// ErrUnknownPartition, ErrPartitionOffline) and changes nothing.
func (c *Consumer) Assign(tps ...TopicPartition) error {
	if err := c.usable(); err != nil {
		return err
	}
	assigned := make([]*assignment, 0, len(tps))
	byTP := make(map[TopicPartition]*assignment, len(tps))
	for _, tp := range tps {
		if byTP[tp] != nil {
			continue
		}
		t, p, err := c.s.lookupTopicPartition(tp) // one snapshot: p is t's
		if err != nil {
			return errorf("strata/log: assign: %w", err)
		}
		a := c.byTP[tp]
		switch {
		case a == nil || a.incarnation != t.incarnation: // new, or its topic was deleted and created again
			a = &assignment{tp: tp, incarnation: t.incarnation, p: p}
			c.bind(a, p, 0)
		case a.p != p: // opened again (AlterTopicConfig, a repair) or its leader moved: same position
			c.bind(a, p, a.position())
		}
		assigned = append(assigned, a)
		byTP[tp] = a
	}
	c.assigned, c.byTP, c.next, c.current = assigned, byTP, 0, nil
	return nil
}

// bind makes a read p from offset.
func (c *Consumer) bind(a *assignment, p *partition.Partition, offset int64) {
	a.p, a.reader, a.pending = p, p.NewReader(offset, c.fetchBytes), nil
	a.reader.SetCheckCRCs(!c.opts.SkipCRCChecks)
	_ = a.reader.SetIsolationLevel(c.opts.IsolationLevel) // checked by NewConsumer
}

// endOffset returns where the consumer finds the end of p: its last stable offset
// in ReadCommitted, its end offset otherwise.
func (c *Consumer) endOffset(p *partition.Partition) int64 {
	return endOffsetFor(p, c.opts.IsolationLevel)
}

// Assignment returns the assigned partitions, in Assign order.
func (c *Consumer) Assignment() []TopicPartition {
	tps := make([]TopicPartition, len(c.assigned))
	for i, a := range c.assigned {
		tps[i] = a.tp
	}
	return tps
}

// lookup returns the assignment of tp, or ErrUnknownPartition.
func (c *Consumer) lookup(tp TopicPartition) (*assignment, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	a := c.byTP[tp]
	if a == nil {
		if _, err := c.s.lookupPartition(tp); errors.Is(err, ErrPartitionOffline) {
			return nil, err
		}
		return nil, errorf("strata/log: %s is not assigned to this consumer: %w", tp, ErrUnknownPartition)
	}
	c.rebindIfReplaced(a)
	return a, nil
}

// rebindIfReplaced makes a read its partition's current log, from its position,
// if the log a reads was closed and opened again (AlterTopicConfig, a repair) or,
// in a store of several brokers, no longer leads.
func (c *Consumer) rebindIfReplaced(a *assignment) {
	if p := c.s.reopened(a.tp, a.incarnation, a.p); p != nil {
		c.bind(a, p, a.position())
	}
}

// Seek makes offset the position of tp: the next Poll returns tp's records from
// offset on. Any offset may be sought, to replay; one outside the partition's
// records is handled by the Reset policy at the next Poll. tp must be assigned
// (ErrUnknownPartition); a negative offset is ErrInvalidArgument.
func (c *Consumer) Seek(tp TopicPartition, offset int64) error {
	a, err := c.lookup(tp)
	if err != nil {
		return err
	}
	if offset < 0 {
		return errorf("strata/log: seek %s to %d: %w", tp, offset, ErrInvalidArgument)
	}
	a.seek(offset)
	return nil
}

// SeekToTime moves tp to the first record whose timestamp is at or after t (Kafka's
// offsetsForTimes), or to the end offset if there is none.
func (c *Consumer) SeekToTime(tp TopicPartition, t time.Time) error {
	a, err := c.lookup(tp)
	if err != nil {
		return err
	}
	offset, _, err := a.p.OffsetForTime(t.UnixMilli())
	if err != nil {
		return c.s.partitionError("seek", tp, a.p, err)
	}
	a.seek(offset)
	return nil
}

// SeekToBeginning moves each of tps (every assigned partition if none is given) to
// its start offset.
func (c *Consumer) SeekToBeginning(tps ...TopicPartition) error {
	return c.seekEach(tps, (*partition.Partition).StartOffset)
}

// SeekToEnd moves each of tps (every assigned partition if none is given) to its end
// offset (in ReadCommitted, its last stable offset, as Kafka's seekToEnd): the next
// Poll returns only records produced (in ReadCommitted, decided) after this call.
func (c *Consumer) SeekToEnd(tps ...TopicPartition) error {
	return c.seekEach(tps, c.endOffset)
}

func (c *Consumer) seekEach(tps []TopicPartition, offset func(*partition.Partition) int64) error {
	if err := c.usable(); err != nil {
		return err
	}
	if len(tps) == 0 {
		tps = c.Assignment()
	}
	targets, err := c.lookupEach(tps)
	if err != nil {
		return err
	}
	for _, a := range targets {
		a.seek(offset(a.p))
	}
	return nil
}

// lookupEach returns the assignments of tps, or the first lookup error.
func (c *Consumer) lookupEach(tps []TopicPartition) ([]*assignment, error) {
	targets := make([]*assignment, len(tps))
	for i, tp := range tps {
		a, err := c.lookup(tp)
		if err != nil {
			return nil, err
		}
		targets[i] = a
	}
	return targets, nil
}

// Position returns the offset of the next record Poll returns for tp, applying the
// Reset policy first if tp has no position yet.
func (c *Consumer) Position(tp TopicPartition) (int64, error) {
	a, err := c.lookup(tp)
	if err != nil {
		return 0, err
	}
	if !a.positioned {
		if err := c.reset(a, errorf("strata/log: %s has no position: %w", tp, ErrOffsetOutOfRange)); err != nil {
			return 0, err
		}
	}
	return a.position(), nil
}

// reset applies the Reset policy to a; with ResetNone it returns cause.
func (c *Consumer) reset(a *assignment, cause error) error {
	switch c.opts.Reset {
	case ResetEarliest:
		a.seek(a.p.StartOffset())
	case ResetLatest:
		a.seek(c.endOffset(a.p))
	default:
		return cause
	}
	return nil
}

// usable returns ErrClosed once the consumer or its store is closed.
func (c *Consumer) usable() error {
	if c.closedFlag.Load() || c.s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close closes the consumer: a Poll blocked in another goroutine returns ErrClosed,
// and so does every later call. It is idempotent and always returns nil.
func (c *Consumer) Close() error {
	c.closeOnce.Do(func() {
		c.closedFlag.Store(true)
		close(c.closed)
		c.s.unregister(nil, c)
	})
	return nil
}
