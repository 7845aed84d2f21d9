package log

import (
	"context"

	"github.com/stratalog/strata/segment"
)

// NextProducerIDForTest is nextProducerID, for the tests of package log_test.
func (s *Store) NextProducerIDForTest(ctx context.Context) (int64, error) {
	return s.nextProducerID(ctx)
}

// BatchHeadersForTest returns the headers of every batch of partition p of topic,
// in a one-broker store.
func (s *Store) BatchHeadersForTest(topic string, p int32) ([]segment.BatchHeader, error) {
	t, err := s.lookupTopic(topic)
	if err != nil {
		return nil, err
	}
	part, err := t.partitionAt(p)
	if err != nil {
		return nil, err
	}
	data, err := part.ReadBatches(nil, part.StartOffset(), 64<<20)
	if err != nil {
		return nil, err
	}
	var headers []segment.BatchHeader
	for len(data) > 0 {
		h, err := segment.ParseBatchHeader(data, 64<<20)
		if err != nil {
			return nil, err
		}
		headers = append(headers, h)
		data = data[h.Size():]
	}
	return headers, nil
}
