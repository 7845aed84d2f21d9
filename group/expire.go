package group

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
)

// ExpireOffsets applies Options.OffsetsRetention, as Kafka's offset cleanup does,
// and returns how many offsets it deleted (tombstones in the offsets log):
//
//   - a group of consumers outside any group (commits without a generation) loses
//     each offset once it is older than the retention;
//   - a group whose members all left loses its offsets once it has been empty for
//     the retention (counted from its last commit, if later);
//   - a group left empty without offsets is deleted, with its record.
//
// Groups with members keep everything. An offset with a pending transactional
// offset of its partition does not expire, and a group with pending
// transactional offsets is not deleted, until the transaction ends (Kafka's
// cleanupExpiredOffsets). Start's goroutine calls it every
// OffsetsRetentionCheckInterval.
func (c *Coordinator) ExpireOffsets(ctx context.Context) (int, error) {
	if c.isClosed() {
		return 0, ErrCoordinatorClosed
	}
	if c.opts.OffsetsRetention < 0 {
		return 0, nil
	}
	total := 0
	var errs []error
	for _, id := range c.knownGroups() {
		n, err := c.expireGroup(ctx, id)
		total += n
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	return total, errors.Join(errs...)
}

// knownGroups returns, sorted, the groups the coordinator or the store knows.
func (c *Coordinator) knownGroups() []string {
	c.mu.Lock()
	ids := slices.Collect(maps.Keys(c.mu.groups))
	c.mu.Unlock()
	ids = append(ids, c.store.Groups()...)
	slices.Sort(ids)
	return slices.Compact(ids)
}

func (c *Coordinator) expireGroup(ctx context.Context, id string) (int, error) {
	unlock, err := c.lockGroup(ctx, id)
	if err != nil {
		return 0, err
	}
	defer unlock()
	offsets := c.store.Offsets(id)
	_, hasRecord := c.store.Group(id)
	pending := c.store.PendingTxnPartitions(id)

	c.mu.Lock()
	now := c.now()
	retention := c.opts.OffsetsRetention
	g := c.mu.groups[id]
	if g == nil || g.state != Empty {
		c.mu.Unlock()
		return 0, nil
	}
	var expired []TopicPartition
	for tp, o := range offsets {
		if slices.Contains(pending, tp) {
			continue
		}
		since := o.CommitTime // consumers outside a group: the commit's age
		if g.protocolType != "" && g.stateTime.After(since) {
			since = g.stateTime // a group: how long it has been empty
		}
		if !now.Before(since.Add(retention)) {
			expired = append(expired, tp)
		}
	}
	removeGroup := len(expired) == len(offsets) && len(pending) == 0
	c.mu.Unlock()

	slices.SortFunc(expired, compareTopicPartitions)
	w := Write{Deletes: expired, DeleteGroup: removeGroup && hasRecord}
	if err := c.store.Write(ctx, id, w); err != nil {
		return 0, errorf("strata/group: expiring offsets of group %q: %w", id, err)
	}
	if len(expired) > 0 {
		c.logger.Info("strata/group: offsets expired", slog.String("group", id), slog.Int("offsets", len(expired)))
	}
	if removeGroup {
		c.forgetEmptyGroup(id, g)
	}
	return len(expired), nil
}

// forgetEmptyGroup removes g, if it is still the group named id and still empty:
// it is Dead.
func (c *Coordinator) forgetEmptyGroup(id string, g *groupMetadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.groups[id] == g && g.state == Empty {
		g.transition(Dead, c.now())
		delete(c.mu.groups, id)
	}
}

// DeleteTopicOffsets deletes every group's committed offsets of topic (tombstones
// in the offsets log), pending transactional offsets included, and returns how
// many committed offsets it deleted. The log package calls it when it deletes a
// topic, as Kafka does.
func (c *Coordinator) DeleteTopicOffsets(ctx context.Context, topic string) (int, error) {
	if c.isClosed() {
		return 0, ErrCoordinatorClosed
	}
	total := 0
	for _, id := range c.knownGroups() {
		n, err := c.deleteGroupTopic(ctx, id, topic)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (c *Coordinator) deleteGroupTopic(ctx context.Context, id, topic string) (int, error) {
	unlock, err := c.lockGroup(ctx, id)
	if err != nil {
		return 0, err
	}
	defer unlock()
	var doomed []TopicPartition
	for tp := range c.store.Offsets(id) {
		if tp.Topic == topic {
			doomed = append(doomed, tp)
		}
	}
	counted := len(doomed)
	for _, tp := range c.store.PendingTxnPartitions(id) {
		if tp.Topic == topic && !slices.Contains(doomed, tp) {
			doomed = append(doomed, tp) // its pending offsets go too, as in Kafka
		}
	}
	if len(doomed) == 0 {
		return 0, nil
	}
	slices.SortFunc(doomed, compareTopicPartitions)
	if err := c.store.Write(ctx, id, Write{Deletes: doomed}); err != nil {
		return 0, errorf("strata/group: deleting offsets of topic %q in group %q: %w", topic, id, err)
	}
	return counted, nil
}

// DeleteGroup deletes an empty group: its committed offsets, its pending
// transactional offsets (a tombstone of each partition, which the transaction's
// COMMIT no longer brings back) and its record (Kafka's DeleteGroups). Errors: ErrGroupNotFound, ErrNonEmptyGroup for a group
// with members, ErrCoordinatorClosed.
func (c *Coordinator) DeleteGroup(ctx context.Context, group string) error {
	if err := validateGroupID(group); err != nil {
		return err
	}
	unlock, err := c.lockGroup(ctx, group)
	if err != nil {
		return err
	}
	defer unlock()
	c.mu.Lock()
	closed, g := c.mu.closed, c.mu.groups[group]
	c.mu.Unlock()
	switch {
	case closed:
		return ErrCoordinatorClosed
	case g == nil:
		return ErrGroupNotFound
	case g.state != Empty:
		return ErrNonEmptyGroup
	}
	offsets := c.store.Offsets(group)
	_, hasRecord := c.store.Group(group)
	deletes := slices.Collect(maps.Keys(offsets))
	for _, tp := range c.store.PendingTxnPartitions(group) {
		if _, ok := offsets[tp]; !ok {
			deletes = append(deletes, tp)
		}
	}
	slices.SortFunc(deletes, compareTopicPartitions)
	w := Write{Deletes: deletes, DeleteGroup: hasRecord}
	if err := c.store.Write(ctx, group, w); err != nil {
		return errorf("strata/group: deleting group %q: %w", group, err)
	}
	c.forgetEmptyGroup(group, g)
	return nil
}

// Flush writes the record of every group whose state changed since its record was
// last written: its generation, protocol, members and since when it is in its state
// (which is how offset retention knows, after a restart, how long a group has been
// empty). Start's goroutine flushes after every change, and Close flushes too.
func (c *Coordinator) Flush(ctx context.Context) error {
	if c.isClosed() {
		return ErrCoordinatorClosed
	}
	return c.flush(ctx)
}

func (c *Coordinator) flush(ctx context.Context) error {
	c.mu.Lock()
	var dirty []string
	for id, g := range c.mu.groups {
		if g.dirty {
			dirty = append(dirty, id)
		}
	}
	c.mu.Unlock()
	slices.Sort(dirty)
	var errs []error
	for _, id := range dirty {
		if err := c.flushGroup(ctx, id); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Coordinator) flushGroup(ctx context.Context, id string) error {
	unlock, err := c.lockGroup(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	c.mu.Lock()
	g := c.mu.groups[id]
	if g == nil || !g.dirty {
		c.mu.Unlock()
		return nil
	}
	record := g.record()
	g.dirty = false
	c.mu.Unlock()
	if err := c.store.Write(ctx, id, Write{Group: &record}); err != nil {
		c.mu.Lock()
		g.dirty = true
		c.mu.Unlock()
		return errorf("strata/group: writing record of group %q: %w", id, err)
	}
	return nil
}
