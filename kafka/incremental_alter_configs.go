package kafka

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleIncrementalAlterConfigs answers IncrementalAlterConfigs: each config is
// SET, DELETEd (back to the store's default; an unknown name is nothing to
// delete, as on Kafka), or, for a list config (cleanup.policy, the only one
// strata has), APPENDed to or SUBTRACTed from its current value. APPEND and
// SUBTRACT of another config, a null value other than DELETE's, and a config
// named twice are INVALID_REQUEST, as on Kafka. The change is made through
// alterResource.
func handleIncrementalAlterConfigs(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := kmsg.NewPtrIncrementalAlterConfigsResponse()
	resp.Version = req.Version
	for _, res := range req.Resources {
		out := kmsg.NewIncrementalAlterConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		change, code, msg := incrementalChange(r, res)
		if code == 0 {
			code, msg = alterResource(r, res.ResourceType, res.ResourceName, change, req.ValidateOnly)
		}
		out.ErrorCode, out.ErrorMessage = code, msg
		resp.Resources = append(resp.Resources, out)
	}
	return resp, nil
}

// incrementalChange turns the operations of res into a configChange.
func incrementalChange(r *request, res kmsg.IncrementalAlterConfigsRequestResource) (configChange, int16, *string) {
	change := configChange{set: map[string]string{}}
	var names []string
	for _, c := range res.Configs {
		names = append(names, c.Name)
	}
	if dup := duplicateName(names); dup != "" {
		return change, kerr.InvalidRequest.Code, message(fmt.Sprintf("duplicate config key %q", dup))
	}
	known := log.TopicConfigNames()
	for _, c := range res.Configs {
		if c.Value == nil && c.Op != kmsg.IncrementalAlterConfigOpDelete {
			return change, kerr.InvalidRequest.Code, message(fmt.Sprintf("null value not supported for %s of %q", c.Op, c.Name))
		}
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			change.set[c.Name] = *c.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			if res.ResourceType != kmsg.ConfigResourceTypeTopic || slices.Contains(known, c.Name) {
				change.reset = append(change.reset, c.Name)
			}
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if res.ResourceType != kmsg.ConfigResourceTypeTopic || c.Name != log.ConfigCleanupPolicy {
				return change, kerr.InvalidRequest.Code, message(fmt.Sprintf("config value %s is not allowed for config key %q: not a list", c.Op, c.Name))
			}
			d, err := r.store.DescribeTopic(res.ResourceName)
			if err != nil {
				code, msg := errorCode(err)
				return change, code, msg
			}
			change.set[c.Name] = editList(d.Config.CleanupPolicy, *c.Value, c.Op == kmsg.IncrementalAlterConfigOpAppend)
		default:
			return change, kerr.InvalidRequest.Code, message(fmt.Sprintf("unknown operation %d for config %q", c.Op, c.Name))
		}
	}
	return change, 0, nil
}

// editList appends the items of the comma-separated value to the list current,
// or subtracts them from it, keeping each item once and the order of current.
func editList(current, value string, appendItems bool) string {
	var items []string
	for item := range strings.SplitSeq(current, ",") {
		if item = strings.TrimSpace(item); item != "" && !slices.Contains(items, item) {
			items = append(items, item)
		}
	}
	for item := range strings.SplitSeq(value, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case appendItems && !slices.Contains(items, item):
			items = append(items, item)
		case !appendItems:
			items = slices.DeleteFunc(items, func(s string) bool { return s == item })
		}
	}
	return strings.Join(items, ",")
}
