package log_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// topicIDs returns the IDs of the named topics, checking that each is a valid one
// that DescribeTopic reports and TopicByID maps back to its name.
func topicIDs(t testing.TB, s *log.Store, names ...string) map[string]log.TopicID {
	t.Helper()
	ids := map[string]log.TopicID{}
	for _, name := range names {
		id, err := s.TopicID(name)
		require.NoError(t, err, name)
		parsed, err := log.ParseTopicID(id.String())
		require.NoError(t, err, "topic %q: ID %s", name, id)
		require.Equal(t, id, parsed)
		require.Equal(t, id, describe(t, s, name).ID, name)
		byID, err := s.TopicByID(id)
		require.NoError(t, err)
		require.Equal(t, name, byID)
		ids[name] = id
	}
	return ids
}

// Every topic, an internal one too, gets its own ID at creation; it stays the same
// through AddPartitions, AlterTopicConfig and every Open.
func TestTopicIDGivenAtCreationAndKept(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	createTopic(t, s, "payments", log.TopicConfig{})
	_, err := s.GroupCoordinator() // creates __consumer_offsets
	require.NoError(t, err)
	ids := topicIDs(t, s, "orders", "payments", log.OffsetsTopic)
	require.NotEqual(t, ids["orders"], ids["payments"])
	require.NotEqual(t, ids["orders"], ids[log.OffsetsTopic])

	require.NoError(t, s.AddPartitions(context.Background(), "orders", 3))
	require.NoError(t, s.AlterTopicConfig(context.Background(), "payments", log.TopicConfig{RetentionBytes: 1 << 20}))
	require.Equal(t, ids, topicIDs(t, s, "orders", "payments", log.OffsetsTopic))
	require.NoError(t, s.Close())

	s = openStore(t, fsys, nil)
	require.Equal(t, ids, topicIDs(t, s, "orders", "payments", log.OffsetsTopic))
	require.Len(t, describe(t, s, "orders").Partitions, 3)
}

// A topic deleted and created again under its name has a new ID; the old one names
// no topic any more.
func TestTopicIDNewForATopicCreatedAgain(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "orders", log.TopicConfig{})
	old := topicIDs(t, s, "orders")["orders"]
	require.NoError(t, s.DeleteTopic(context.Background(), "orders"))
	_, err := s.TopicID("orders")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
	_, err = s.TopicByID(old)
	require.ErrorIs(t, err, log.ErrUnknownTopicID)
	require.ErrorIs(t, err, log.ErrUnknownTopic)

	createTopic(t, s, "orders", log.TopicConfig{})
	again := topicIDs(t, s, "orders")["orders"]
	require.NotEqual(t, old, again)
	_, err = s.TopicByID(old)
	require.ErrorIs(t, err, log.ErrUnknownTopicID)
}

// TopicByID of an ID no topic has (the zero ID included) is ErrUnknownTopicID; after
// Close, both lookups are ErrClosed.
func TestTopicIDLookups(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	_, err := s.TopicByID(log.TopicID{})
	require.ErrorIs(t, err, log.ErrUnknownTopicID)
	createTopic(t, s, "orders", log.TopicConfig{})
	_, err = s.TopicByID(log.TopicID{})
	require.ErrorIs(t, err, log.ErrUnknownTopicID)
	_, err = s.TopicByID(log.TopicID{1})
	require.ErrorIs(t, err, log.ErrUnknownTopicID)
	_, err = s.TopicID("nope")
	require.ErrorIs(t, err, log.ErrUnknownTopic)
	id := topicIDs(t, s, "orders")["orders"]
	require.NoError(t, s.Close())
	_, err = s.TopicByID(id)
	require.ErrorIs(t, err, log.ErrClosed)
	_, err = s.TopicID("orders")
	require.ErrorIs(t, err, log.ErrClosed)
}

