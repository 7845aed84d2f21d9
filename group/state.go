package group

import "fmt"

// State is a group's state in the classic group protocol (Kafka's GroupState).
//
//	            +------------------------------------------------------+
//	            |                                                      v
//	Empty --> PreparingRebalance --> CompletingRebalance --> Stable    Dead
//	  ^          |   ^                   |                    |
//	  +----------+   +-------------------+--------------------+
//
// A group is Empty without members; a join (or a leave, a session timeout, a
// subscription or partition-count change) moves it to PreparingRebalance, where the
// coordinator waits for every member to (re)join; once they have, or the rebalance
// timeout has passed, the generation is bumped and the group is CompletingRebalance,
// waiting for the leader's assignment; the leader's SyncGroup makes it Stable. A
// rebalance that ends with no members leaves it Empty. A deleted or expired group is
// Dead and forgotten.
type State int

// Group states.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

// String returns Kafka's name of the state.
func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case PreparingRebalance:
		return "PreparingRebalance"
	case CompletingRebalance:
		return "CompletingRebalance"
	case Stable:
		return "Stable"
	case Dead:
		return "Dead"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// canFollow reports whether a group may move to s from previous (Kafka's
// validPreviousStates).
func (s State) canFollow(previous State) bool {
	switch s {
	case Empty:
		return previous == PreparingRebalance
	case PreparingRebalance:
		return previous == Stable || previous == CompletingRebalance || previous == Empty
	case CompletingRebalance:
		return previous == PreparingRebalance
	case Stable:
		return previous == CompletingRebalance
	case Dead:
		return true
	}
	return false
}
