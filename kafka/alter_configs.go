package kafka

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleAlterConfigs answers AlterConfigs, Kafka's non-incremental form: a
// topic's configs become exactly those given, every config not named going back
// to the store's default (log.Store.AlterTopicConfig with the others reset). A
// null value is a config not given. Broker configs are refused (see
// alterResource); ValidateOnly checks without changing anything.
func handleAlterConfigs(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := kmsg.NewPtrAlterConfigsResponse()
	resp.Version = req.Version
	for _, res := range req.Resources {
		out := kmsg.NewAlterConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		change := configChange{set: map[string]string{}}
		var names []string
		for _, c := range res.Configs {
			names = append(names, c.Name)
			if c.Value != nil {
				change.set[c.Name] = *c.Value
			}
		}
		if dup := duplicateName(names); dup != "" {
			out.ErrorCode, out.ErrorMessage = kerr.InvalidRequest.Code, message(fmt.Sprintf("duplicate config key %q", dup))
		} else {
			if res.ResourceType == kmsg.ConfigResourceTypeTopic {
				change.reset = unnamedConfigs(change.set)
			}
			out.ErrorCode, out.ErrorMessage = alterResource(r, res.ResourceType, res.ResourceName, change, req.ValidateOnly)
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp, nil
}

// configChange is an alteration of a resource's configs: values set by name,
// and names reset to their defaults.
type configChange struct {
	set   map[string]string
	reset []string
}

// syncConfigs are the configs of strata's sync policy, which AlterTopicConfig
// resets together (resetting log.ConfigSync resets all three).
var syncConfigs = []string{log.ConfigSync, log.ConfigSyncIntervalMs, log.ConfigSyncRecords}

// unnamedConfigs returns the topic configs not in set, which AlterConfigs resets;
// the sync configs are left alone if any of them is set, as resetting one resets
// all three.
func unnamedConfigs(set map[string]string) []string {
	var reset []string
	syncSet := false
	for _, name := range syncConfigs {
		if _, ok := set[name]; ok {
			syncSet = true
		}
	}
	for _, name := range log.TopicConfigNames() {
		if _, ok := set[name]; ok || (syncSet && slices.Contains(syncConfigs, name)) {
			continue
		}
		reset = append(reset, name)
	}
	return reset
}

// duplicateName returns a name found twice in names, or "".
func duplicateName(names []string) string {
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			return name
		}
		seen[name] = true
	}
	return ""
}

// alterResource applies change to the configs of a resource, for AlterConfigs
// and IncrementalAlterConfigs:
//   - a topic's configs by Kafka name (log.ParseTopicConfigs): an unknown name or
//     an invalid value is INVALID_CONFIG, an unknown topic
//     UNKNOWN_TOPIC_OR_PARTITION, an internal one INVALID_REQUEST (the store
//     does not alter its own topics). validateOnly makes AlterTopicConfig's
//     checks and changes nothing (log.Store.ValidateAlterTopicConfig).
//   - a broker (its ID, or "" for the cluster's default): strata has no dynamic
//     broker configs (the store's settings are log.Options, fixed at Open), so
//     any config is refused with INVALID_CONFIG, as Kafka refuses a config that
//     cannot be updated dynamically; an empty change succeeds.
//   - other resource types (broker loggers, client metrics, groups) are
//     INVALID_REQUEST.
func alterResource(r *request, resourceType kmsg.ConfigResourceType, name string, change configChange, validateOnly bool) (int16, *string) {
	switch resourceType {
	case kmsg.ConfigResourceTypeTopic:
		return alterTopic(r, name, change, validateOnly)
	case kmsg.ConfigResourceTypeBroker:
		if code, msg := checkBrokerName(r, name); code != 0 {
			return code, msg
		}
		if len(change.set)+len(change.reset) > 0 {
			names := slices.Sorted(func(yield func(string) bool) {
				for n := range change.set {
					if !yield(n) {
						return
					}
				}
			})
			names = append(names, change.reset...)
			return kerr.InvalidConfig.Code, message(fmt.Sprintf("cannot update these broker configs dynamically: %s (strata's broker settings are the store's Options, fixed at Open)",
				strings.Join(names, ", ")))
		}
		return 0, nil
	}
	return kerr.InvalidRequest.Code, message(fmt.Sprintf("resource type %v is not served", resourceType))
}

// checkBrokerName checks a broker resource name: "" (the cluster's default) or
// the ID of one of the store's brokers.
func checkBrokerName(r *request, name string) (int16, *string) {
	if name == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return kerr.InvalidRequest.Code, message(fmt.Sprintf("broker %q: not a broker ID", name))
	}
	brokers, err := r.store.Brokers()
	if err != nil {
		return errorCode(err)
	}
	for _, b := range brokers {
		if int64(b.ID) == id {
			return 0, nil
		}
	}
	return kerr.InvalidRequest.Code, message(fmt.Sprintf("broker %d: no such broker", id))
}

func alterTopic(r *request, name string, change configChange, validateOnly bool) (int16, *string) {
	d, err := r.store.DescribeTopic(name)
	if err != nil {
		return errorCode(err)
	}
	if d.Internal {
		return errorCode(fmt.Errorf("topic %q: %w", name, log.ErrInternalTopic))
	}
	set := map[string]string{}
	reset := slices.Clone(change.reset)
	for n, value := range change.set {
		// false is TopicConfig's zero value, which inherits: setting it is
		// resetting to the store's default (false unless log.Options says).
		if n == log.ConfigUncleanLeaderElection && strings.EqualFold(strings.TrimSpace(value), "false") {
			reset = append(reset, n)
			continue
		}
		set[n] = value
	}
	parsed, err := log.ParseTopicConfigs(set)
	if err != nil {
		return errorCode(err)
	}
	if validateOnly {
		return errorCode(r.store.ValidateAlterTopicConfig(name, parsed, reset...))
	}
	return errorCode(r.store.AlterTopicConfig(r.ctx, name, parsed, reset...))
}