// ParseTopicID reads Kafka's text form and refuses anything else, the zero ID and
// Kafka's reserved IDs: ErrInvalidArgument.
func TestParseTopicID(t *testing.T) {
	id, err := log.ParseTopicID("kPFzwh1hS6O9GiWlFPgaTw")
	require.NoError(t, err)
	require.Equal(t, "kPFzwh1hS6O9GiWlFPgaTw", id.String())
	require.False(t, id.IsZero())
	require.True(t, log.TopicID{}.IsZero())
	require.Equal(t, "AAAAAAAAAAAAAAAAAAAAAA", log.TopicID{}.String())
	for _, bad := range []string{
		"",
		"AAAAAAAAAAAAAAAAAAAAAA",    // zero
		"AAAAAAAAAAAAAAAAAAAAAQ",    // Kafka's metadata topic (0, 1)
		"AAAAAAAAAAAAAAAAAAAAYw",    // (0, 99): reserved
		"kPFzwh1hS6O9GiWlFPgaT",     // 21 characters
		"kPFzwh1hS6O9GiWlFPgaTw==",  // padded
		"kPFzwh1hS6O9GiWlFPgaTx",    // last character's unused bits set: not how the ID is spelled
		"kPFzwh1hS6O9GiWlFPga+w",    // standard base64
		"kPFzwh1hS6O9GiWlFPgaTwAAA", // too long
	} {
		_, err := log.ParseTopicID(bad)
		require.ErrorIs(t, err, log.ErrInvalidArgument, "%q", bad)
	}
	id, err = log.ParseTopicID("AAAAAAAAAAAAAAAAAAAAZA") // (0, 100): not reserved
	require.NoError(t, err)
	require.Equal(t, "AAAAAAAAAAAAAAAAAAAAZA", id.String())
}

// In a store of several brokers, every broker directory's copy of topics.json holds
// the same IDs, which the store reports after every Open.
func TestTopicIDSameOnEveryBroker(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 3, ReplicationFactor: 3})
	createTopic(t, s, "payments", log.TopicConfig{ReplicationFactor: 2})
	ids := topicIDs(t, s, "orders", "payments")
	require.NoError(t, s.Close())
	for _, dir := range []string{"/data", "/data/broker.1", "/data/broker.2"} {
		f := readTopicsFile(t, fsys, dir+"/topics.json")
		require.Equal(t, 4, f.Version, dir)
		for _, tm := range f.Topics {
			require.Equal(t, ids[tm.Name].String(), tm.TopicID, "%s: topic %q", dir, tm.Name)
		}
	}
	s = openStore(t, fsys, nil)
	require.Equal(t, ids, topicIDs(t, s, "orders", "payments"))
}

// asOlderStore removes every partition.metadata under dir (broker directories
// included), which a store made before topic IDs does not have, and returns how
// many it removed.
func asOlderStore(t testing.TB, fsys vfs.FS, dir string) int {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	require.NoError(t, err)
	removed := 0
	for _, name := range names {
		path := dir + "/" + name
		info, err := fsys.Stat(path)
		require.NoError(t, err)
		switch {
		case info.IsDir():
			removed += asOlderStore(t, fsys, path)
		case name == "partition.metadata":
			require.NoError(t, fsys.Remove(path))
			removed++
		}
	}
	return removed
}

// topicIDLine matches a topic's ID in topics.json as strata writes it.
var topicIDLine = regexp.MustCompile(`\n\s*"topicId": "[^"]*",`)

// asVersion3 returns the topics.json data without its topic IDs, as version 3
// (checksummed): the file of a store made before topic IDs.
func asVersion3(t testing.TB, data []byte) []byte {
	t.Helper()
	body, _, err := crcline.Split("topics.json", data)
	require.NoError(t, err)
	require.Contains(t, string(body), `"version": 4,`)
	body = bytes.Replace(body, []byte(`"version": 4,`), []byte(`"version": 3,`), 1)
	body = topicIDLine.ReplaceAll(body, nil)
	require.NotContains(t, string(body), "topicId")
	return crcline.Append(body)
}

// A store made before topic IDs (topics.json version 3) gets them at Open, written
// and fsynced before Open returns: a power loss right after it keeps them, and every
// later Open reports the same. The records are untouched.
func TestTopicIDGivenToAnOlderStoreAtOpen(t *testing.T) {
	fsys := vfs.NewCrashable()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	createTopic(t, s, "payments", log.TopicConfig{})
	produce(t, s, "orders", 1, 3)
	require.NoError(t, s.Close())
	data, err := vfs.ReadFile(fsys, "/data/topics.json")
	require.NoError(t, err)
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", asVersion3(t, data)))
	require.Equal(t, 3, asOlderStore(t, fsys, "/data"))

	var buf logBuffer
	s = openStore(t, fsys, &log.Options{Logger: buf.logger()})
	ids := topicIDs(t, s, "orders", "payments")
	require.NotEqual(t, ids["orders"], ids["payments"])
	require.Contains(t, buf.String(), "gave topic IDs")
	after := fsys.Crash(vfs.DropUnsynced, 1) // the power goes while the store is open
	require.NoError(t, s.Close())

	s = openStore(t, after, nil)
	require.Equal(t, ids, topicIDs(t, s, "orders", "payments"))
	require.Equal(t, int64(3), describe(t, s, "orders").Partitions[1].EndOffset)
	f := readTopicsFile(t, after, "/data/topics.json")
	require.Equal(t, 4, f.Version)
	require.NoError(t, s.Close())

	s = openStore(t, fsys, nil)
	require.Equal(t, ids, topicIDs(t, s, "orders", "payments"))
}

