package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestApiVersionsAdvertisesServedVersions checks ApiVersions at its lowest and
// highest served versions: it lists exactly the apis table.
func TestApiVersionsAdvertisesServedVersions(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	for _, version := range []int16{0, 4, 5} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = version
		req.ClientSoftwareName, req.ClientSoftwareVersion = "strata-test", "1.0"
		resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
		if resp.ErrorCode != 0 || len(resp.ApiKeys) != len(apis) {
			t.Fatalf("v%d: error %d, %d keys, want 0 and %d", version, resp.ErrorCode, len(resp.ApiKeys), len(apis))
		}
		for i, k := range resp.ApiKeys {
			if a := apis[i]; k.ApiKey != a.key.Int16() || k.MinVersion != a.minVersion || k.MaxVersion != a.maxVersion {
				t.Errorf("v%d: key %+v, want %+v", version, k, a)
			}
		}
	}
	bad := kmsg.NewPtrApiVersionsRequest()
	bad.Version = 3
	bad.ClientSoftwareName, bad.ClientSoftwareVersion = "-bad name-", "1"
	if resp := c.roundTrip(bad).(*kmsg.ApiVersionsResponse); resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("a bad client software name: error %d, want INVALID_REQUEST", resp.ErrorCode)
	}
}

// TestApiVersionsUnknownVersionDowngrades sends ApiVersions at a version above
// the served ones (with a body the server cannot know): as Kafka, it answers a
// version 0 response with UNSUPPORTED_VERSION and the served APIs, and keeps the
// connection, so that the client asks again at a version both know.
func TestApiVersionsUnknownVersionDowngrades(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	v4 := kmsg.NewPtrApiVersionsRequest()
	v4.Version = 4
	v4.ClientSoftwareName, v4.ClientSoftwareVersion = "strata-test", "1.0"
	future := frame(v4, 5)                     // a flexible header, as a client of a newer version sends
	binary.BigEndian.PutUint16(future[6:], 99) // the version
	future = append(future, 0xde, 0xad, 0xbe, 0xef)
	binary.BigEndian.PutUint32(future, uint32(len(future)-4))
	c.send(future)
	v0 := kmsg.NewPtrApiVersionsRequest()
	v0.Version = 0
	resp, correlationID := c.readResponse(v0)
	versions := resp.(*kmsg.ApiVersionsResponse)
	if correlationID != 5 || versions.ErrorCode != kerr.UnsupportedVersion.Code || len(versions.ApiKeys) != len(apis) {
		t.Fatalf("correlation %d error %d keys %d, want 5, UNSUPPORTED_VERSION and %d", correlationID, versions.ErrorCode, len(versions.ApiKeys), len(apis))
	}
	if resp := c.roundTrip(v4).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		t.Errorf("after downgrading: error %d", resp.ErrorCode)
	}
}

