package kafka

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleCreateTopics answers CreateTopics: each topic is created with its
// partitions (-1: the store's default), its replication factor (-1: default) and
// its configs by Kafka name (see log.ParseTopicConfigs). A manual replica
// assignment is refused (INVALID_REPLICA_ASSIGNMENT): the store places replicas.
// ValidateOnly checks the request as far as the store's exported API allows
// (name, existence, partition count, replication factor against the brokers,
// each config's value) without creating anything.
func handleCreateTopics(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := kmsg.NewPtrCreateTopicsResponse()
	resp.Version = req.Version
	seen := map[string]int{}
	for _, t := range req.Topics {
		seen[t.Topic]++
	}
	for _, t := range req.Topics {
		topic := kmsg.NewCreateTopicsResponseTopic()
		topic.Topic = t.Topic
		if seen[t.Topic] > 1 { // as Kafka: a topic named twice is refused each time
			topic.ErrorCode = kerr.InvalidRequest.Code
			topic.ErrorMessage = message(fmt.Sprintf("topic %q is named more than once in the request", t.Topic))
		} else {
			topic.ErrorCode, topic.ErrorMessage = createTopic(r, t, req.ValidateOnly)
		}
		if topic.ErrorCode == 0 && req.Version >= 5 {
			describeCreatedTopic(r.store, &topic, t, req.ValidateOnly)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

// createTopic creates (or, validateOnly, checks) one topic of a CreateTopics
// request and returns the error code and message for it.
func createTopic(r *request, t kmsg.CreateTopicsRequestTopic, validateOnly bool) (int16, *string) {
	if len(t.ReplicaAssignment) > 0 {
		return kerr.InvalidReplicaAssignment.Code, message("strata places replicas itself: a manual replica assignment is not supported")
	}
	if t.NumPartitions == 0 || t.NumPartitions < -1 {
		return kerr.InvalidPartitions.Code, message(fmt.Sprintf("number of partitions %d: must be positive or -1 (the default)", t.NumPartitions))
	}
	if t.ReplicationFactor == 0 || t.ReplicationFactor < -1 {
		return kerr.InvalidReplicationFactor.Code, message(fmt.Sprintf("replication factor %d: must be positive or -1 (the default)", t.ReplicationFactor))
	}
	configs := make(map[string]string, len(t.Configs))
	for _, c := range t.Configs {
		if c.Value == nil {
			return kerr.InvalidConfig.Code, message(fmt.Sprintf("config %q: null value", c.Name))
		}
		configs[c.Name] = *c.Value
	}
	config, err := log.ParseTopicConfigs(configs)
	if err != nil {
		return errorCode(err)
	}
	config.Partitions = max(int(t.NumPartitions), 0)
	config.ReplicationFactor = max(int(t.ReplicationFactor), 0)
	if validateOnly {
		return validateCreateTopic(r.store, t.Topic, config)
	}
	if err := r.store.CreateTopic(r.ctx, t.Topic, config); err != nil {
		return createTopicErrorCode(err)
	}
	return 0, nil
}

// createTopicErrorCode is errorCode, with a *log.ConfigError about the partition
// count or the replication factor told apart from other configs as Kafka does.
func createTopicErrorCode(err error) (int16, *string) {
	code, text := errorCode(err)
	var configErr *log.ConfigError
	if errors.As(err, &configErr) && len(configErr.Problems) > 0 {
		switch first := configErr.Problems[0]; {
		case strings.HasPrefix(first, "Partitions"):
			code = kerr.InvalidPartitions.Code
		case strings.HasPrefix(first, "ReplicationFactor"):
			code = kerr.InvalidReplicationFactor.Code
		}
	}
	return code, text
}

// validateCreateTopic checks what CreateTopic would, as far as the store's API
// tells without creating: the name, that no topic has it, the partition count and
// the replication factor against the brokers.
func validateCreateTopic(store *log.Store, name string, config log.TopicConfig) (int16, *string) {
	if err := log.ValidateTopicName(name); err != nil {
		return errorCode(err)
	}
	if strings.HasPrefix(name, "__") {
		return kerr.InvalidTopicException.Code, message(fmt.Sprintf("topic %q: the prefix \"__\" is reserved for internal topics", name))
	}
	if _, err := store.DescribeTopic(name); err == nil {
		return kerr.TopicAlreadyExists.Code, message(fmt.Sprintf("topic %q already exists", name))
	}
	if config.Partitions > log.MaxPartitions {
		return kerr.InvalidPartitions.Code, message(fmt.Sprintf("number of partitions %d: at most %d", config.Partitions, log.MaxPartitions))
	}
	brokers, err := store.Brokers()
	if err != nil {
		return errorCode(err)
	}
	if config.ReplicationFactor > len(brokers) {
		return kerr.InvalidReplicationFactor.Code, message(fmt.Sprintf("replication factor %d, but the store has %d broker(s)", config.ReplicationFactor, len(brokers)))
	}
	return 0, nil
}

// describeCreatedTopic fills the v5+ fields of a created topic's response: its
// partition count, replication factor, configs and (v7+) topic ID. Of a validate-only request it
// reports what was asked for, -1 standing for a default.
func describeCreatedTopic(store *log.Store, topic *kmsg.CreateTopicsResponseTopic, t kmsg.CreateTopicsRequestTopic, validateOnly bool) {
	topic.NumPartitions, topic.ReplicationFactor = t.NumPartitions, t.ReplicationFactor
	if validateOnly {
		return
	}
	d, err := store.DescribeTopic(t.Topic)
	if err != nil { // deleted since: report it as asked
		return
	}
	topic.TopicID = d.ID
	topic.NumPartitions = int32(len(d.Partitions))
	if len(d.Partitions) > 0 {
		topic.ReplicationFactor = int16(len(d.Partitions[0].Replicas))
	}
	for _, c := range topicConfigs(d.Config, nil) {
		config := kmsg.NewCreateTopicsResponseTopicConfig()
		config.Name, config.Value, config.Source = c.Name, c.Value, int8(c.Source)
		topic.Configs = append(topic.Configs, config)
	}
}
