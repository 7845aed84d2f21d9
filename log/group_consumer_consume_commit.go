package log

import (
	"context"
	"errors"
)

// consumeCommit is Consume's commit after a batch (with DisableAutoCommit). A
// commit the group refuses because it rebalances (ErrIllegalGeneration: the
// member rejoins; ErrRebalanceInProgress; ErrUnknownMemberID: it was put out and
// joins again) is no error of the application's, which Consume would end on: as
// the Java consumer's poll completes a rebalance before a commit is tried again,
// Consume waits for the member's join to finish and commits again in the
// generation it settled in. Until a commit succeeds, a revocation commits what
// was processed of the partitions it takes (revoked). Other errors are returned.
func (g *GroupConsumer) consumeCommit(ctx context.Context) error {
	err := g.commitMap(ctx, g.processedOffsets())
	if err == nil {
		g.setConsumeOwes(false)
		return nil
	}
	if !refusedByRebalance(err) {
		return err
	}
	g.setConsumeOwes(true)
	// Consume waits for the group here, not for the application, as the Java
	// consumer's poll does through a rebalance: MaxPollInterval does not run.
	g.enterPoll()
	err = g.member.WaitJoin(ctx)
	g.leavePoll()
	if err != nil {
		return err
	}
	err = g.commitMap(ctx, g.processedOffsets())
	switch {
	case err == nil:
		g.setConsumeOwes(false)
	case refusedByRebalance(err):
		g.s.logger.Info("commit refused while the group rebalances: the next one commits", "group", g.opts.Group, "err", err)
		err = nil
	}
	return err
}

func (g *GroupConsumer) setConsumeOwes(owes bool) {
	g.mu.Lock()
	g.mu.consumeOwes = owes
	g.mu.Unlock()
}

// refusedByRebalance reports whether err is a commit refused because the group
// rebalances or the member is no longer in its current generation.
func refusedByRebalance(err error) bool {
	return errors.Is(err, ErrIllegalGeneration) || errors.Is(err, ErrRebalanceInProgress) || errors.Is(err, ErrUnknownMemberID)
}
