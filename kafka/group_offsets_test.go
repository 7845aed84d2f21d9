package kafka

import (
	"context"
	"testing"

	"github.com/stratalog/strata/group"
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupOffsetFetchRequireStable commits an offset inside a transaction that
// has not ended (through the store's coordinator, as TxnOffsetCommit will): an
// OffsetFetch with RequireStable (v7+, a read_committed consumer) answers
// UNSTABLE_OFFSET_COMMIT for that partition and the others' offsets; one without
// it answers -1 for it, the pending offset being invisible.
func TestGroupOffsetFetchRequireStable(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 2)
	c := ts.dial(t)
	if code := commitOne(c, "txn", "", -1, "orders", 0, 5); code != 0 {
		t.Fatalf("commit: %s", kerr.ErrorForCode(code))
	}
	coordinator, err := ts.store.GroupCoordinator()
	if err != nil {
		t.Fatal(err)
	}
	err = coordinator.TxnCommitOffsets(context.Background(), group.TxnCommitRequest{
		Group: "txn", ProducerID: 1000, ProducerEpoch: 0, Generation: -1,
		Offsets: map[log.TopicPartition]group.OffsetAndMetadata{{Topic: "orders", Partition: 1}: {Offset: 7}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, stable := range []bool{true, false} {
		for _, version := range []int16{7, 9} {
			fetch := kmsg.NewPtrOffsetFetchRequest()
			fetch.Version = version
			fetch.RequireStable = stable
			fetch.Group = "txn"
			fetch.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "orders", Partitions: []int32{0, 1}}}
			fetch.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "txn", MemberEpoch: -1, Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "orders", Partitions: []int32{0, 1}}}}}
			resp := c.roundTrip(fetch).(*kmsg.OffsetFetchResponse)
			type answer struct {
				offset int64
				code   int16
			}
			var got []answer
			if version < 8 {
				for _, p := range resp.Topics[0].Partitions {
					got = append(got, answer{p.Offset, p.ErrorCode})
				}
			} else {
				for _, p := range resp.Groups[0].Topics[0].Partitions {
					got = append(got, answer{p.Offset, p.ErrorCode})
				}
			}
			want := []answer{{5, 0}, {-1, 0}}
			if stable {
				want[1].code = kerr.UnstableOffsetCommit.Code
			}
			if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("v%d RequireStable=%v: %v, want %v", version, stable, got, want)
			}
		}
	}
}

// TestGroupOffsetCommitOfUnknownPartitions commits offsets of partitions that
// exist and of partitions that do not in one request: the first are committed,
// the others answered UNKNOWN_TOPIC_OR_PARTITION, as by Kafka.
func TestGroupOffsetCommitOfUnknownPartitions(t *testing.T) {
	ts := startServer(t, nil, nil)
	createTestTopic(t, ts.store, "orders", 1)
	c := ts.dial(t)
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Version = 9
	commit.Group, commit.Generation = "mixed", -1
	commit.Topics = []kmsg.OffsetCommitRequestTopic{
		{Topic: "orders", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 3}, {Partition: 1, Offset: 3}}},
		{Topic: "missing", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 3}}},
	}
	resp := c.roundTrip(commit).(*kmsg.OffsetCommitResponse)
	codes := []int16{resp.Topics[0].Partitions[0].ErrorCode, resp.Topics[0].Partitions[1].ErrorCode, resp.Topics[1].Partitions[0].ErrorCode}
	unknown := kerr.UnknownTopicOrPartition.Code
	if codes[0] != 0 || codes[1] != unknown || codes[2] != unknown {
		t.Errorf("codes %v, want [0 %d %d]", codes, unknown, unknown)
	}
	offsets, err := ts.store.CommittedOffsets(context.Background(), "mixed")
	if err != nil || len(offsets) != 1 || offsets[log.TopicPartition{Topic: "orders"}].Offset != 3 {
		t.Errorf("committed %v %v, want orders-0 at 3 only", offsets, err)
	}
}
