package main

import (
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
