package group

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// client is the protocol logic of an in-process consumer, without any waiting: it
// builds the requests a member sends and digests the responses, tracking what the
// member owns. Member drives it and waits for the responses; tests drive it step by
// step. Ownership changes only through drop and add, which the driver calls after
// the rebalance callbacks, so that at every instant owned is what the member
// consumes.
type client struct {
	c                *Coordinator
	group            string
	clientID         string
	instanceID       string
	assignors        []Assignor
	protocol         RebalanceProtocol
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration

	topics           []string
	memberID         string
	generation       int32 // the generation owned was assigned in
	joinedGeneration int32 // the generation of the last JoinGroup response
	selected         string
	owned            []TopicPartition // sorted
	// pending are the partitions the last SyncGroup added that the driver has
	// not finished adding (OnAssigned not returned).
	pending []TopicPartition

	// previous and previousGeneration are the assignment an eager member revoked
	// before it rejoined, for the sticky assignor's user data.
	previous           []TopicPartition
	previousGeneration int32

	// rejoin says the member must join (again): it never joined, the group
	// rebalances, its subscription changed, or it revoked partitions.
	rejoin bool
	// joinSent says a JoinGroup was sent since the member last left: a static
	// member that gave up its join before learning its member id may be in the
	// group all the same, and leaves by its instance id.
	joinSent bool
	// onRebalance is the JoinRequest.OnRebalance of the member's requests.
	onRebalance func()
}

func newClient(c *Coordinator, cfg MemberConfig) *client {
	return &client{
		c:                  c,
		group:              cfg.Group,
		clientID:           cfg.ClientID,
		instanceID:         cfg.InstanceID,
		assignors:          cfg.Assignors,
		protocol:           rebalanceProtocolOf(cfg.Assignors),
		sessionTimeout:     cfg.SessionTimeout,
		rebalanceTimeout:   cfg.RebalanceTimeout,
		topics:             uniqueTopics(cfg.Topics),
		generation:         noGeneration,
		joinedGeneration:   noGeneration,
		previousGeneration: noGeneration,
		rejoin:             true,
	}
}

// outcome is what the driver must do after a response.
type outcome struct {
	lost     []TopicPartition // drop these at once: another member may own them now
	retry    bool             // send a new JoinGroup
	lead     bool             // after a JoinGroup: compute the assignment (assignAsLeader)
	assignor Assignor         // the assignor to lead with
	revoked  []TopicPartition // after a SyncGroup: revoke (callback, then drop)
	added    []TopicPartition // after a SyncGroup: add (then callback)
	done     bool             // after a SyncGroup: the member is settled
	err      error            // give up the Join
}

// revokeBeforeJoin returns the partitions to revoke before sending a JoinGroup:
// everything under the eager protocol, nothing under the cooperative one.
func (cl *client) revokeBeforeJoin() []TopicPartition {
	if cl.protocol != Eager {
		return nil
	}
	cl.previous, cl.previousGeneration = slices.Clone(cl.owned), cl.generation
	if len(cl.owned) == 0 {
		return nil
	}
	return slices.Clone(cl.owned)
}

// joinRequest builds the JoinGroup: one protocol per assignor, each with the
// member's subscription.
func (cl *client) joinRequest() JoinRequest {
	cl.rejoin = false
	cl.joinSent = true
	req := JoinRequest{
		Group:            cl.group,
		MemberID:         cl.memberID,
		InstanceID:       cl.instanceID,
		ClientID:         cl.clientID,
		ProtocolType:     ProtocolTypeConsumer,
		SessionTimeout:   cl.sessionTimeout,
		RebalanceTimeout: cl.rebalanceTimeout,
		RequireMemberID:  true,
		OnRebalance:      cl.onRebalance,
	}
	for _, a := range cl.assignors {
		s := Subscription{Topics: cl.topics, Generation: cl.generation}
		if cl.protocol == Cooperative {
			s.Owned = cl.owned
		}
		if u, ok := a.(UserDataAssignor); ok && cl.protocol == Eager {
			s.UserData = u.UserData(cl.previous, cl.previousGeneration)
		}
		req.Protocols = append(req.Protocols, Protocol{Name: a.Name(), Metadata: EncodeSubscription(s)})
	}
	return req
}

