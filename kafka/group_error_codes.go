package kafka

import (
	"errors"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
)

// groupErrors maps the group coordinator's sentinels one to one to Kafka's
// codes, in the order they are checked (some match others: ErrInvalidGroupID
// matches ErrInvalidArgument, ErrCoordinatorClosed matches ErrClosed).
var groupErrors = []struct {
	err  error
	kind *kerr.Error
}{
	{group.ErrUnknownMemberID, kerr.UnknownMemberID},
	{group.ErrIllegalGeneration, kerr.IllegalGeneration},
	{group.ErrRebalanceInProgress, kerr.RebalanceInProgress},
	{group.ErrGroupNotFound, kerr.GroupIDNotFound},
	{group.ErrInconsistentProtocol, kerr.InconsistentGroupProtocol},
	{group.ErrFencedInstanceID, kerr.FencedInstanceID},
	{group.ErrMemberIDRequired, kerr.MemberIDRequired},
	{group.ErrNonEmptyGroup, kerr.NonEmptyGroup},
	{group.ErrGroupSubscribedToTopic, kerr.GroupSubscribedToTopic},
	{group.ErrCoordinatorClosed, kerr.CoordinatorNotAvailable},
	{group.ErrInvalidGroupID, kerr.InvalidGroupID},
	{group.ErrInvalidSessionTimeout, kerr.InvalidSessionTimeout},
	{group.ErrOffsetMetadataTooLarge, kerr.OffsetMetadataTooLarge},
	{group.ErrUnstableOffsetCommit, kerr.UnstableOffsetCommit},
	// The store is closed, or its offsets topic offline: no coordinator to
	// answer, as from a Kafka broker whose offsets partition is not loaded.
	{log.ErrClosed, kerr.CoordinatorNotAvailable},
	{log.ErrPartitionOffline, kerr.CoordinatorNotAvailable},
	{errShuttingDown, kerr.NotCoordinator},
	{errNotCoordinator, kerr.NotCoordinator},
}

// groupErrorKind maps an error of the group coordinator (or of getting it from
// the store) to Kafka's error; other errors as errorKind maps them.
func groupErrorKind(err error) *kerr.Error {
	for _, e := range groupErrors {
		if errors.Is(err, e.err) {
			return e.kind
		}
	}
	return errorKind(err)
}

// groupErrorCode is groupErrorKind's code, 0 for no error.
func groupErrorCode(err error) int16 {
	if err == nil {
		return 0
	}
	return groupErrorKind(err).Code
}

// groupErrorMessage is the text sent with groupErrorCode in the responses
// that carry one: the error's, nil for no error.
func groupErrorMessage(err error) *string {
	if err == nil {
		return nil
	}
	return message(err.Error())
}