// TestRawRequestsAtLowestAndHighestVersions sends every served API, except
// ApiVersions (above), at its lowest and highest served version, and checks the
// answers.
func TestRawRequestsAtLowestAndHighestVersions(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	ctx := context.Background()
	for _, version := range []string{"lowest", "highest"} {
		at := func(key kmsg.Key) int16 {
			a := lookupAPI(key.Int16())
			if version == "lowest" {
				return a.minVersion
			}
			return a.maxVersion
		}
		topicName := "raw-" + version
		t.Run(version, func(t *testing.T) {
			create := kmsg.NewPtrCreateTopicsRequest()
			create.Version = at(kmsg.CreateTopics)
			topic := kmsg.NewCreateTopicsRequestTopic()
			topic.Topic, topic.NumPartitions, topic.ReplicationFactor = topicName, 2, -1
			topic.Configs = []kmsg.CreateTopicsRequestTopicConfig{{Name: log.ConfigSegmentBytes, Value: kmsg.StringPtr("1048576")}}
			create.Topics = append(create.Topics, topic)
			created := c.roundTrip(create).(*kmsg.CreateTopicsResponse)
			if code := created.Topics[0].ErrorCode; code != 0 {
				t.Fatalf("CreateTopics v%d: error %d", create.Version, code)
			}
			topicID, err := ts.store.TopicID(topicName)
			if err != nil {
				t.Fatal(err)
			}
			if create.Version >= 7 && created.Topics[0].TopicID != topicID {
				t.Errorf("CreateTopics v%d: topic ID %x, want %x", create.Version, created.Topics[0].TopicID, topicID)
			}

			metadata := kmsg.NewPtrMetadataRequest()
			metadata.Version = at(kmsg.Metadata)
			metadata.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(topicName)}}
			if metadata.Version >= 10 {
				metadata.Topics = append(metadata.Topics, kmsg.MetadataRequestTopic{TopicID: topicID})
			}
			meta := c.roundTrip(metadata).(*kmsg.MetadataResponse)
			if len(meta.Brokers) != 1 || len(meta.Topics) != len(metadata.Topics) || len(meta.Topics[0].Partitions) != 2 || meta.Topics[0].ErrorCode != 0 {
				t.Fatalf("Metadata v%d: %+v", metadata.Version, meta)
			}
			for _, topic := range meta.Topics[1:] { // asked by ID
				if topic.ErrorCode != 0 || topic.Topic == nil || *topic.Topic != topicName || topic.TopicID != topicID || len(topic.Partitions) != 2 {
					t.Errorf("Metadata v%d by topic ID: %+v", metadata.Version, topic)
				}
			}
			if metadata.Version >= 10 && meta.Topics[0].TopicID != topicID {
				t.Errorf("Metadata v%d: topic ID %x, want %x", metadata.Version, meta.Topics[0].TopicID, topicID)
			}

			// Produce and Fetch, on partition 1 (by topic ID from Produce v13 and Fetch v13).
			produce := kmsg.NewPtrProduceRequest()
			produce.Version, produce.Acks, produce.TimeoutMillis = at(kmsg.Produce), -1, 30_000
			produce.Topics = []kmsg.ProduceRequestTopic{{Topic: topicName, TopicID: topicID,
				Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 1, Records: testBatch(t, "p0", "p1")}}}}
			produced := c.roundTrip(produce).(*kmsg.ProduceResponse)
			if p := produced.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 0 {
				t.Errorf("Produce v%d: %+v", produce.Version, p)
			}
			fetch := kmsg.NewPtrFetchRequest()
			fetch.Version = at(kmsg.Fetch)
			fetchPartition := kmsg.NewFetchRequestTopicPartition()
			fetchPartition.Partition, fetchPartition.PartitionMaxBytes = 1, 1<<20
			fetch.Topics = []kmsg.FetchRequestTopic{{Topic: topicName, TopicID: topicID, Partitions: []kmsg.FetchRequestTopicPartition{fetchPartition}}}
			fetched := c.roundTrip(fetch).(*kmsg.FetchResponse)
			if p := fetched.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.HighWatermark != 2 || !bytes.Contains(p.RecordBatches, []byte("p1")) ||
				fetch.Version >= 13 && fetched.Topics[0].TopicID != topicID {
				t.Errorf("Fetch v%d: %+v", fetch.Version, fetched.Topics[0])
			}

			for i := range 3 {
				err := ts.store.Produce(ctx, &log.Record{Topic: topicName, Partition: 0, ExplicitPartition: true,
					Value: fmt.Appendf(nil, "%d", i), Timestamp: time.UnixMilli(int64(1000 * (i + 1)))})
				if err != nil {
					t.Fatal(err)
				}
			}
			list := kmsg.NewPtrListOffsetsRequest()
			list.Version = at(kmsg.ListOffsets)
			listTopic := kmsg.NewListOffsetsRequestTopic()
			listTopic.Topic = topicName
			for _, ts := range []int64{-2, -1, 1500, 99_000} {
				p := kmsg.NewListOffsetsRequestTopicPartition()
				p.Partition, p.Timestamp = 0, ts
				listTopic.Partitions = append(listTopic.Partitions, p)
			}
			list.Topics = append(list.Topics, listTopic)
			listed := c.roundTrip(list).(*kmsg.ListOffsetsResponse)
			want := []struct{ offset, timestamp int64 }{{0, -1}, {3, -1}, {1, 2000}, {-1, -1}}
			for i, p := range listed.Topics[0].Partitions {
				if p.ErrorCode != 0 || p.Offset != want[i].offset || p.Timestamp != want[i].timestamp {
					t.Errorf("ListOffsets v%d query %d: error %d offset %d timestamp %d, want offset %d timestamp %d",
						list.Version, i, p.ErrorCode, p.Offset, p.Timestamp, want[i].offset, want[i].timestamp)
				}
			}

			describe := kmsg.NewPtrDescribeConfigsRequest()
			describe.Version = at(kmsg.DescribeConfigs)
			resource := kmsg.NewDescribeConfigsRequestResource()
			resource.ResourceType, resource.ResourceName = kmsg.ConfigResourceTypeTopic, topicName
			resource.ConfigNames = []string{log.ConfigSegmentBytes}
			describe.Resources = append(describe.Resources, resource)
			described := c.roundTrip(describe).(*kmsg.DescribeConfigsResponse)
			if r := described.Resources[0]; r.ErrorCode != 0 || len(r.Configs) != 1 || *r.Configs[0].Value != "1048576" {
				t.Errorf("DescribeConfigs v%d: %+v", describe.Version, r)
			}

			deleteRecords := kmsg.NewPtrDeleteRecordsRequest()
			deleteRecords.Version = at(kmsg.DeleteRecords)
			deleteTopic := kmsg.NewDeleteRecordsRequestTopic()
			deleteTopic.Topic = topicName
			deleteTopic.Partitions = []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0, Offset: -1}}
			deleteRecords.Topics = append(deleteRecords.Topics, deleteTopic)
			deleted := c.roundTrip(deleteRecords).(*kmsg.DeleteRecordsResponse)
			if p := deleted.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.LowWatermark != 3 {
				t.Errorf("DeleteRecords v%d to the high watermark: %+v, want low watermark 3", deleteRecords.Version, p)
			}

			grow := kmsg.NewPtrCreatePartitionsRequest()
			grow.Version = at(kmsg.CreatePartitions)
			grow.Topics = []kmsg.CreatePartitionsRequestTopic{{Topic: topicName, Count: 4}}
			if code := c.roundTrip(grow).(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode; code != 0 {
				t.Errorf("CreatePartitions v%d: error %d", grow.Version, code)
			}

			drop := kmsg.NewPtrDeleteTopicsRequest()
			drop.Version = at(kmsg.DeleteTopics)
			if drop.Version >= 6 {
				drop.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: topicID}, {TopicID: [16]byte{1}}}
			} else {
				drop.TopicNames = []string{topicName}
			}
			dropped := c.roundTrip(drop).(*kmsg.DeleteTopicsResponse)
			if code := dropped.Topics[0].ErrorCode; code != 0 {
				t.Errorf("DeleteTopics v%d: error %d", drop.Version, code)
			}
			if names, _ := ts.store.ListTopics(); len(names) != 0 {
				t.Errorf("DeleteTopics v%d: topics %v left", drop.Version, names)
			}
			if drop.Version >= 6 && dropped.Topics[1].ErrorCode != kerr.UnknownTopicID.Code {
				t.Errorf("DeleteTopics v%d by ID: error %d, want UNKNOWN_TOPIC_ID", drop.Version, dropped.Topics[1].ErrorCode)
			}
		})
	}
}

