package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/stratalog/strata/log"
)

const groupsListAbout = `Lists the consumer groups, one per line: the name, the state and the protocol
type, separated by tabs:

  billing	Empty	consumer

A group is listed while it has members or committed offsets. A group whose offsets
were only ever committed from outside it (by groups reset-offsets, or by a
consume --group that found nothing to read and so did not join) has no protocol
type: "-". While the CLI holds the store no application can, so groups are Empty
here: members join again when their application reopens the store.`

func runGroupsList(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "", groupsListAbout)
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	return listGroups(e.stdout, store)
}

// listGroups writes one line per group of store to w.
func listGroups(w io.Writer, store *log.Store) error {
	groups, err := store.ListGroups()
	if err != nil {
		return err
	}
	for _, g := range groups {
		if _, err := fmt.Fprintf(w, "%s\t%s\t%s\n", g.Group, g.State, orDash(g.ProtocolType)); err != nil {
			return err
		}
	}
	return nil
}

const groupsDescribeAbout = `Describes consumer group GROUP as kafka-consumer-groups --describe does: a line
with its state, protocol type, assignor (protocol), generation and number of
members, a line per member with its assignment, then a table with a row per
partition the group has a committed offset for or a member owns:

  Group: billing	State: Empty	ProtocolType: consumer	Protocol: -	Generation: 4	Members: 0

  GROUP    TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID
  billing  orders  0          40              42              2    -

CURRENT-OFFSET is the committed offset (the next record the group reads),
LOG-END-OFFSET the partition's end offset, LAG the difference; "-" stands for
unknown or none. While the CLI holds the store no application can, so the group
has no members here.`

func runGroupsDescribe(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "GROUP", groupsDescribeAbout)
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "GROUP"); err != nil {
		return err
	}
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	return describeGroup(e.stdout, store, positional[0])
}

// describeGroup writes the description of group name to w.
func describeGroup(w io.Writer, store *log.Store, name string) error {
	d, err := store.DescribeGroup(name)
	if errors.Is(err, log.ErrGroupNotFound) {
		return fmt.Errorf("unknown group %q", name)
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Group: %s\tState: %s\tProtocolType: %s\tProtocol: %s\tGeneration: %d\tMembers: %d\n",
		d.Group, d.State, orDash(d.ProtocolType), orDash(d.Protocol), d.Generation, len(d.Members))
	for _, m := range d.Members {
		assigned := make([]string, len(m.Assignment))
		for i, tp := range m.Assignment {
			assigned[i] = tp.String()
		}
		fmt.Fprintf(&b, "Member: %s\tClientID: %s\tInstanceID: %s\tTopics: %s\tAssignment: %s\n",
			m.MemberID, orDash(m.ClientID), orDash(m.InstanceID), orDash(strings.Join(m.Topics, ",")), orDash(strings.Join(assigned, ",")))
	}
	b.WriteString("\n")
	table := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(table, "GROUP\tTOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG\tCONSUMER-ID")
	for _, p := range d.Partitions {
		fmt.Fprintf(table, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.Group, p.Topic, p.Partition,
			offsetOrDash(p.Committed), offsetOrDash(p.EndOffset), offsetOrDash(p.Lag), orDash(p.Owner))
	}
	if err := table.Flush(); err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// commitOutsideGroup commits offsets for group name from outside the group, which
// only a group without members accepts (Kafka's rule).
func commitOutsideGroup(ctx context.Context, store *log.Store, name string, offsets map[log.TopicPartition]log.OffsetAndMetadata) error {
	err := store.CommitGroupOffsets(ctx, name, offsets)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, log.ErrNonEmptyGroup), errors.Is(err, log.ErrUnknownMemberID), errors.Is(err, log.ErrRebalanceInProgress):
		// A group with members refuses commits from outside it; depending on its
		// state the coordinator says so with one of these (as Kafka's does).
		state := "active"
		members := -1
		if g, derr := store.DescribeGroup(name); derr == nil {
			state, members = g.State.String(), len(g.Members)
		}
		return activeGroupError(name, state, members)
	}
	return err
}

// activeGroupError is the error for a change only a group without members allows.
func activeGroupError(name, state string, members int) error {
	count := "has members"
	if members >= 0 {
		count = fmt.Sprintf("has %d member(s)", members)
	}
	return fmt.Errorf("group %q %s (state %s): its offsets can be moved only while no consumer is in the group; stop its consumers first", name, count, state)
}

// orDash returns s, or "-" for an empty s.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// offsetOrDash formats an offset, or "-" for a negative one (unknown).
func offsetOrDash(o int64) string {
	if o < 0 {
		return "-"
	}
	return strconv.FormatInt(o, 10)
}
