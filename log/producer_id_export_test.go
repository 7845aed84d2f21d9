package log

import "context"

// NextProducerIDForTest is nextProducerID, for the tests of package log_test.
func (s *Store) NextProducerIDForTest(ctx context.Context) (int64, error) {
	return s.nextProducerID(ctx)
}