// TestMetadataAllTopics checks how each version asks for every topic: an empty
// list at v0, a null one from v1 (where an empty one asks for none).
func TestMetadataAllTopics(t *testing.T) {
	ts := startServer(t, nil, nil)
	if err := ts.store.CreateTopic(context.Background(), "orders", log.TopicConfig{}); err != nil {
		t.Fatal(err)
	}
	c := ts.dial(t)
	for _, tc := range []struct {
		version int16
		topics  []kmsg.MetadataRequestTopic
		want    int
	}{
		{0, []kmsg.MetadataRequestTopic{}, 1},
		{1, nil, 1},
		{1, []kmsg.MetadataRequestTopic{}, 0},
		{13, nil, 1},
	} {
		req := kmsg.NewPtrMetadataRequest()
		req.Version, req.Topics = tc.version, tc.topics
		if got := len(c.roundTrip(req).(*kmsg.MetadataResponse).Topics); got != tc.want {
			t.Errorf("v%d with topics %v: %d topics, want %d", tc.version, tc.topics, got, tc.want)
		}
	}
}

// TestMetadataAllTopicsListsInternalTopics: a Metadata request for every topic
// lists the internal ones too, marked IsInternal, as Kafka does (clients such as
// kgo's regex consumers skip them by that flag).
func TestMetadataAllTopicsListsInternalTopics(t *testing.T) {
	ts := startServer(t, nil, nil)
	if err := ts.store.CreateTopic(context.Background(), "orders", log.TopicConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.GroupCoordinator(); err != nil { // creates __consumer_offsets
		t.Fatal(err)
	}
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	resp := ts.dial(t).roundTrip(req).(*kmsg.MetadataResponse)
	internal := map[string]bool{}
	for _, topic := range resp.Topics {
		internal[*topic.Topic] = topic.IsInternal
	}
	if want := map[string]bool{"orders": false, log.OffsetsTopic: true}; !maps.Equal(internal, want) {
		t.Fatalf("topics %v, want %v", internal, want)
	}
}
