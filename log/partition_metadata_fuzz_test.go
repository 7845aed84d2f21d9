package log

import (
	"bytes"
	"testing"
)

// FuzzDecodePartitionMetadata: no bytes make decodePartitionMetadata panic, and
// whatever it accepts is exactly the file encodePartitionMetadata writes for the
// ID it returns (one ID, one spelling).
func FuzzDecodePartitionMetadata(f *testing.F) {
	f.Add(encodePartitionMetadata(newTopicID()))
	f.Add([]byte("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n"))
	f.Add([]byte("version: 0\ntopic_id: kPFzwh1hS6O9GiWlFPgaTw"))
	f.Add([]byte("version: 0\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := decodePartitionMetadata("partition.metadata", data)
		if err != nil {
			return
		}
		if id.reserved() {
			t.Fatalf("reserved ID %s accepted", id)
		}
		if again := encodePartitionMetadata(id); !bytes.Equal(again, data) {
			t.Fatalf("accepted %q, which encodes as %q", data, again)
		}
	})
}