// The same for a store of several brokers: Open writes the IDs into every broker
// directory's copy.
func TestTopicIDGivenToAnOlderReplicatedStoreAtOpen(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 3})
	require.NoError(t, s.Close())
	dirs := []string{"/data", "/data/broker.1", "/data/broker.2"}
	for _, dir := range dirs {
		data, err := vfs.ReadFile(fsys, dir+"/topics.json")
		require.NoError(t, err)
		require.NoError(t, vfs.WriteFileAtomic(fsys, dir+"/topics.json", asVersion3(t, data)))
	}
	require.Equal(t, 6, asOlderStore(t, fsys, "/data"))
	s = openStore(t, fsys, nil)
	ids := topicIDs(t, s, "orders")
	for _, dir := range dirs {
		f := readTopicsFile(t, fsys, dir+"/topics.json")
		require.Equal(t, 4, f.Version, dir)
		require.Equal(t, ids["orders"].String(), f.Topics[0].TopicID, dir)
	}
	require.NoError(t, s.Close())
	s = openStore(t, fsys, nil)
	require.Equal(t, ids, topicIDs(t, s, "orders"))
}

// A topics.json whose topic IDs are damaged, missing, duplicated or in a version
// that has none is corrupt: Open fails with ErrCorrupt naming the topic, and never
// panics.
func TestTopicIDDamagedInTopicsJSONIsCorrupt(t *testing.T) {
	for name, tc := range map[string]struct {
		version int
		topics  string
		message string
	}{
		"missing":         {4, `{"name": "a", "partitions": 1, "config": {}}`, `topic "a": topic ID ""`},
		"zero":            {4, `{"name": "a", "topicId": "AAAAAAAAAAAAAAAAAAAAAA", "partitions": 1, "config": {}}`, "is not a topic ID"},
		"reserved":        {4, `{"name": "a", "topicId": "AAAAAAAAAAAAAAAAAAAAAQ", "partitions": 1, "config": {}}`, "is not a topic ID"},
		"short":           {4, `{"name": "a", "topicId": "kPFzwh1hS6O9GiWlFPga", "partitions": 1, "config": {}}`, "is not a topic ID"},
		"not base64":      {4, `{"name": "a", "topicId": "kPFzwh1hS6O9GiWlFPga!!", "partitions": 1, "config": {}}`, "is not a topic ID"},
		"not a string":    {4, `{"name": "a", "topicId": 7, "partitions": 1, "config": {}}`, "topicId"},
		"duplicate":       {4, `{"name": "a", "topicId": "kPFzwh1hS6O9GiWlFPgaTw", "partitions": 1, "config": {}}, {"name": "b", "topicId": "kPFzwh1hS6O9GiWlFPgaTw", "partitions": 1, "config": {}}`, "the same topic ID"},
		"in version 3":    {3, `{"name": "a", "topicId": "kPFzwh1hS6O9GiWlFPgaTw", "partitions": 1, "config": {}}`, "a topic ID in version 3"},
		"binary in an ID": {4, "{\"name\": \"a\", \"topicId\": \"kPFzwh1hS6O9GiWlFPg\\u0000Tw\", \"partitions\": 1, \"config\": {}}", "is not a topic ID"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := vfs.NewMem()
			require.NoError(t, fsys.MkdirAll("/data", 0o755))
			content := crcline.Append([]byte(`{"version": ` + itoa(int64(tc.version)) + `, "topics": [` + tc.topics + "]}\n"))
			require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", content))
			_, err := log.Open("/data", &log.Options{FS: fsys})
			require.ErrorIs(t, err, log.ErrCorrupt)
			require.ErrorContains(t, err, tc.message)
		})
	}
}

// requirePartitionMetadata checks that the partition directory dir holds Kafka's
// partition.metadata naming id.
func requirePartitionMetadata(t testing.TB, fsys vfs.FS, dir string, id log.TopicID) {
	t.Helper()
	data, err := vfs.ReadFile(fsys, dir+"/partition.metadata")
	require.NoError(t, err, dir)
	require.Equal(t, "version: 0\ntopic_id: "+id.String()+"\n", string(data), dir)
}

