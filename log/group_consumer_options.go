package log

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/stratalog/strata/group"
)

// Bounds of GroupConsumerOptions' durations, checked by NewGroupConsumer.
const (
	// MinGroupSessionTimeout and MaxGroupSessionTimeout bound
	// GroupConsumerOptions.SessionTimeout: the store's coordinator accepts no other
	// (Kafka's group.min.session.timeout.ms and group.max.session.timeout.ms
	// defaults).
	MinGroupSessionTimeout = group.DefaultMinSessionTimeout
	MaxGroupSessionTimeout = group.DefaultMaxSessionTimeout
	// MinGroupHeartbeatInterval is the shortest GroupConsumerOptions.HeartbeatInterval:
	// a faster heartbeat only burns CPU (in process, rebalances reach members at
	// once without it).
	MinGroupHeartbeatInterval = time.Millisecond
	// DefaultMaxPollInterval is GroupConsumerOptions.MaxPollInterval's default
	// (Kafka's max.poll.interval.ms).
	DefaultMaxPollInterval = 5 * time.Minute
)

// check returns a *ConfigError naming every invalid field, in the order of the
// struct, and fills in defaults.
func (o *GroupConsumerOptions) check() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case o.Group == "":
		bad("Group: empty")
	case len(o.Group) > group.MaxNameBytes:
		bad("Group: %d bytes (at most %d)", len(o.Group), group.MaxNameBytes)
	}
	switch {
	case len(o.Topics) == 0 && o.TopicPattern == nil:
		bad("Topics: none, and no TopicPattern")
	case len(o.Topics) > 0 && o.TopicPattern != nil:
		bad("Topics: given with a TopicPattern (give one)")
	}
	for _, topic := range o.Topics {
		if topic == "" || len(topic) > group.MaxNameBytes {
			bad("Topics: %q is empty or longer than %d bytes", truncateForError(topic), group.MaxNameBytes)
			break
		}
	}
	for _, id := range []struct{ field, value string }{{"ClientID", o.ClientID}, {"InstanceID", o.InstanceID}} {
		if len(id.value) > group.MaxNameBytes {
			bad("%s: %d bytes (at most %d)", id.field, len(id.value), group.MaxNameBytes)
		}
	}
	seen := map[string]bool{}
	for _, a := range o.Assignors {
		if a == nil || seen[a.Name()] {
			bad("Assignors: nil or listed twice")
			break
		}
		seen[a.Name()] = true
	}
	session := o.SessionTimeout
	if session == 0 {
		session = group.DefaultSessionTimeout
	}
	if o.SessionTimeout != 0 && (session < MinGroupSessionTimeout || session > MaxGroupSessionTimeout) {
		bad("SessionTimeout: %v not in [%v, %v]", o.SessionTimeout, MinGroupSessionTimeout, MaxGroupSessionTimeout)
	}
	if o.RebalanceTimeout < 0 {
		bad("RebalanceTimeout: %v is negative", o.RebalanceTimeout)
	}
	if o.MaxPollInterval < 0 {
		bad("MaxPollInterval: %v is negative", o.MaxPollInterval)
	}
	switch {
	case o.HeartbeatInterval < 0:
		bad("HeartbeatInterval: %v is negative", o.HeartbeatInterval)
	case o.HeartbeatInterval > 0 && o.HeartbeatInterval < MinGroupHeartbeatInterval:
		bad("HeartbeatInterval: %v is below %v", o.HeartbeatInterval, MinGroupHeartbeatInterval)
	case o.HeartbeatInterval >= session || (o.HeartbeatInterval == 0 && group.DefaultHeartbeatInterval >= session):
		bad("HeartbeatInterval: %v is not below the session timeout %v", max(o.HeartbeatInterval, group.DefaultHeartbeatInterval), session)
	}
	if o.Reset < ResetEarliest || o.Reset > ResetNone {
		bad("Reset: %v is not a reset policy", o.Reset)
	}
	if o.AutoCommitInterval < 0 {
		bad("AutoCommitInterval: %v is negative", o.AutoCommitInterval)
	}
	if o.MaxPollRecords < 0 || o.MaxPollBytes < 0 {
		bad("MaxPollRecords, MaxPollBytes: negative")
	}
	if problem := checkIsolationLevel(o.IsolationLevel); problem != "" {
		bad("%s", problem)
	}
	if len(problems) > 0 {
		return checkConfig("GroupConsumerOptions", problems)
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = group.DefaultHeartbeatInterval
	}
	if o.AutoCommitInterval == 0 {
		o.AutoCommitInterval = DefaultAutoCommitInterval
	}
	if o.MaxPollInterval == 0 {
		o.MaxPollInterval = DefaultMaxPollInterval
	}
	if o.RebalanceTimeout == 0 {
		// A revocation waits for the application up to MaxPollInterval: the
		// rebalance waits as long (the Java consumer's rebalance timeout is its
		// max.poll.interval.ms).
		o.RebalanceTimeout = o.MaxPollInterval
	}
	if o.TopicPattern != nil {
		o.TopicPattern = regexp.MustCompile(`^(?:` + o.TopicPattern.String() + `)$`) // the whole name
	}
	o.Topics = slices.Clone(o.Topics)
	o.Assignors = slices.Clone(o.Assignors)
	return nil
}

// truncateForError shortens a name for an error message.
func truncateForError(name string) string {
	if len(name) > 64 {
		return name[:64] + "..."
	}
	return name
}
