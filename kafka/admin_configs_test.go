package kafka

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAdminIncrementalAlterConfigsThroughKadm alters a topic's configs with
// kadm's IncrementalAlterConfigs: SET, DELETE (back to the default), APPEND and
// SUBTRACT of cleanup.policy, validate-only (with the store's own checks), and
// the errors Kafka gives.
func TestAdminIncrementalAlterConfigsThroughKadm(t *testing.T) {
	ts := startServer(t, nil, nil)
	adm := kadm.NewClient(ts.client(t))
	ctx := context.Background()
	if err := ts.store.CreateTopic(ctx, "plain", log.TopicConfig{}); err != nil {
		t.Fatal(err)
	}
	defaults := describeConfig(t, ts.store, "plain")
	if err := ts.store.CreateTopic(ctx, "orders", log.TopicConfig{SegmentBytes: 1 << 20, RetentionAge: time.Hour}); err != nil {
		t.Fatal(err)
	}

	alter := []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: log.ConfigRetentionMs, Value: kmsg.StringPtr("60000")},
		{Op: kadm.DeleteConfig, Name: log.ConfigSegmentBytes},
		{Op: kadm.AppendConfig, Name: log.ConfigCleanupPolicy, Value: kmsg.StringPtr(log.CleanupCompact)},
		{Op: kadm.DeleteConfig, Name: "message.timestamp.type"}, // unknown: nothing to delete, as on Kafka
	}
	validated, err := adm.ValidateAlterTopicConfigs(ctx, alter, "orders")
	if err != nil || validated[0].Err != nil {
		t.Fatalf("validate-only: %v %+v", err, validated)
	}
	if c := describeConfig(t, ts.store, "orders"); c.RetentionAge != time.Hour || c.SegmentBytes != 1<<20 {
		t.Fatalf("validate-only changed the configs: %+v", c)
	}
	// Validate-only makes the store's own checks: min.insync.replicas above the
	// replication factor is refused.
	minInsync := []kadm.AlterConfig{{Op: kadm.SetConfig, Name: log.ConfigMinInsyncReplicas, Value: kmsg.StringPtr("2")}}
	if validated, err := adm.ValidateAlterTopicConfigs(ctx, minInsync, "orders"); err != nil || !errors.Is(validated[0].Err, kerr.InvalidConfig) {
		t.Fatalf("validate-only min.insync.replicas 2 of a one-broker store: %v %+v, want INVALID_CONFIG", err, validated)
	}
	altered, err := adm.AlterTopicConfigs(ctx, alter, "orders")
	if err != nil || altered[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, altered)
	}
	c := describeConfig(t, ts.store, "orders")
	if c.RetentionAge != time.Minute || c.SegmentBytes != defaults.SegmentBytes || c.CleanupPolicy != defaults.CleanupPolicy+","+log.CleanupCompact {
		t.Fatalf("after SET, DELETE and APPEND: retention %v segment bytes %d cleanup %q, want 1m, %d and %q",
			c.RetentionAge, c.SegmentBytes, c.CleanupPolicy, defaults.SegmentBytes, defaults.CleanupPolicy+","+log.CleanupCompact)
	}
	subtract := []kadm.AlterConfig{{Op: kadm.SubtractConfig, Name: log.ConfigCleanupPolicy, Value: kmsg.StringPtr(defaults.CleanupPolicy)}}
	if altered, err := adm.AlterTopicConfigs(ctx, subtract, "orders"); err != nil || altered[0].Err != nil {
		t.Fatalf("subtract: %v %+v", err, altered)
	}
	if c := describeConfig(t, ts.store, "orders"); c.CleanupPolicy != log.CleanupCompact {
		t.Fatalf("after SUBTRACT: cleanup %q, want compact", c.CleanupPolicy)
	}

	for _, tc := range []struct {
		name   string
		topic  string
		config kadm.AlterConfig
		want   *kerr.Error
	}{
		{"append to a config that is no list", "orders", kadm.AlterConfig{Op: kadm.AppendConfig, Name: log.ConfigRetentionMs, Value: kmsg.StringPtr("1")}, kerr.InvalidRequest},
		{"set without a value", "orders", kadm.AlterConfig{Op: kadm.SetConfig, Name: log.ConfigRetentionMs}, kerr.InvalidRequest},
		{"a config strata does not have", "orders", kadm.AlterConfig{Op: kadm.SetConfig, Name: "message.timestamp.type", Value: kmsg.StringPtr("LogAppendTime")}, kerr.InvalidConfig},
		{"an invalid value", "orders", kadm.AlterConfig{Op: kadm.SetConfig, Name: log.ConfigSegmentBytes, Value: kmsg.StringPtr("lots")}, kerr.InvalidConfig},
		{"subtract every policy", "orders", kadm.AlterConfig{Op: kadm.SubtractConfig, Name: log.ConfigCleanupPolicy, Value: kmsg.StringPtr(log.CleanupCompact)}, kerr.InvalidConfig},
		{"an unknown topic", "missing", kadm.AlterConfig{Op: kadm.SetConfig, Name: log.ConfigRetentionMs, Value: kmsg.StringPtr("1000")}, kerr.UnknownTopicOrPartition},
	} {
		altered, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{tc.config}, tc.topic)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(altered[0].Err, tc.want) {
			t.Errorf("%s: %v (%s), want %v", tc.name, altered[0].Err, altered[0].ErrMessage, tc.want)
		}
	}
	if c := describeConfig(t, ts.store, "orders"); c.RetentionAge != time.Minute || c.CleanupPolicy != log.CleanupCompact {
		t.Errorf("refused alterations changed the configs: %+v", c)
	}

	// Broker configs: strata has none to change dynamically.
	brokerAlter := []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kmsg.StringPtr("1000")}}
	altered, err = adm.AlterBrokerConfigs(ctx, brokerAlter, 0)
	if err != nil || !errors.Is(altered[0].Err, kerr.InvalidConfig) {
		t.Errorf("broker config: %v %+v, want INVALID_CONFIG", err, altered)
	}
}

