package replica

// AssignReplicas spreads the replicas of partitions partitions, replicationFactor
// each, over brokers as Kafka does (AdminUtils.assignReplicasToBrokers, without
// racks): partition p's first replica, its preferred leader, is broker
// (p + start) mod n, so that leadership is spread evenly; its followers follow at a
// shift that grows every n partitions, so that the followers of one broker's leaders
// spread over the others too. start is where the first partition begins (Kafka picks
// it at random; a caller adding partitions passes the count so far). It returns one
// assignment per partition; a replication factor above the number of brokers, or
// below 1, is ErrInvalidArgument.
func AssignReplicas(brokers []BrokerID, partitions, replicationFactor, start int) ([][]BrokerID, error) {
	n := len(brokers)
	switch {
	case replicationFactor < 1 || replicationFactor > n:
		return nil, errorf("strata/replica: replication factor %d with %d brokers: %w", replicationFactor, n, ErrInvalidArgument)
	case partitions < 0 || start < 0:
		return nil, errorf("strata/replica: %d partitions from %d: %w", partitions, start, ErrInvalidArgument)
	}
	if err := validateReplicas(brokers); err != nil {
		return nil, err
	}
	out := make([][]BrokerID, partitions)
	shift := start / n
	for p := range partitions {
		index := p + start
		if p > 0 && index%n == 0 {
			shift++
		}
		first := index % n
		replicas := []BrokerID{brokers[first]}
		for j := range replicationFactor - 1 {
			replicas = append(replicas, brokers[(first+1+(shift+j)%(n-1))%n])
		}
		out[p] = replicas
	}
	return out, nil
}
