package log

import (
	"bytes"
	"testing"
)

// FuzzDecodeMetadata: no bytes make decodeMetadata panic; whatever it accepts
// encodes back to a file it accepts again with the same topics.
func FuzzDecodeMetadata(f *testing.F) {
	valid, err := encodeMetadata(metadataFile{Topics: []topicMetadata{
		{Name: "orders", Partitions: 3, Config: diskConfig{RetentionAge: "168h0m0s"}},
		{Name: OffsetsTopic, Partitions: 1, Internal: true, Config: diskConfig{CleanupPolicy: CleanupCompact}},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(bytes.TrimSuffix(valid, []byte("\n")))
	f.Add([]byte(`{"version": 1, "topics": [{"name": "a", "partitions": 1, "config": {}}]}`))
	f.Add([]byte("crc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		meta, err := decodeMetadata("topics.json", data)
		if err != nil {
			return
		}
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
	})
}
