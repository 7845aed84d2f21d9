package main

// groups: every command here parses and checks its arguments, then returns
// errGroupsUnavailable. Once the log package has the group API, each one opens the
// store (e.openStore(c.storeDir(), mustExist, nil)) and does its work where the
// "groups:" comment stands.

func runGroupsList(e *cli, command string, args []string) error {
	c := newCommandFlags(e, command, "", "Lists the consumer groups, one name per line.")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 0, 0); err != nil {
		return err
	}
	// groups: list the store's groups.
	return errGroupsUnavailable
}

const groupsDescribeAbout = `Describes consumer group GROUP: its state, members and their assignment, and
for each partition it consumes the committed offset, the end offset and the lag
(end - committed), as kafka-consumer-groups --describe.`

func runGroupsDescribe(e *cli, command string, args []string) error {
	c := newCommandFlags(e, command, "GROUP", groupsDescribeAbout)
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "GROUP"); err != nil {
		return err
	}
	// groups: describe group positional[0].
	return errGroupsUnavailable
}

const groupsResetAbout = `Moves the committed offsets of consumer group GROUP for every partition of topic
T: to each partition's first offset (--to-earliest), its end offset (--to-latest),
or offset N (--to-offset N). The group must have no active members.`

func runGroupsResetOffsets(e *cli, command string, args []string) error {
	c := newCommandFlags(e, command, "GROUP --topic T (--to-earliest|--to-latest|--to-offset N)", groupsResetAbout)
	topic := c.String("topic", "", "move the offsets of topic `T`")
	toEarliest := c.Bool("to-earliest", false, "move to each partition's first offset")
	toLatest := c.Bool("to-latest", false, "move to each partition's end offset")
	toOffset := c.Int64("to-offset", 0, "move to offset `N`")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "GROUP"); err != nil {
		return err
	}
	if *topic == "" {
		return c.usageError("--topic is required")
	}
	targets := 0
	for _, set := range []bool{*toEarliest, *toLatest, c.isSet("to-offset")} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		return c.usageError("give exactly one of --to-earliest, --to-latest, --to-offset")
	}
	if c.isSet("to-offset") && *toOffset < 0 {
		return c.usageError("--to-offset %d: must not be negative", *toOffset)
	}
	// groups: reset group positional[0]'s committed offsets of *topic.
	return errGroupsUnavailable
}
