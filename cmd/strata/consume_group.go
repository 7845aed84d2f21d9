package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratalog/strata/log"
)

// Timeouts of consume --group. The CLI is the group's only member (it holds the
// store, so no other process can join), and a lone member joins at once; the
// session timeout only matters if the process hangs, and a restarted store forgets
// members anyway. 10 s is within the coordinator's bounds (6 s to 30 min); the
// heartbeat interval is a tenth of it, as Kafka advises a third or less.
const (
	groupSessionTimeout    = 10 * time.Second
	groupHeartbeatInterval = time.Second
	// groupCommitTimeout bounds each commit. Commits do not take the command's
	// context: records that were printed are committed even when SIGINT arrives
	// right after, so that the next run does not print them again.
	groupCommitTimeout = 30 * time.Second
	// groupClientID names the CLI's members in groups describe.
	groupClientID = "strata-cli"
)

// consumeGroup is consume --group: it prints the topic's records as a member of the
// group, committing what it printed after each Poll.
//
// Where each partition starts is decided before joining (see groupStart), so that
// consume knows when it has caught up without asking the consumer for positions:
// nothing but this process writes to the store while it runs, so a partition's
// position is its start advanced past each printed record, and an endProbe tells
// whether records remain between it and the end (markers and aborted transactions
// are offsets without one).
func consumeGroup(e *cli, store *log.Store, o *consumeOptions) (err error) {
	d, err := describe(store, o.topic)
	if err != nil {
		return err
	}
	if d.Internal {
		// Groups subscribe only to ordinary topics: the member would never be
		// assigned a partition of it, and would wait forever.
		return fmt.Errorf("%s is an internal topic: consume it without --group", o.topic)
	}
	end, err := endOffsets(store, o.topic, o.isolation) // where consume stops without --follow
	if err != nil {
		return err
	}
	position, err := o.groupStart(e.ctx, store, d, end)
	if err != nil {
		return err
	}
	probe := newEndProbe(store, o.isolation)
	defer probe.close()
	done := func() (bool, error) { return caughtUp(probe, o.topic, position, end) }
	if finished, err := done(); err != nil || (!o.follow && finished) {
		return err // nothing to print: no need to join
	}

	reset := log.ResetLatest
	if o.fromBeginning {
		reset = log.ResetEarliest
	}
	consumer, err := store.NewGroupConsumer(log.GroupConsumerOptions{
		Group:             o.group,
		Topics:            []string{o.topic},
		ClientID:          groupClientID,
		SessionTimeout:    groupSessionTimeout,
		HeartbeatInterval: groupHeartbeatInterval,
		// The committed offsets groupStart made sure of win; Reset applies only if a
		// committed offset fell out of the partition's records meanwhile.
		Reset:             reset,
		DisableAutoCommit: true, // commit exactly what was printed, below
		IsolationLevel:    o.isolation,
	})
	if err != nil {
		return err
	}
	defer func() {
		// Leave the group at once (it rebalances now, not after the session timeout).
		// Nothing is committed here: every printed record was committed after its Poll.
		if cerr := consumer.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	var (
		line    []byte
		printed int
		batch   []*log.Record // the records of one Poll that were printed
	)
	for {
		if !o.follow {
			if finished, err := done(); err != nil || finished {
				return err
			}
		}
		records, err := e.poll(store, consumer.Poll, o.timeout) // waits until the member owns partitions with records
		if interrupted(e.ctx, err) || errors.Is(err, errPollTimeout) {
			return nil
		}
		if err != nil {
			return err
		}
		batch = batch[:0]
		limitReached := false
		for _, r := range records {
			if !o.follow && r.Offset >= end[r.Partition] {
				continue
			}
			line = o.format(line[:0], r)
			if _, err := out.Write(line); err != nil {
				return err
			}
			batch = append(batch, r)
			position[r.Partition] = r.Offset + 1
			printed++
			if o.maxMessages > 0 && printed >= o.maxMessages {
				limitReached = true
				break
			}
		}
		// Printed means written to stdout: flush, then commit.
		if err := out.Flush(); err != nil {
			return err
		}
		if err := commitPrinted(e.ctx, consumer, batch); err != nil {
			return err
		}
		if limitReached {
			return nil
		}
	}
}

// groupStart returns the offset where consume --group starts in each partition of
// the topic d: the group's committed offset where it has one within the
// partition's records, else where --from-beginning, --from-time or (without them)
// the end of the partition (end: the last stable offset in read_committed) says. It commits the latter for the group before the
// consumer joins, so that the consumer starts exactly there (a GroupConsumer starts
// at committed offsets and cannot seek), and so that a later run continues from
// there even if this one prints nothing, as Kafka's console consumer commits its
// positions. The group has no members while the CLI holds the store, so the commit
// is one from outside the group (Store.CommitGroupOffsets).
func (o *consumeOptions) groupStart(ctx context.Context, store *log.Store, d log.TopicDescription, end map[int32]int64) (map[int32]int64, error) {
	tps := make([]log.TopicPartition, len(d.Partitions))
	for i, p := range d.Partitions {
		tps[i] = log.TopicPartition{Topic: d.Name, Partition: p.Partition}
	}
	committed, err := store.CommittedOffsets(ctx, o.group, tps...)
	if err != nil {
		return nil, err
	}
	var byTime *log.Consumer // with --from-time: finds each partition's offset for the time
	if o.hasFromTime {
		if byTime, err = store.NewConsumer(log.ConsumerOptions{}); err != nil {
			return nil, err
		}
		defer byTime.Close()
		if err := byTime.Assign(tps...); err != nil {
			return nil, err
		}
	}
	position := make(map[int32]int64, len(tps))
	toCommit := map[log.TopicPartition]log.OffsetAndMetadata{}
	for i, p := range d.Partitions {
		tp := tps[i]
		if c, ok := committed[tp]; ok && c.Offset >= p.StartOffset && c.Offset <= p.EndOffset {
			position[p.Partition] = c.Offset
			continue
		}
		start := end[p.Partition]
		switch {
		case o.fromBeginning:
			start = p.StartOffset
		case o.hasFromTime:
			if err := byTime.SeekToTime(tp, o.fromTime); err != nil {
				return nil, err
			}
			if start, err = byTime.Position(tp); err != nil {
				return nil, err
			}
		}
		position[p.Partition] = start
		toCommit[tp] = log.OffsetAndMetadata{Offset: start}
	}
	if len(toCommit) > 0 {
		if err := commitOutsideGroup(ctx, store, o.group, toCommit); err != nil {
			return nil, err
		}
	}
	return position, nil
}

// caughtUp reports whether no partition of topic holds a record to print between
// its position and its end.
func caughtUp(probe *endProbe, topic string, position, end map[int32]int64) (bool, error) {
	for p, e := range end {
		found, err := probe.recordBelow(log.TopicPartition{Topic: topic, Partition: p}, position[p], e)
		if err != nil || found {
			return false, err
		}
	}
	return true, nil
}

// commitPrinted commits, for each partition of records, the offset after the last
// one. It does not take the command's context (see groupCommitTimeout).
func commitPrinted(ctx context.Context, consumer *log.GroupConsumer, records []*log.Record) error {
	if len(records) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupCommitTimeout)
	defer cancel()
	return consumer.CommitRecords(ctx, records...)
}
