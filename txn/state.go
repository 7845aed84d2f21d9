package txn

import (
	"fmt"

	"github.com/stratalog/strata/internal/topicpartition"
)

// TopicPartition names one partition of a topic; the same type as
// group.TopicPartition and log.TopicPartition.
type TopicPartition = topicpartition.TopicPartition

// State is where a transactional id's transaction stands: Kafka's
// TransactionState, with Kafka's ids, which are format (TransactionStatus in the
// stored value).
type State int8

// The states, with Kafka's ids.
const (
	// Empty: no transaction in progress; the producer id and epoch are assigned.
	Empty State = 0
	// Ongoing: partitions have been added; records may be in them.
	Ongoing State = 1
	// PrepareCommit: the commit is decided and durable; markers are being written.
	PrepareCommit State = 2
	// PrepareAbort: the abort is decided and durable; markers are being written.
	PrepareAbort State = 3
	// CompleteCommit: every commit marker is written.
	CompleteCommit State = 4
	// CompleteAbort: every abort marker is written.
	CompleteAbort State = 5
	// Dead: the transactional id expired and its tombstone is being written. Never
	// stored.
	Dead State = 6
	// PrepareEpochFence: a new instance (or the timeout) fences the producer and
	// aborts its transaction. Kafka never completes a transition to it; strata
	// neither: the fence goes straight on to PrepareAbort.
	PrepareEpochFence State = 7
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

// String returns Kafka's name of the state ("PrepareCommit").
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// valid reports whether s is one of the states.
func (s State) valid() bool { return s >= 0 && int(s) < len(stateNames) }

// validPreviousStates is Kafka's state machine: the states each state may be
// entered from.
var validPreviousStates = map[State][]State{
	Empty:         {Empty, CompleteCommit, CompleteAbort},
	Ongoing:       {Ongoing, Empty, CompleteCommit, CompleteAbort},
	PrepareCommit: {Ongoing},
	// Empty and Complete*: an abort with nothing added, which transaction
	// version 2 allows (KIP-890, Kafka 4.0's TransactionState).
	PrepareAbort:      {Ongoing, PrepareEpochFence, Empty, CompleteCommit, CompleteAbort},
	CompleteCommit:    {PrepareCommit},
	CompleteAbort:     {PrepareAbort},
	Dead:              {Empty, CompleteAbort, CompleteCommit},
	PrepareEpochFence: {Ongoing},
}

// canTransition reports whether Kafka's state machine allows from -> to.
func canTransition(from, to State) bool {
	for _, s := range validPreviousStates[to] {
		if s == from {
			return true
		}
	}
	return false
}

// expirationAllowed reports whether an id in state s may expire.
func (s State) expirationAllowed() bool {
	return s == Empty || s == CompleteCommit || s == CompleteAbort
}
