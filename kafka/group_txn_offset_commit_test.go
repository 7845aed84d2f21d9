package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupTxnOffsetCommitFencedMemberErrors sends TxnOffsetCommit with the
// consumer's member and generation (KIP-447) of a member the group does not
// know, and of an older generation: they are answered UNKNOWN_MEMBER_ID and
// ILLEGAL_GENERATION, the group coordinator's errors mapped as for OffsetCommit,
// so that a fenced consumer-producer (a zombie) learns it must rejoin.
func TestGroupTxnOffsetCommitFencedMemberErrors(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 1)
	c := ts.dial(t)
	id := joinHandshake(t, c, "g", "orders")
	joined := c.roundTrip(joinGroupRequest(9, "g", id, "orders")).(*kmsg.JoinGroupResponse)
	c.roundTrip(syncGroupRequest("g", id, joined.Generation, "orders", map[string][]int32{id: {0}}))

	initPID := kmsg.NewPtrInitProducerIDRequest()
	initPID.Version = 4
	initPID.TransactionalID = message("tx")
	initPID.TransactionTimeoutMillis = 60_000
	producer := c.roundTrip(initPID).(*kmsg.InitProducerIDResponse)
	if producer.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %s", kerr.ErrorForCode(producer.ErrorCode))
	}
	for _, tc := range []struct {
		name       string
		member     string
		generation int32
		want       *kerr.Error
	}{
		{"an unknown member", "ghost", joined.Generation, kerr.UnknownMemberID},
		{"an older generation", id, joined.Generation - 1, kerr.IllegalGeneration},
		{"the member of the generation", id, joined.Generation, nil},
	} {
		commit := kmsg.NewPtrTxnOffsetCommitRequest()
		commit.Version = 5
		commit.TransactionalID, commit.Group = "tx", "g"
		commit.ProducerID, commit.ProducerEpoch = producer.ProducerID, producer.ProducerEpoch
		commit.MemberID, commit.Generation = tc.member, tc.generation
		commit.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: "orders", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 3, LeaderEpoch: -1}}}}
		resp := c.roundTrip(commit).(*kmsg.TxnOffsetCommitResponse)
		want := int16(0)
		if tc.want != nil {
			want = tc.want.Code
		}
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != want {
			t.Errorf("TxnOffsetCommit of %s: %s, want %v", tc.name, kerr.ErrorForCode(code), tc.want)
		}
	}
}
