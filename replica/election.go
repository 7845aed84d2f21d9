package replica

import "slices"

// The controller's decisions are pure functions of a partition's State and of which
// brokers are online, kept here apart from the machinery that applies them, so that
// tests can check them case by case. They follow Kafka 4 (KRaft with KIP-966):
//
//   - a replica that goes offline leaves the ISR at once; so does one its leader
//     reports lagging (ISR shrink), and one rejoins when its leader reports it
//     caught up (ISR expand);
//   - while the ISR is below MinInsyncReplicas the high watermark cannot advance, so
//     a replica that leaves the ISR then still holds every committed record: it
//     becomes an eligible leader replica (ELR). Once the ISR is back at
//     MinInsyncReplicas the ELR is emptied;
//   - a clean election takes the first online replica, in assignment order, of the
//     ISR, then of the ELR; an unclean one (opted into) any online replica;
//   - every change of leader bumps the leader epoch; every change bumps the
//     partition epoch.

// electionKind says where a leader came from.
type electionKind int

const (
	electedNone electionKind = iota
	electedISR
	electedELR
	electedUnclean
)

// electLeader chooses a leader among the online replicas of s.
func electLeader(s *State, online func(BrokerID) bool) (BrokerID, electionKind) {
	for _, b := range s.Replicas {
		if online(b) && s.InSync(b) {
			return b, electedISR
		}
	}
	for _, b := range s.Replicas {
		if online(b) && slices.Contains(s.ELR, b) {
			return b, electedELR
		}
	}
	if s.Config.UncleanLeaderElection {
		for _, b := range s.Replicas {
			if online(b) {
				return b, electedUnclean
			}
		}
	}
	return NoBroker, electedNone
}

// withISR returns s with isr as its ISR, moving the replicas that leave it into the
// ELR while the new ISR is below MinInsyncReplicas, emptying the ELR once it is not,
// and taking the replicas that join out of the ELR.
func withISR(s State, isr []BrokerID) State {
	next := s.Clone()
	next.ISR = slices.Clone(isr)
	if len(isr) >= s.Config.MinInsyncReplicas {
		next.ELR = nil
	} else {
		for _, b := range s.ISR {
			if !slices.Contains(isr, b) && !slices.Contains(next.ELR, b) {
				next.ELR = append(next.ELR, b)
			}
		}
	}
	next.ELR = slices.DeleteFunc(next.ELR, func(b BrokerID) bool { return slices.Contains(isr, b) })
	return next
}

// withLeader returns s led by leader, elected as kind, with a new leader epoch.
func withLeader(s State, leader BrokerID, kind electionKind) State {
	next := s.Clone()
	next.Leader = leader
	next.LeaderEpoch++
	next.LeaderRecovering = kind == electedUnclean
	switch kind {
	case electedELR:
		// The ELR member holds every committed record; it starts the ISR again. If
		// that ISR of one reaches MinInsyncReplicas, the high watermark advances
		// without the other ELR members, who leave the ELR (withISR).
		next = withISR(next, []BrokerID{leader})
	case electedUnclean:
		next.ISR = []BrokerID{leader}
		next.ELR = nil
	}
	return next
}

// reconcile returns the state s should have given which brokers are online: offline
// replicas out of the ISR, and a leader elected if the current one is offline or
// missing. changed is false if s stands.
func reconcile(s State, online func(BrokerID) bool) (State, bool) {
	next := s
	isr := slices.DeleteFunc(slices.Clone(s.ISR), func(b BrokerID) bool { return !online(b) })
	if len(isr) != len(s.ISR) {
		next = withISR(s, isr)
	}
	if next.Leader != NoBroker && online(next.Leader) && next.InSync(next.Leader) {
		return bump(s, next)
	}
	leader, kind := electLeader(&next, online)
	if leader != next.Leader {
		if leader == NoBroker {
			next = next.Clone()
			next.Leader = NoBroker
			next.LeaderEpoch++
		} else {
			next = withLeader(next, leader, kind)
		}
	}
	return bump(s, next)
}

// electPreferred returns s led by its preferred replica, if that replica is online,
// in the ISR and not leading already.
func electPreferred(s State, online func(BrokerID) bool) (State, bool) {
	p := s.PreferredLeader()
	if p == NoBroker || p == s.Leader || !online(p) || !s.InSync(p) {
		return s, false
	}
	return bump(s, withLeader(s, p, electedISR))
}

// reassigned returns s reassigned to target (KIP-455): the replicas not there yet
// join at once as followers (Adding), the ones leaving stay until every target
// replica is in sync (Removing); completeReassignment finishes it.
func reassigned(s State, target []BrokerID) State {
	next := s.Clone()
	next.Replicas = slices.Clone(target)
	next.Removing = nil
	for _, b := range s.Replicas {
		if !slices.Contains(target, b) {
			next.Replicas = append(next.Replicas, b)
			next.Removing = append(next.Removing, b)
		}
	}
	next.Adding = slices.DeleteFunc(slices.Clone(target), func(b BrokerID) bool { return slices.Contains(s.Replicas, b) })
	return completeReassignment(next)
}

// completeReassignment finishes a reassignment once every target replica is in
// the ISR: the replicas are the target's, the ISR and ELR lose the others, and a
// leader leaving gives the leadership to the first target replica in sync.
func completeReassignment(s State) State {
	if len(s.Adding) == 0 && len(s.Removing) == 0 {
		return s
	}
	target := s.Target()
	for _, b := range target {
		if !s.InSync(b) {
			return s
		}
	}
	next := s.Clone()
	next.Replicas = target
	next.Adding, next.Removing = nil, nil
	next.ISR = slices.DeleteFunc(next.ISR, func(b BrokerID) bool { return !slices.Contains(target, b) })
	next.ELR = slices.DeleteFunc(next.ELR, func(b BrokerID) bool { return !slices.Contains(target, b) })
	if next.Leader != NoBroker && !slices.Contains(target, next.Leader) {
		return withLeader(next, next.ISR[0], electedISR)
	}
	return next
}

// bump returns next with a new partition epoch if it differs from s.
func bump(s, next State) (State, bool) {
	if next.Leader == s.Leader && next.LeaderEpoch == s.LeaderEpoch && slices.Equal(next.ISR, s.ISR) &&
		slices.Equal(next.ELR, s.ELR) && slices.Equal(next.Replicas, s.Replicas) &&
		slices.Equal(next.Adding, s.Adding) && slices.Equal(next.Removing, s.Removing) && next.LeaderRecovering == s.LeaderRecovering {
		return s, false
	}
	next.PartitionEpoch = s.PartitionEpoch + 1
	return next, true
}

// withoutReplicaData returns s once broker's replica lost its records: out of the
// ISR and the ELR (not eligible: it holds nothing), and, if it led, replaced by a
// replica elected without it.
func withoutReplicaData(s State, broker BrokerID, online func(BrokerID) bool) State {
	next := s.Clone()
	next.ISR = slices.DeleteFunc(next.ISR, func(b BrokerID) bool { return b == broker })
	next.ELR = slices.DeleteFunc(next.ELR, func(b BrokerID) bool { return b == broker })
	if next.Leader != broker {
		return next
	}
	others := func(b BrokerID) bool { return b != broker && online(b) }
	leader, kind := electLeader(&next, others)
	if leader == NoBroker {
		next.Leader = NoBroker
		next.LeaderEpoch++
		return next
	}
	return withLeader(next, leader, kind)
}
