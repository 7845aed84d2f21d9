package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

const initAbout = `Creates a store of N brokers with ids 0 to N-1 in DIR: each broker is a
directory (in practice a disk) holding one replica of each partition assigned to
it. Broker 0's directory is DIR itself; broker I's is DIR/broker.I unless
--broker-dir I=PATH puts it elsewhere (an empty directory, on another disk, say).
Every broker directory gets its identity (meta.properties, Kafka's) and the list of
the store's brokers (brokers.json), so that every later command finds them from
DIR alone, and the store opens from any broker's directory if DIR's disk is lost.

Topics then take --replication-factor R (at most N) and
--config min.insync.replicas=M. DIR must not hold a store yet; a store made
without init is a one-broker store, as every store made before replicas.`

func runInit(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "--brokers N [--broker-dir ID=PATH]...", initAbout)
	brokers := c.Int("brokers", 0, "number `N` of brokers, 1 to 255")
	var dirs stringList
	c.Var(&dirs, "broker-dir", "put broker ID's directory at `ID=PATH`; repeat for more")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	if *brokers < 1 || *brokers > 255 {
		return c.usageError("--brokers %d: want 1 to 255", *brokers)
	}
	layout := map[replica.BrokerID]string{}
	for id := range *brokers {
		layout[replica.BrokerID(id)] = ""
	}
	for _, d := range dirs {
		idText, path, ok := strings.Cut(d, "=")
		id, err := strconv.Atoi(idText)
		if !ok || err != nil || id < 1 || id >= *brokers || path == "" {
			return c.usageError("--broker-dir %q: want ID=PATH with ID 1 to %d (broker 0's directory is --dir)", d, *brokers-1)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		layout[replica.BrokerID(id)] = abs
	}
	dir, err := filepath.Abs(c.storeDir())
	if err != nil {
		return err
	}
	if err := vfs.MkdirAllSync(vfs.OS, dir); err != nil {
		return err
	}
	if err := log.InitBrokers(vfs.OS, dir, layout); err != nil {
		return err
	}
	store, err := e.openStore(dir, mayCreate, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	infos, err := store.Brokers()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created a store of %d brokers in %s.\n", len(infos), dir)
	return nil
}

const brokersListAbout = `Lists the store's brokers, one line each: its id, its directory (absolute),
whether it is online (or why not), and how many partitions it leads and follows:

  0	/data/strata	online	leads 4	follows 8
  2	/disk3/strata	offline: its directory is missing	leads 0	follows 0`

func runBrokersList(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "", brokersListAbout)
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
	infos, err := store.Brokers()
	if err != nil {
		return err
	}
	for _, b := range infos {
		state := "online"
		if !b.Online {
			state = "offline"
			if b.Offline != nil {
				state += ": " + cleanMessage(b.Offline.Error())
			}
		}
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\tleads %d\tfollows %d\n", b.ID, b.Dir, state, b.Leads, b.Follows)
	}
	return nil
}

const leadersElectAbout = `Moves the leadership of every partition (of topic T with --topic) back to its
preferred replica, the first of its Replicas, where that replica is online and in
sync: after a failover, leaders otherwise stay on the brokers that took over
(Kafka's kafka-leader-election --election-type preferred). It prints how many
partitions moved.`

func runLeadersElect(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "--preferred [--topic T]", leadersElectAbout)
	preferred := c.Bool("preferred", false, "elect the preferred replicas (the only election type)")
	topic := c.String("topic", "", "only the partitions of topic `T`")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	if !*preferred {
		return c.usageError("--preferred is required (the only election type)")
	}
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	var topics []string
	if *topic != "" {
		topics = []string{*topic}
	}
	n, err := store.ElectPreferredLeaders(topics...)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Moved the leadership of %d partition(s) to their preferred replicas.\n", n)
	return nil
}

const brokersAddAbout = `Adds a broker to the store, which must not be open: its directory is PATH (an
empty directory, on another disk, say) or DIR/broker.<id>; its id is one above the
greatest. It holds no replica until topics are created with more replicas, or
'strata partitions reassign' moves some to it.`

func runBrokersAdd(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "[--broker-dir PATH]", brokersAddAbout)
	brokerDir := c.String("broker-dir", "", "the new broker's directory `PATH` (default DIR/broker.<id>)")
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
	path := *brokerDir
	if path != "" {
		if path, err = filepath.Abs(path); err != nil {
			return err
		}
	}
	id, err := log.AddBroker(vfs.OS, dir, path)
	if errors.Is(err, log.ErrLocked) {
		return lockedError(dir)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Added broker %d.\n", id)
	return nil
}

const partitionsReassignAbout = `Moves the replicas of partition P of TOPIC to the brokers given, the preferred
leader first (Kafka's kafka-reassign-partitions): the new replicas copy the leader
and, once every one of them is in sync, the others leave and their directories are
removed. The command returns once the reassignment is recorded; it goes on while the
store is open, in this command or in the application that opens it next, and
'strata topics describe' shows it done when Replicas are the ones given.`

func runPartitionsReassign(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "TOPIC --partition P --replicas B1,B2,...", partitionsReassignAbout)
	partition := c.Int("partition", -1, "the partition `P`")
	replicasFlag := c.String("replicas", "", "the brokers `B1,B2,...` to hold its replicas, the preferred leader first")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "TOPIC"); err != nil {
		return err
	}
	if *partition < 0 {
		return c.usageError("--partition P is required")
	}
	var brokers []replica.BrokerID
	for _, field := range strings.Split(*replicasFlag, ",") {
		id, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || id < 0 {
			return c.usageError("--replicas %q: want broker ids, comma separated", *replicasFlag)
		}
		brokers = append(brokers, replica.BrokerID(id))
	}
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	tp := log.TopicPartition{Topic: positional[0], Partition: int32(*partition)}
	if err := store.ReassignPartition(tp, brokers); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Reassigning %s to brokers %s.\n", tp, replica.FormatBrokers(brokers))
	return nil
}
