package log_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

// NewGroupConsumer refuses every option the coordinator would refuse later, with
// one *ConfigError naming each invalid field, and nothing joins the group.
func TestGroupConsumerOptionsValidatedUpFront(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	createTopic(t, s, "t", log.TopicConfig{Partitions: 1})
	long := strings.Repeat("x", 40000)
	for _, tc := range []struct {
		name   string
		opts   log.GroupConsumerOptions
		fields []string
	}{
		{"session timeout below the minimum", log.GroupConsumerOptions{SessionTimeout: time.Second, HeartbeatInterval: 100 * time.Millisecond}, []string{"SessionTimeout"}},
		{"session timeout above the maximum", log.GroupConsumerOptions{SessionTimeout: time.Hour}, []string{"SessionTimeout"}},
		{"heartbeat interval of 1 ns", log.GroupConsumerOptions{HeartbeatInterval: time.Nanosecond}, []string{"HeartbeatInterval"}},
		{"a group id too long", log.GroupConsumerOptions{Group: long}, []string{"Group"}},
		{"an empty topic name", log.GroupConsumerOptions{Topics: []string{""}}, []string{"Topics"}},
		{"a nil assignor", log.GroupConsumerOptions{Assignors: []log.Assignor{nil}}, []string{"Assignors"}},
		{"client and instance ids too long", log.GroupConsumerOptions{ClientID: long, InstanceID: long}, []string{"ClientID", "InstanceID"}},
		{"a negative max poll interval", log.GroupConsumerOptions{MaxPollInterval: -time.Second}, []string{"MaxPollInterval"}},
		{"everything at once", log.GroupConsumerOptions{SessionTimeout: time.Hour, HeartbeatInterval: time.Nanosecond, MaxPollInterval: -1, ClientID: long}, []string{"ClientID", "SessionTimeout", "MaxPollInterval", "HeartbeatInterval"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts.Group == "" {
				opts.Group = "g"
			}
			if opts.Topics == nil {
				opts.Topics = []string{"t"}
			}
			lost := 0
			opts.OnLost = func([]log.TopicPartition) { lost++ }
			g, err := s.NewGroupConsumer(opts)
			if g != nil {
				g.Close()
			}
			require.ErrorIs(t, err, log.ErrInvalidConfig)
			var ce *log.ConfigError
			require.True(t, errors.As(err, &ce), "%T %v", err, err)
			require.Len(t, ce.Problems, len(tc.fields), "%v", ce.Problems)
			for i, field := range tc.fields {
				require.True(t, strings.HasPrefix(ce.Problems[i], field+":"), "problem %q does not name %s", ce.Problems[i], field)
			}
			require.Zero(t, lost)
		})
	}
	groups, err := s.ListGroups()
	require.NoError(t, err)
	require.Empty(t, groups, "a refused consumer joined nothing")
}
