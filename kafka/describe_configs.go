package kafka

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDescribeConfigs answers DescribeConfigs: a topic's effective configs by
// Kafka name (those log.TopicConfig.Configs gives, strata's sync settings
// included), all of them or those named. The store does not tell a topic's own
// settings from inherited ones, so every value is reported with the source
// DYNAMIC_TOPIC_CONFIG. A broker has no configs to report yet (an empty list);
// other resource types are INVALID_REQUEST.
func handleDescribeConfigs(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := kmsg.NewPtrDescribeConfigsResponse()
	resp.Version = req.Version
	for _, res := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			d, err := r.store.DescribeTopic(res.ResourceName)
			if err != nil {
				out.ErrorCode, out.ErrorMessage = errorCode(err)
				break
			}
			for _, c := range topicConfigs(d.Config, res.ConfigNames) {
				config := kmsg.NewDescribeConfigsResponseResourceConfig()
				config.Name, config.Value, config.Source = c.Name, c.Value, c.Source
				if req.Version >= 3 {
					config.ConfigType = c.Type
				}
				if req.IncludeSynonyms {
					synonym := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
					synonym.Name, synonym.Value, synonym.Source = c.Name, c.Value, c.Source
					config.ConfigSynonyms = []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{synonym}
				}
				out.Configs = append(out.Configs, config)
			}
		case kmsg.ConfigResourceTypeBroker:
			if _, err := strconv.ParseInt(res.ResourceName, 10, 32); err != nil && res.ResourceName != "" {
				out.ErrorCode = kerr.InvalidRequest.Code
				out.ErrorMessage = message(fmt.Sprintf("broker %q: not a broker ID", res.ResourceName))
			}
		default:
			out.ErrorCode = kerr.InvalidRequest.Code
			out.ErrorMessage = message(fmt.Sprintf("resource type %v is not served", res.ResourceType))
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp, nil
}

// describedConfig is one config of a topic as DescribeConfigs and CreateTopics
// report it.
type describedConfig struct {
	Name   string
	Value  *string
	Source kmsg.ConfigSource
	Type   kmsg.ConfigType
}

// topicConfigs returns the configs of the effective config c by name, sorted, or
// only those in names if names is not nil.
func topicConfigs(c log.TopicConfig, names []string) []describedConfig {
	configs := c.Configs()
	var out []describedConfig
	for name, value := range configs {
		if names != nil && !slices.Contains(names, name) {
			continue
		}
		out = append(out, describedConfig{Name: name, Value: message(value), Source: kmsg.ConfigSourceDynamicTopicConfig, Type: topicConfigType(name)})
	}
	slices.SortFunc(out, func(a, b describedConfig) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// topicConfigType is the type Kafka gives the named config.
func topicConfigType(name string) kmsg.ConfigType {
	switch name {
	case log.ConfigCleanupPolicy:
		return kmsg.ConfigTypeList
	case log.ConfigCompressionType, log.ConfigSync:
		return kmsg.ConfigTypeString
	case log.ConfigMaxMessageBytes, log.ConfigMinInsyncReplicas, log.ConfigSegmentBytes, log.ConfigSyncRecords:
		return kmsg.ConfigTypeInt
	case log.ConfigMinCleanableDirtyRatio:
		return kmsg.ConfigTypeDouble
	case log.ConfigUncleanLeaderElection:
		return kmsg.ConfigTypeBoolean
	}
	return kmsg.ConfigTypeLong
}