// onJoin digests a JoinGroup response.
func (cl *client) onJoin(resp JoinResponse, err error) outcome {
	switch {
	case err == nil:
	case errors.Is(err, ErrMemberIDRequired):
		cl.memberID = resp.MemberID // join again with it: the member-id handshake
		return outcome{retry: true}
	case errors.Is(err, ErrUnknownMemberID):
		return outcome{lost: cl.forget(), retry: true}
	case errors.Is(err, ErrRebalanceInProgress):
		return outcome{retry: true}
	case errors.Is(err, ErrFencedInstanceID):
		return outcome{lost: cl.forget(), err: err}
	default:
		return outcome{err: err}
	}
	cl.memberID = resp.MemberID
	cl.joinedGeneration = resp.Generation
	cl.selected = resp.Protocol
	if resp.LeaderID != resp.MemberID {
		return outcome{}
	}
	for _, a := range cl.assignors {
		if a.Name() == resp.Protocol {
			return outcome{lead: true, assignor: a}
		}
	}
	return outcome{err: fmt.Errorf("%w: the group selected protocol %q, not one of this member's", ErrInconsistentProtocol, resp.Protocol)}
}

// syncRequest builds the SyncGroup of the generation just joined; assignments are
// the leader's (nil for a follower).
func (cl *client) syncRequest(assignments map[string][]byte) SyncRequest {
	return SyncRequest{
		Group:        cl.group,
		MemberID:     cl.memberID,
		InstanceID:   cl.instanceID,
		Generation:   cl.joinedGeneration,
		ProtocolType: ProtocolTypeConsumer,
		Protocol:     cl.selected,
		Assignments:  assignments,
	}
}

// onSync digests a SyncGroup response: what to revoke and add, and whether the
// member is settled. A cooperative member that revokes anything rejoins, so that
// the partitions it gave up can be assigned to their new owners.
func (cl *client) onSync(resp SyncResponse, err error) outcome {
	switch {
	case err == nil:
	case errors.Is(err, ErrRebalanceInProgress):
		return outcome{retry: true}
	case errors.Is(err, ErrIllegalGeneration):
		lost := slices.Clone(cl.owned)
		cl.generation = noGeneration
		return outcome{lost: lost, retry: true}
	case errors.Is(err, ErrUnknownMemberID):
		return outcome{lost: cl.forget(), retry: true}
	case errors.Is(err, ErrFencedInstanceID):
		return outcome{lost: cl.forget(), err: err}
	default:
		return outcome{err: err}
	}
	a, err := DecodeAssignment(resp.Assignment)
	if err != nil {
		return outcome{err: err}
	}
	cl.generation = cl.joinedGeneration
	o := outcome{revoked: minus(cl.owned, a.Partitions), added: minus(a.Partitions, cl.owned)}
	cl.pending = slices.Clone(o.added)
	if len(o.revoked) > 0 {
		cl.rejoin = true
	}
	o.done = !cl.rejoin
	o.retry = cl.rejoin
	return o
}

// heartbeatRequest returns the Heartbeat to send; false if the member is not in a
// generation.
func (cl *client) heartbeatRequest() (HeartbeatRequest, bool) {
	if cl.memberID == "" || cl.generation == noGeneration {
		return HeartbeatRequest{}, false
	}
	return HeartbeatRequest{Group: cl.group, MemberID: cl.memberID, InstanceID: cl.instanceID, Generation: cl.generation}, true
}

// onHeartbeat digests a Heartbeat's result.
func (cl *client) onHeartbeat(err error) outcome {
	switch {
	case err == nil:
		return outcome{}
	case errors.Is(err, ErrRebalanceInProgress):
		cl.rejoin = true
		return outcome{}
	case errors.Is(err, ErrUnknownMemberID), errors.Is(err, ErrFencedInstanceID):
		return outcome{lost: cl.forget()}
	case errors.Is(err, ErrIllegalGeneration):
		lost := slices.Clone(cl.owned)
		cl.generation = noGeneration
		cl.rejoin = true
		return outcome{lost: lost}
	}
	return outcome{}
}

// forget makes the member a stranger to the group (its member id is unknown or
// fenced) and returns what it owned, which is lost.
func (cl *client) forget() []TopicPartition {
	lost := slices.Clone(cl.owned)
	cl.memberID = ""
	cl.generation = noGeneration
	cl.pending = nil
	cl.rejoin = true
	return lost
}

// drop removes tps from what the member owns.
func (cl *client) drop(tps []TopicPartition) { cl.owned = minus(cl.owned, tps) }

// add adds tps to what the member owns.
func (cl *client) add(tps []TopicPartition) {
	cl.owned = append(cl.owned, tps...)
	slices.SortFunc(cl.owned, compareTopicPartitions)
	cl.owned = slices.Compact(cl.owned)
}

// subscribe changes the subscription; the member must rejoin.
func (cl *client) subscribe(topics []string) {
	cl.topics = uniqueTopics(topics)
	cl.rejoin = true
}

// left records that the member left the group.
func (cl *client) left() {
	cl.joinSent = false
	cl.memberID = ""
	cl.generation = noGeneration
	cl.pending = nil
	cl.rejoin = true
}
