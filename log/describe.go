package log

import "github.com/stratalog/strata/replica"

// Key partitioners, as TopicDescription.KeyPartitioner names them.
const (
	// KeyPartitionerMurmur2 is KeyPartition: Kafka's murmur2, the partitioner of
	// every topic created since strata partitions keys as Kafka does.
	KeyPartitionerMurmur2 = "murmur2"
	// KeyPartitionerXXHash is LegacyKeyPartition: XXH64, the partitioner of a topic
	// created before, which keeps it so that a key stays in the partition holding
	// its records.
	KeyPartitionerXXHash = "xxhash"
)

// keyPartitioner returns TopicDescription.KeyPartitioner of t.
func (t *topic) keyPartitioner() string {
	if t.internal {
		return ""
	}
	switch t.keyHash {
	case keyHashMurmur2:
		return KeyPartitionerMurmur2
	case keyHashXXHash:
		return KeyPartitionerXXHash
	}
	return ""
}

// TopicDescription describes a topic: its effective configuration and its
// partitions.
type TopicDescription struct {
	Name string
	// ID is the topic's ID (Kafka's topic ID, KIP-516): given at its creation,
	// the same after every Open, new for a topic created again under the name.
	ID TopicID
	// Internal is true for the store's own topics (names starting with "__").
	Internal bool
	// KeyPartitioner is how the default partitioner maps the topic's keys to
	// partitions, fixed for the topic's life: KeyPartitionerMurmur2 (Kafka's,
	// KeyPartition) for a topic created since strata partitions keys as Kafka does,
	// KeyPartitionerXXHash (LegacyKeyPartition) for one created before; "" for an
	// internal topic, whose records the store places itself.
	KeyPartitioner string
	// Config is the effective configuration: the topic's own settings over the
	// store's defaults over the built-in defaults; Partitions is the current count.
	Config TopicConfig
	// Partitions describes each partition, in partition order.
	Partitions []PartitionInfo
}

// PartitionInfo describes one partition of a topic.
type PartitionInfo struct {
	Partition   int32
	StartOffset int64 // lowest readable offset
	EndOffset   int64 // offset the next record will get: the high watermark
	Bytes       int64 // bytes in its (leader's) segment files
	Segments    int   // number of segments
	// Leader is the broker whose replica takes produces (replica.NoBroker while
	// none can); Replicas the brokers holding one, the preferred leader first; ISR
	// the in-sync replicas; ELR the eligible leader replicas (KIP-966); LeaderEpoch
	// the leadership's number. A one-broker store's partitions have broker 0 for
	// all of them.
	Leader      replica.BrokerID
	Replicas    []replica.BrokerID
	ISR         []replica.BrokerID
	ELR         []replica.BrokerID
	LeaderEpoch int32
	// Offline is why the partition is offline (see Store.OfflinePartitions), nil if
	// it is online; an offline partition's other fields are zero.
	Offline *PartitionOfflineError
}

// DescribeTopic describes the named topic (ErrUnknownTopic if there is none).
func (s *Store) DescribeTopic(name string) (TopicDescription, error) {
	t, err := s.lookupTopic(name)
	if err != nil {
		return TopicDescription{}, err
	}
	d := TopicDescription{
		Name: name, ID: t.id, Internal: t.internal, KeyPartitioner: t.keyPartitioner(), Config: t.config,
		Partitions: make([]PartitionInfo, len(t.partitions)),
	}
	if t.replicas != nil {
		for i, rp := range t.replicas {
			d.Partitions[i] = replicatedInfo(TopicPartition{Topic: name, Partition: int32(i)}, rp)
		}
		return d, nil
	}
	for i, p := range t.partitions {
		if p == nil {
			d.Partitions[i] = PartitionInfo{Partition: int32(i), Leader: replica.NoBroker, Replicas: []replica.BrokerID{0}, Offline: t.offline[i]}
			continue
		}
		d.Partitions[i] = PartitionInfo{Partition: int32(i), Leader: 0, Replicas: []replica.BrokerID{0}, ISR: []replica.BrokerID{0}}
		fillInfo(&d.Partitions[i], p)
	}
	return d, nil
}
