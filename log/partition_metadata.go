package log

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/vfs"
)

// Format: partition.metadata, Kafka's file of a partition directory naming the
// topic ID of the partition's topic (Kafka's PartitionMetadataFile), byte for byte
// as Kafka writes it:
//
//	version: 0
//	topic_id: kPFzwh1hS6O9GiWlFPgaTw
//
// two lines, each ending in "\n", the ID in its text form (TopicID.String). It is a
// copy of what topics.json says, written into every partition directory (every
// replica's) when the partition opens without one, and checked against topics.json
// at every open: a file naming another topic ID (the directory holds another
// topic's partition: Kafka's INCONSISTENT_TOPIC_ID) or that is not this file is
// corrupt, and the partition is not opened.
const (
	partitionMetadataFileName = "partition.metadata"
	// partitionMetadataVersion is the only version of the file, Kafka's.
	partitionMetadataVersion = "0"
	// maxPartitionMetadataBytes bounds the size of partition.metadata that Open
	// believes: the file is 43 bytes.
	maxPartitionMetadataBytes = 1024
)

// encodePartitionMetadata returns the bytes of partition.metadata for id.
func encodePartitionMetadata(id TopicID) []byte {
	return []byte("version: " + partitionMetadataVersion + "\ntopic_id: " + id.String() + "\n")
}

// decodePartitionMetadata returns the topic ID that the bytes of partition.metadata
// (read from path, for errors) name; anything but the file as Kafka writes it is a
// *CorruptError.
func decodePartitionMetadata(path string, data []byte) (TopicID, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) != 3 || len(lines[2]) != 0 {
		return TopicID{}, errs.Corruptf(path, 0, "%d bytes, not the two lines of partition.metadata", len(data))
	}
	version, ok := bytes.CutPrefix(lines[0], []byte("version: "))
	if !ok || string(version) != partitionMetadataVersion+"\n" {
		return TopicID{}, errs.Corruptf(path, 0, "first line %q, want %q", bytes.TrimSuffix(lines[0], []byte("\n")), "version: "+partitionMetadataVersion)
	}
	text, ok := bytes.CutPrefix(lines[1], []byte("topic_id: "))
	if !ok {
		return TopicID{}, errs.Corruptf(path, int64(len(lines[0])), "second line %q, want %q and the topic ID", bytes.TrimSuffix(lines[1], []byte("\n")), "topic_id: ")
	}
	id, ok := parseTopicID(string(bytes.TrimSuffix(text, []byte("\n"))))
	if !ok {
		return TopicID{}, errs.Corruptf(path, int64(len(lines[0])+len("topic_id: ")), "%q is not a topic ID", bytes.TrimSuffix(text, []byte("\n")))
	}
	return id, nil
}

// checkPartitionMetadata makes the partition directory dir hold the
// partition.metadata of a partition of the topic whose ID is id: it writes the file
// if there is none (crash-atomically: partition.metadata.tmp, fsync, rename,
// directory fsync; a store made before topic IDs gets them so), and checks it
// otherwise. A file naming another topic ID, or that does not decode, is a
// *CorruptError naming the file: the directory is another topic's partition, or the
// file is damaged (removing it lets the next open write it again).
func checkPartitionMetadata(fsys vfs.FS, dir string, id TopicID) error {
	path := filepath.Join(dir, partitionMetadataFileName)
	data, err := keyvalue.ReadFile(fsys, path, maxPartitionMetadataBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return vfs.WriteFileAtomic(fsys, path, encodePartitionMetadata(id))
	case err != nil:
		return err
	}
	found, err := decodePartitionMetadata(path, data)
	if err != nil {
		return err
	}
	if found != id {
		return errs.Corruptf(path, 0, "topic ID %s, but topics.json gives the partition's topic %s: the directory holds another topic's partition (Kafka's INCONSISTENT_TOPIC_ID)", found, id)
	}
	return nil
}
