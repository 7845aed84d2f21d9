package group

// OffsetsRecord is a record of the offsets log (OffsetsTopic, Kafka's
// __consumer_offsets) decoded: a committed offset, or a group's metadata, or the
// tombstone that deletes either. Tools that print the log (strata dump
// --offsets-decoder, as Kafka's kafka-dump-log) decode its records with
// DecodeOffsetsRecord.
type OffsetsRecord struct {
	// Group is the group the record is about.
	Group string
	// IsOffset is true for a committed offset's record (Partition says of which
	// partition), false for the group's metadata record.
	IsOffset  bool
	Partition TopicPartition
	// Tombstone is true for a record with a null value: it deletes the offset or
	// the group's metadata.
	Tombstone bool
	// Offset is the committed offset, with IsOffset and not Tombstone.
	Offset CommittedOffset
	// Metadata is the group's metadata, without IsOffset and not Tombstone.
	Metadata GroupRecord
}

// DecodeOffsetsRecord decodes a record of the offsets log from its key and value
// (nil: a tombstone). Every key and value version Kafka wrote is read; an
// unknown version or a short record is an error.
func DecodeOffsetsRecord(key, value []byte) (OffsetsRecord, error) {
	k, err := decodeKey(key)
	if err != nil {
		return OffsetsRecord{}, errorf("strata/group: decode offsets record: %w", err)
	}
	out := OffsetsRecord{Group: k.group, IsOffset: k.kind == offsetRecord, Partition: k.partition, Tombstone: value == nil}
	switch {
	case value == nil:
	case out.IsOffset:
		out.Offset, err = decodeOffsetValue(value)
	default:
		out.Metadata, err = decodeGroupValue(value)
	}
	if err != nil {
		return OffsetsRecord{}, errorf("strata/group: decode offsets record: %w", err)
	}
	return out, nil
}