// TestAdminAlterConfigsThroughKadm alters a topic's configs with kadm's
// non-incremental AlterConfigs: the configs given replace all of the topic's,
// the others going back to the defaults.
func TestAdminAlterConfigsThroughKadm(t *testing.T) {
	ts := startServer(t, nil, nil)
	adm := kadm.NewClient(ts.client(t))
	ctx := context.Background()
	if err := ts.store.CreateTopic(ctx, "plain", log.TopicConfig{}); err != nil {
		t.Fatal(err)
	}
	defaults := describeConfig(t, ts.store, "plain")
	if err := ts.store.CreateTopic(ctx, "orders", log.TopicConfig{SegmentBytes: 1 << 20, RetentionAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	set := []kadm.AlterConfig{{Name: log.ConfigMaxMessageBytes, Value: kmsg.StringPtr("65536")}, {Name: log.ConfigRetentionMs, Value: kmsg.StringPtr("120000")}}
	if validated, err := adm.ValidateAlterTopicConfigsState(ctx, set, "orders"); err != nil || validated[0].Err != nil {
		t.Fatalf("validate-only: %v %+v", err, validated)
	}
	if c := describeConfig(t, ts.store, "orders"); c.SegmentBytes != 1<<20 || c.MaxBatchBytes != defaults.MaxBatchBytes {
		t.Fatalf("validate-only changed the configs: %+v", c)
	}
	if altered, err := adm.AlterTopicConfigsState(ctx, set, "orders"); err != nil || altered[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, altered)
	}
	c := describeConfig(t, ts.store, "orders")
	if c.MaxBatchBytes != 65536 || c.RetentionAge != 2*time.Minute || c.SegmentBytes != defaults.SegmentBytes {
		t.Fatalf("after AlterConfigs: max batch %d retention %v segment bytes %d, want 65536, 2m and the default %d",
			c.MaxBatchBytes, c.RetentionAge, c.SegmentBytes, defaults.SegmentBytes)
	}
	dup := []kadm.AlterConfig{{Name: log.ConfigRetentionMs, Value: kmsg.StringPtr("1000")}, {Name: log.ConfigRetentionMs, Value: kmsg.StringPtr("2000")}}
	if altered, err := adm.AlterTopicConfigsState(ctx, dup, "orders"); err != nil || !errors.Is(altered[0].Err, kerr.InvalidRequest) {
		t.Errorf("a config named twice: %v %+v, want INVALID_REQUEST", err, altered)
	}
	if altered, err := adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: "num.io.threads", Value: kmsg.StringPtr("4")}}, 0); err != nil || !errors.Is(altered[0].Err, kerr.InvalidConfig) {
		t.Errorf("broker config: %v %+v, want INVALID_CONFIG", err, altered)
	}
}

// describeConfig returns the effective config of a topic.
func describeConfig(t testing.TB, store *log.Store, topic string) log.TopicConfig {
	t.Helper()
	d, err := store.DescribeTopic(topic)
	if err != nil {
		t.Fatal(err)
	}
	return d.Config
}
