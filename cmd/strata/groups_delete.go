package main

import (
	"errors"
	"fmt"

	"github.com/stratalog/strata/log"
)

const groupsDeleteAbout = `Deletes consumer group GROUP and its committed offsets, as
kafka-consumer-groups --delete does. Only a group without members can be deleted;
while the CLI holds the store no application's consumer is in a group, so that is
every group here.`

func runGroupsDelete(e *cli, command string, args []string) (err error) {
	c := newCommandFlags(e, command, "GROUP", groupsDeleteAbout)
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if err := c.needArgs(positional, 1, 1, "GROUP"); err != nil {
		return err
	}
	name := positional[0]
	store, err := e.openStore(c.storeDir(), mustExist, nil)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	if err := store.DeleteGroup(e.ctx, name); err != nil {
		switch {
		case errors.Is(err, log.ErrGroupNotFound):
			return fmt.Errorf("unknown group %q", name)
		case errors.Is(err, log.ErrNonEmptyGroup):
			return activeGroupError(name, "active", -1)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted group %s.\n", name)
	return nil
}
