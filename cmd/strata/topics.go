package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/replica"
)

func runTopicsCreate(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "NAME [--partitions N] [--replication-factor R] [--config key=value]...",
		"Creates topic NAME with N partitions (default 1), each with R replicas on as many\n"+
			"brokers (default 1; a store made by init --brokers has several), creating the\n"+
			"store directory if it does not exist yet. Topic names are 1 to 249 characters\n"+
			"of [a-zA-Z0-9._-].\n\n"+configHelp)
	partitions := c.Int("partitions", 1, "number of `N` partitions, 1 to 100000")
	replicationFactor := c.Int("replication-factor", 0, "number of `R` replicas of each partition, at most the store's brokers (default 1)")
	var configs stringList
	c.Var(&configs, "config", "a topic config `key=value`; repeat for more (see above)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "NAME"); err != nil {
		return err
	}
	name := positional[0]
	if *partitions < 1 || *partitions > log.MaxPartitions {
		return c.usageError("--partitions %d: want 1 to %d", *partitions, log.MaxPartitions)
	}
	config, err := parseTopicConfig(configs)
	if err != nil {
		return c.usageError("%s", err)
	}
	config.Partitions = *partitions
	if *replicationFactor < 0 {
		return c.usageError("--replication-factor %d: want 1 or more", *replicationFactor)
	}
	config.ReplicationFactor = *replicationFactor
	if err := log.ValidateTopicName(name); err != nil {
		return c.usageError("invalid topic name: %s", strings.TrimPrefix(err.Error(), log.ErrInvalidTopicName.Error()+": "))
	}

	store, err := e.openStore(c.storeDir(), mayCreate, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	if err := store.CreateTopic(e.ctx, name, config); err != nil {
		if errors.Is(err, log.ErrTopicExists) {
			return fmt.Errorf("topic %q already exists", name)
		}
		return explainConfigError(err)
	}
	fmt.Fprintf(e.stdout, "Created topic %s.\n", name)
	return nil
}

func runTopicsList(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "", "Lists the topics, one name per line, sorted, internal topics excepted: the\n"+
		"names alone, as kafka-topics --list prints them. topics describe shows the rest.")
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
	names, err := store.ListTopics()
	if err != nil {
		return err
	}
	for _, name := range names {
		fmt.Fprintln(e.stdout, name)
	}
	return nil
}

const describeAbout = `Describes topic NAME, or every topic: one line for the topic, Kafka's fields
in Kafka's order (Configs: its effective config, its own settings over the store's
defaults, every setting in --config's names and units) then strata's, then one line
per partition, Kafka's fields, then strata's offsets, each field "Name: value" and
the fields separated by tabs:

  Topic: orders	TopicId: kPFzwh1hS6O9GiWlFPgaTw	PartitionCount: 3	ReplicationFactor: 3	Configs: cleanup.policy=delete,...	Partitioner: murmur2
  	Topic: orders	Partition: 0	Leader: 1	Replicas: 1,2,0	Isr: 1,2,0	Elr: 	LeaderEpoch: 0	StartOffset: 0	EndOffset: 42	Size: 4096	Segments: 1

TopicId is the topic's ID (Kafka's topic ID, KIP-516), given at its creation;
a topic deleted and created again under its name has a new one.

Partitioner is how a keyed record finds its partition when the producer names
none: murmur2, Kafka's (a Kafka client puts the key in the same partition), or
xxhash for a topic created before strata partitioned keys as Kafka does, which
keeps it so that a key stays in the partition holding its records; - for an
internal topic, whose records the store places itself.

Leader is the broker whose replica takes produces (-1: none can), Replicas the
brokers holding one (the preferred leader first), Isr the in-sync replicas, Elr
the eligible leader replicas (KIP-966). StartOffset is the first readable offset,
EndOffset the offset the next record gets (the high watermark), Size the bytes of
the leader's segment files. With --under-replicated-partitions, only the
partitions whose Isr is smaller than their Replicas are listed. A partition
without a leader, or that the store could not open (corrupt, its directory
missing), is offline, and its line says why:

  	Topic: orders	Partition: 1	Leader: -1	Replicas: 0	Isr: 	Offline: corrupt data in ...

Every command that needs an offline partition (produce to it, consume it) fails,
saying which partition is offline and why; the others work.`

func runTopicsDescribe(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "[NAME] [--under-replicated-partitions]", describeAbout)
	underReplicated := c.Bool("under-replicated-partitions", false, "list only the partitions whose ISR is smaller than their replicas")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 1); err != nil {
		return err
	}
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	names := positional
	if len(names) == 0 {
		if names, err = store.ListTopics(); err != nil {
			return err
		}
	}
	for _, name := range names {
		d, err := describe(store, name)
		if err != nil {
			return err
		}
		if !*underReplicated {
			fmt.Fprintf(e.stdout, "Topic: %s\tTopicId: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\tPartitioner: %s\n",
				d.Name, d.ID, len(d.Partitions), d.Config.ReplicationFactor, strings.Join(configPairs(d.Config), ","), orDash(d.KeyPartitioner))
		}
		for _, p := range d.Partitions {
			if *underReplicated && len(p.ISR) >= len(p.Replicas) {
				continue
			}
			kafka := fmt.Sprintf("\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: %s\tIsr: %s", d.Name, p.Partition, p.Leader,
				replica.FormatBrokers(p.Replicas), replica.FormatBrokers(p.ISR))
			if p.Offline != nil {
				fmt.Fprintf(e.stdout, "%s\tOffline: %s\n", kafka, cleanMessage(p.Offline.Err.Error()))
				continue
			}
			fmt.Fprintf(e.stdout, "%s\tElr: %s\tLeaderEpoch: %d\tStartOffset: %d\tEndOffset: %d\tSize: %d\tSegments: %d\n",
				kafka, replica.FormatBrokers(p.ELR), p.LeaderEpoch, p.StartOffset, p.EndOffset, p.Bytes, p.Segments)
		}
	}
	return nil
}

func runTopicsDelete(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "NAME", "Deletes topic NAME and all its records.")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "NAME"); err != nil {
		return err
	}
	name := positional[0]
	store, err := e.openStore(c.storeDir(), mustExist, func(o *log.Options) {
		// Keep only errors: a delete that finds leftovers of an earlier change logs
		// them, which is noise here.
		o.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError, ReplaceAttr: dropTime}))
	})
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	if err := store.DeleteTopic(e.ctx, name); err != nil {
		if errors.Is(err, log.ErrUnknownTopic) {
			return fmt.Errorf("unknown topic %q", name)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted topic %s.\n", name)
	return nil
}
