package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stratalog/strata/log"
)

const topicsAlterAbout = `Changes topic NAME after its creation, as Kafka's kafka-configs --alter and
kafka-topics --alter --partitions do:

  --config key=value   sets a topic config (repeatable), Kafka's names (below)
  --delete-config key  makes a config inherit the store's default again (repeatable)
  --partitions N       grows the topic to N partitions (never fewer: keyed records
                       may map to other partitions afterwards, as in Kafka)

Every bad --config and --delete-config is reported at once, and nothing changes.
The change is durable when the command returns and applies to the running
partitions (see Store.AlterTopicConfig); describe shows the effective configs.

` + configHelp

func runTopicsAlter(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "NAME [--config key=value]... [--delete-config key]... [--partitions N]", topicsAlterAbout)
	var configs, deleteConfigs stringList
	c.Var(&configs, "config", "set the topic config `key=value`; repeat for more")
	c.Var(&deleteConfigs, "delete-config", "make the topic config `key` inherit the store's default again; repeat for more")
	partitions := c.Int("partitions", 0, "grow the topic to `N` partitions")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "NAME"); err != nil {
		return err
	}
	name := positional[0]
	if len(configs) == 0 && len(deleteConfigs) == 0 && !c.isSet("partitions") {
		return c.usageError("nothing to change: give --config, --delete-config or --partitions")
	}
	if c.isSet("partitions") && (*partitions < 1 || *partitions > log.MaxPartitions) {
		return c.usageError("--partitions %d: want 1 to %d", *partitions, log.MaxPartitions)
	}
	config, err := parseTopicConfig(configs)
	if err != nil {
		return c.usageError("%s", err)
	}
	var unknown []string
	for _, key := range deleteConfigs {
		if !slices.Contains(log.TopicConfigNames(), key) {
			unknown = append(unknown, fmt.Sprintf("--delete-config %s: unknown config", key))
		}
	}
	if unknown != nil {
		return c.usageError("%s (known: %s)", strings.Join(unknown, "; "), strings.Join(log.TopicConfigNames(), ", "))
	}
	reset := append(zeroConfigs(configs, config), deleteConfigs...)

	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	if len(configs) > 0 || len(deleteConfigs) > 0 {
		if err := store.AlterTopicConfig(e.ctx, name, config, reset...); err != nil {
			return topicError(name, explainConfigError(err))
		}
		fmt.Fprintf(e.stdout, "Altered the configs of topic %s.\n", name)
	}
	if c.isSet("partitions") {
		if err := store.AddPartitions(e.ctx, name, *partitions); err != nil {
			var ce *log.ConfigError
			if errors.As(err, &ce) {
				return fmt.Errorf("--partitions %d: %s", *partitions, strings.TrimPrefix(ce.Problems[0], fmt.Sprintf("Partitions: %d: ", *partitions)))
			}
			return topicError(name, err)
		}
		fmt.Fprintf(e.stdout, "Topic %s has %d partitions.\n", name, *partitions)
	}
	return nil
}

// zeroConfigs returns the keys of the --config pairs (parsed into config) whose
// value is the zero of its TopicConfig field (unclean.leader.election.enable=false,
// min.compaction.lag.ms=0, sync.records=0): AlterTopicConfig reads a zero field as
// "not set", so these are reset instead, to the store's default, which in the CLI's
// store (no TopicDefaults) is that zero.
func zeroConfigs(pairs []string, config log.TopicConfig) []string {
	given, err := parseConfigPairs(pairs) // parsed without error by parseTopicConfig
	if err != nil {
		return nil
	}
	set := config.Configs()
	var zero []string
	for _, key := range slices.Sorted(maps.Keys(given)) {
		if _, ok := set[key]; !ok {
			zero = append(zero, key)
		}
	}
	return zero
}

// topicError says "unknown topic" plainly; other errors are returned as they are.
func topicError(name string, err error) error {
	if errors.Is(err, log.ErrUnknownTopic) {
		return fmt.Errorf("unknown topic %q", name)
	}
	return err
}

const deleteRecordsAbout = `Deletes the records of topic NAME below offset N in partition P (Kafka's
kafka-delete-records): N becomes the partition's first readable offset, whole
segments below it are deleted, and the change survives a restart. --offset -1
deletes every record up to the end offset (as Kafka's -1, the high watermark).
Without --partition, every partition of the topic. An offset at or below the
start offset changes nothing; one above the end offset is an error. Prints, per
partition, its new start offset (Kafka's "low_watermark"):

  partition: 0	low_watermark: 42`

func runTopicsDeleteRecords(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "NAME --offset N [--partition P]", deleteRecordsAbout)
	partition := c.Int("partition", -1, "only partition `P`")
	offset := c.Int64("offset", 0, "delete the records below offset `N` (-1: the end offset)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "NAME"); err != nil {
		return err
	}
	name := positional[0]
	if !c.isSet("offset") {
		return c.usageError("--offset is required")
	}
	if *offset < -1 {
		return c.usageError("--offset %d: want an offset, or -1 for the end offset", *offset)
	}
	if c.isSet("partition") && *partition < 0 {
		return c.usageError("--partition %d: must not be negative", *partition)
	}
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	d, err := describe(store, name)
	if err != nil {
		return err
	}
	if *partition >= len(d.Partitions) {
		return fmt.Errorf("topic %q has %d partition(s): no partition %d", name, len(d.Partitions), *partition)
	}
	for _, p := range d.Partitions {
		if *partition >= 0 && int(p.Partition) != *partition {
			continue
		}
		tp := log.TopicPartition{Topic: name, Partition: p.Partition}
		before := *offset
		if before == -1 {
			before = p.EndOffset
		}
		if err := store.DeleteRecords(e.ctx, tp, before); err != nil {
			if errors.Is(err, log.ErrOffsetOutOfRange) {
				return fmt.Errorf("partition %d: --offset %d is above its end offset %d", p.Partition, before, p.EndOffset)
			}
			return err
		}
		after, err := describe(store, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "partition: %d\tlow_watermark: %d\n", p.Partition, after.Partitions[p.Partition].StartOffset)
	}
	return nil
}
