package replica

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/internal/errs"
)

// Format: the controller state is a JSON document ending with a checksum line
// (internal/crcline):
//
//	{
//	  "version": 1,
//	  "sequence": 42,
//	  "partitions": [
//	    {"name": "orders-0", "replicas": [1, 2, 0], "leader": 1, "leaderEpoch": 3,
//	     "isr": [1, 2], "elr": [], "partitionEpoch": 9,
//	     "minInsyncReplicas": 2, "uncleanLeaderElection": false},
//	    ...
//	  ]
//	}
//	crc32c 5a1f00c3
//
// sequence counts the saves, failed ones included: where copies are kept on several
// disks, the valid copy with the greatest sequence is the state.

const controllerStateVersion = 1

type controllerDoc struct {
	Version    int                   `json:"version"`
	Sequence   int64                 `json:"sequence"`
	Partitions []controllerPartition `json:"partitions"`
}

type controllerPartition struct {
	Name                  string     `json:"name"`
	Replicas              []BrokerID `json:"replicas"`
	Leader                BrokerID   `json:"leader"`
	LeaderEpoch           int32      `json:"leaderEpoch"`
	ISR                   []BrokerID `json:"isr"`
	ELR                   []BrokerID `json:"elr"`
	LeaderRecovering      bool       `json:"leaderRecovering,omitempty"`
	Adding                []BrokerID `json:"adding,omitempty"`
	Removing              []BrokerID `json:"removing,omitempty"`
	PartitionEpoch        int32      `json:"partitionEpoch"`
	MinInsyncReplicas     int        `json:"minInsyncReplicas"`
	UncleanLeaderElection bool       `json:"uncleanLeaderElection"`
}

// encodeControllerState returns the document for partitions at sequence.
func encodeControllerState(sequence int64, partitions map[string]State) ([]byte, error) {
	doc := controllerDoc{Version: controllerStateVersion, Sequence: sequence, Partitions: []controllerPartition{}}
	for name, s := range partitions {
		doc.Partitions = append(doc.Partitions, controllerPartition{
			Name: name, Replicas: nonNil(s.Replicas), Leader: s.Leader, LeaderEpoch: s.LeaderEpoch,
			ISR: nonNil(s.ISR), ELR: nonNil(s.ELR), LeaderRecovering: s.LeaderRecovering, Adding: s.Adding, Removing: s.Removing, PartitionEpoch: s.PartitionEpoch,
			MinInsyncReplicas: s.Config.MinInsyncReplicas, UncleanLeaderElection: s.Config.UncleanLeaderElection,
		})
	}
	slices.SortFunc(doc.Partitions, func(a, b controllerPartition) int { return strings.Compare(a.Name, b.Name) })
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return crcline.Append(append(data, '\n')), nil
}

// DecodeControllerSequence returns the sequence of a controller state document, or a
// *CorruptError: what a Storage keeping several copies compares.
func DecodeControllerSequence(path string, data []byte) (int64, error) {
	sequence, _, err := decodeControllerState(path, data)
	return sequence, err
}

// decodeControllerState decodes and checks a document read from path. Any failure is
// a *CorruptError.
func decodeControllerState(path string, data []byte) (int64, map[string]State, error) {
	body, sealed, err := crcline.Split(path, data)
	if err != nil {
		return 0, nil, err
	}
	if !sealed {
		return 0, nil, errs.Corruptf(path, 0, "no checksum line")
	}
	var doc controllerDoc
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return 0, nil, errs.Corruptf(path, dec.InputOffset(), "%v", err)
	}
	if rest := body[dec.InputOffset():]; len(bytes.TrimSpace(rest)) > 0 {
		return 0, nil, errs.Corruptf(path, dec.InputOffset(), "%d bytes after the JSON", len(rest))
	}
	if doc.Version != controllerStateVersion {
		return 0, nil, errs.Corruptf(path, 0, "version %d, this code reads version %d", doc.Version, controllerStateVersion)
	}
	partitions := make(map[string]State, len(doc.Partitions))
	for _, p := range doc.Partitions {
		s := State{Replicas: p.Replicas, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, ISR: p.ISR, ELR: p.ELR, LeaderRecovering: p.LeaderRecovering, Adding: p.Adding, Removing: p.Removing,
			PartitionEpoch: p.PartitionEpoch, Config: Config{MinInsyncReplicas: p.MinInsyncReplicas, UncleanLeaderElection: p.UncleanLeaderElection}}
		if err := s.check(); err != nil {
			return 0, nil, errs.Corruptf(path, 0, "partition %q: %v", p.Name, err)
		}
		if _, dup := partitions[p.Name]; dup || p.Name == "" {
			return 0, nil, errs.Corruptf(path, 0, "partition %q listed twice or unnamed", p.Name)
		}
		partitions[p.Name] = s
	}
	return doc.Sequence, partitions, nil
}

// check reports a State that no controller writes.
func (s *State) check() error {
	if err := validateReplicas(s.Replicas); err != nil {
		return err
	}
	if s.Leader != NoBroker && (!s.Hosts(s.Leader) || !s.InSync(s.Leader)) {
		return fmt.Errorf("leader %d not an in-sync replica", s.Leader)
	}
	for _, set := range [][]BrokerID{s.ISR, s.ELR, s.Adding, s.Removing} {
		for i, b := range set {
			if !s.Hosts(b) || slices.Contains(set[:i], b) {
				return fmt.Errorf("broker %d in ISR or ELR is not an assigned replica, or listed twice", b)
			}
		}
	}
	if s.LeaderEpoch < 0 || s.PartitionEpoch < 0 || s.Config.MinInsyncReplicas < 1 {
		return fmt.Errorf("negative epoch or min.insync.replicas below 1")
	}
	return nil
}

func nonNil(ids []BrokerID) []BrokerID {
	if ids == nil {
		return []BrokerID{}
	}
	return ids
}