// Every partition directory, every replica's in a store of several brokers, holds
// Kafka's partition.metadata naming its topic's ID, partitions added later too.
func TestPartitionMetadataInEveryPartitionDirectory(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	require.NoError(t, s.AddPartitions(context.Background(), "orders", 3))
	id := topicIDs(t, s, "orders")["orders"]
	for _, dir := range []string{"/data/orders-0", "/data/orders-1", "/data/orders-2"} {
		requirePartitionMetadata(t, fsys, dir, id)
	}

	fsys = vfs.NewMem()
	s = openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2, ReplicationFactor: 3})
	id = topicIDs(t, s, "orders")["orders"]
	for _, broker := range []string{"/data", "/data/broker.1", "/data/broker.2"} {
		for _, p := range []string{"orders-0", "orders-1"} {
			requirePartitionMetadata(t, fsys, broker+"/"+p, id)
		}
	}
}

// A store made before topic IDs gets partition.metadata in its partition
// directories at Open, durable before Open returns.
func TestPartitionMetadataWrittenForAnOlderStore(t *testing.T) {
	fsys := vfs.NewCrashable()
	s := openStore(t, fsys, nil)
	createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
	require.NoError(t, s.Close())
	data, err := vfs.ReadFile(fsys, "/data/topics.json")
	require.NoError(t, err)
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/topics.json", asVersion3(t, data)))
	require.Equal(t, 2, asOlderStore(t, fsys, "/data"))

	s = openStore(t, fsys, nil)
	id := topicIDs(t, s, "orders")["orders"]
	after := fsys.Crash(vfs.DropUnsynced, 2)
	for _, dir := range []string{"/data/orders-0", "/data/orders-1"} {
		requirePartitionMetadata(t, after, dir, id)
	}
}

// A partition directory whose partition.metadata names another topic ID (another
// topic's partition), or is not the file, does not open: its partition is offline
// with ErrCorrupt naming the file, the rest of the store opens, nothing panics.
// Removing the file lets ReopenPartition write it again and open the partition.
func TestPartitionMetadataForeignOrDamaged(t *testing.T) {
	for name, content := range map[string]string{
		"another topic's":   "version: 0\ntopic_id: kPFzwh1hS6O9GiWlFPgaTw\n",
		"empty":             "",
		"another version":   "version: 1\ntopic_id: kPFzwh1hS6O9GiWlFPgaTw\n",
		"no last newline":   "version: 0\ntopic_id: kPFzwh1hS6O9GiWlFPgaTw",
		"a third line":      "version: 0\ntopic_id: kPFzwh1hS6O9GiWlFPgaTw\nmore\n",
		"no topic_id":       "version: 0\ntopicid: kPFzwh1hS6O9GiWlFPgaTw\n",
		"zero ID":           "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n",
		"not base64":        "version: 0\ntopic_id: kPFzwh1hS6O9GiWlFPga\x00\xff\n",
		"larger than 1 KiB": "version: 0\ntopic_id: " + string(bytes.Repeat([]byte("A"), 2000)) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			fsys := vfs.NewMem()
			s := openStore(t, fsys, nil)
			createTopic(t, s, "orders", log.TopicConfig{Partitions: 2})
			produce(t, s, "orders", 1, 3)
			id := topicIDs(t, s, "orders")["orders"]
			require.NoError(t, s.Close())
			require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/orders-1/partition.metadata", []byte(content)))

			s = openStore(t, fsys, nil)
			offline := s.OfflinePartitions()
			require.Len(t, offline, 1)
			require.Equal(t, tp("orders", 1), offline[0].TopicPartition)
			require.ErrorIs(t, offline[0], log.ErrCorrupt)
			require.ErrorContains(t, offline[0], "partition.metadata")
			produce(t, s, "orders", 0, 1) // the other partition works

			require.NoError(t, fsys.Remove("/data/orders-1/partition.metadata"))
			require.NoError(t, s.ReopenPartition(context.Background(), tp("orders", 1)))
			require.Empty(t, s.OfflinePartitions())
			require.Equal(t, int64(3), describe(t, s, "orders").Partitions[1].EndOffset)
			requirePartitionMetadata(t, fsys, "/data/orders-1", id)
		})
	}
}

