package log

// RollPartitionErr rolls tp's active segment, returning the error (the review's
// random crash test runs it while the file system fails).
func RollPartitionErr(s *Store, tp TopicPartition) error {
	p, err := s.lookupPartition(tp)
	if err != nil {
		return err
	}
	return p.Roll()
}
