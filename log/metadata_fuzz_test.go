package log

import (
	"bytes"
	"testing"
)

// FuzzDecodeMetadata: no bytes make decodeMetadata panic; whatever it accepts
// (any version; an older one with the topic IDs Open gives it) encodes back to a
// file of the current version that it accepts again with the same topics, IDs and
// settings.
func FuzzDecodeMetadata(f *testing.F) {
	valid, err := encodeMetadata(metadataFile{Topics: []topicMetadata{
		{Name: "orders", TopicID: "kPFzwh1hS6O9GiWlFPgaTw", Partitions: 3, ReplicationFactor: 1, Partitioner: "murmur2", Config: map[string]string{ConfigRetentionMs: "604800000", ConfigSyncIntervalMs: "1.5", ConfigSync: "periodic"}},
		{Name: OffsetsTopic, TopicID: "3sQy8uYrQzK2tXz1uVwW5g", Partitions: 1, Internal: true, Config: map[string]string{ConfigCleanupPolicy: CleanupCompact}},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(bytes.TrimSuffix(valid, []byte("\n")))
	f.Add([]byte(`{"version": 1, "topics": [{"name": "a", "partitions": 1, "config": {}}]}`))
	f.Add([]byte(`{"version": 1, "topics": [{"name": "a", "partitions": 1, "config": {"retention.age": "1.5ms", "sync.mode": "none", "replication.factor": 1}}]}`))
	f.Add([]byte("crc32c 00000000\n"))
	f.Add(bytes.Replace(valid, []byte(`"version": 4`), []byte(`"version": 3`), 1)) // checksum now wrong
	f.Add(bytes.Replace(valid, []byte("kPFzwh1hS6O9GiWlFPgaTw"), []byte("AAAAAAAAAAAAAAAAAAAAAA"), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		meta, err := decodeMetadata("topics.json", data)
		if err != nil {
			return
		}
		assignMissingTopicIDs(&meta)
		again, err := encodeMetadata(meta)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeMetadata("topics.json", again)
		if err != nil {
			t.Fatalf("re-encoded file refused: %v\n%s", err, again)
		}
		if len(back.Topics) != len(meta.Topics) {
			t.Fatalf("%d topics, then %d", len(meta.Topics), len(back.Topics))
		}
		for i, tm := range meta.Topics {
			before, _ := tm.ownConfig()
			after, _ := back.Topics[i].ownConfig()
			if before != after || tm.TopicID != back.Topics[i].TopicID {
				t.Fatalf("topic %q: ID %s, config %+v, then %s, %+v", tm.Name, tm.TopicID, before, back.Topics[i].TopicID, after)
			}
		}
	})
}