// In a store of several brokers, a replica whose partition.metadata names another
// topic is set aside (kept, renamed -damaged) and rebuilt from an in-sync replica,
// as a corrupt one is; the broker stays online.
func TestPartitionMetadataForeignReplicaRebuilt(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3, MinInsyncReplicas: 2})
	produce(t, s, "orders", 0, 20)
	id := topicIDs(t, s, "orders")["orders"]
	require.NoError(t, s.Close())
	require.NoError(t, vfs.WriteFileAtomic(fsys, "/data/broker.1/orders-0/partition.metadata",
		[]byte("version: 0\ntopic_id: kPFzwh1hS6O9GiWlFPgaTw\n")))

	s = openStore(t, fsys, nil)
	brokers, err := s.Brokers()
	require.NoError(t, err)
	require.True(t, brokers[1].Online, "the broker stays online: only the replica is rebuilt")
	names, err := fsys.ReadDir("/data/broker.1")
	require.NoError(t, err)
	aside := ""
	for _, name := range names {
		if bytes.HasSuffix([]byte(name), []byte("-damaged")) {
			aside = name
		}
	}
	require.NotEmpty(t, aside, "the foreign copy is kept aside: %v", names)
	data, err := vfs.ReadFile(fsys, "/data/broker.1/"+aside+"/partition.metadata")
	require.NoError(t, err)
	require.Contains(t, string(data), "kPFzwh1hS6O9GiWlFPgaTw")
	requirePartitionMetadata(t, fsys, "/data/broker.1/orders-0", id)
	require.Len(t, consumeValues(t, s, "orders", 0), 20)
	require.NoError(t, s.AwaitInSync(testContext(t)))
	require.Len(t, describe(t, s, "orders").Partitions[0].ISR, 3)
}

// In a store of several brokers, Open may write topics.json before it gives the
// topics of an older store their IDs (to record that the replicas of deleted
// partitions left on a broker that was offline are gone): that write holds the IDs
// already, so that a failure of the next write, or a crash, never leaves a
// topics.json of the current version without them, which Open would refuse.
func TestTopicIDGivenBeforeAnyWriteAtOpen(t *testing.T) {
	fsys := vfs.NewMem()
	s := openBrokers(t, fsys, 3)
	createTopic(t, s, "orders", log.TopicConfig{ReplicationFactor: 3})
	require.NoError(t, s.Close())
	require.NoError(t, fsys.MkdirAll("/data/broker.1/gone-0", 0o755)) // a deleted partition's replica, left
	dirs := []string{"/data", "/data/broker.1", "/data/broker.2"}
	for _, dir := range dirs {
		data, err := vfs.ReadFile(fsys, dir+"/topics.json")
		require.NoError(t, err)
		body, _, err := crcline.Split("topics.json", asVersion3(t, data))
		require.NoError(t, err)
		body = bytes.Replace(body, []byte(`"version": 3,`), []byte(`"version": 3, "deleted": [{"name": "gone-0", "brokers": [1]}],`), 1)
		require.NoError(t, vfs.WriteFileAtomic(fsys, dir+"/topics.json", crcline.Append(body)))
	}
	require.Equal(t, 3, asOlderStore(t, fsys, "/data"))

	// The first write of topics.json (into the 3 broker directories) succeeds, the
	// next fails.
	faulty := vfs.NewFaulty(fsys, vfs.Match("topics.json", vfs.FailAfter(vfs.OpRename, 3, errors.New("injected failure"))))
	_, err := log.Open("/data", &log.Options{FS: faulty})
	require.ErrorContains(t, err, "injected failure")

	s = openStore(t, fsys, nil)
	ids := topicIDs(t, s, "orders")
	for _, dir := range dirs {
		f := readTopicsFile(t, fsys, dir+"/topics.json")
		require.Equal(t, 4, f.Version, dir)
		require.Equal(t, ids["orders"].String(), f.Topics[0].TopicID, dir)
	}
	_, err = fsys.Stat("/data/broker.1/gone-0")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// DeleteTopicByID deletes the topic of that ID, internal ones refused; the ID
// of a topic deleted and created again under its name deletes nothing (the
// new topic has another ID).
func TestDeleteTopicByID(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "orders", log.TopicConfig{})
	old := topicIDs(t, s, "orders")["orders"]
	require.NoError(t, s.DeleteTopicByID(ctx, old))
	_, err := s.TopicID("orders")
	require.ErrorIs(t, err, log.ErrUnknownTopic)

	createTopic(t, s, "orders", log.TopicConfig{})
	err = s.DeleteTopicByID(ctx, old)
	require.ErrorIs(t, err, log.ErrUnknownTopicID)
	_, err = s.TopicID("orders")
	require.NoError(t, err, "the topic made again under the name stays")
	require.ErrorIs(t, s.DeleteTopicByID(ctx, log.TopicID{}), log.ErrUnknownTopicID)
}
