package group

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults, all Kafka's.
const (
	// DefaultSessionTimeout is a member's session timeout when its request names none
	// (session.timeout.ms).
	DefaultSessionTimeout = 45 * time.Second
	// DefaultRebalanceTimeout is how long a rebalance waits for members to rejoin
	// when the request names none (the consumer's max.poll.interval.ms).
	DefaultRebalanceTimeout = 5 * time.Minute
	// DefaultHeartbeatInterval is how often a member should heartbeat
	// (heartbeat.interval.ms); the coordinator does not enforce it.
	DefaultHeartbeatInterval = 3 * time.Second
	// DefaultMinSessionTimeout and DefaultMaxSessionTimeout bound the session timeouts
	// members may ask for (group.min.session.timeout.ms, group.max.session.timeout.ms).
	DefaultMinSessionTimeout = 6 * time.Second
	DefaultMaxSessionTimeout = 30 * time.Minute
	// DefaultOffsetsRetention is how long the offsets of an empty group, or of a
	// consumer outside any group, are kept (offsets.retention.minutes).
	DefaultOffsetsRetention = 7 * 24 * time.Hour
	// DefaultOffsetsRetentionCheckInterval is how often Start's goroutine expires
	// offsets (offsets.retention.check.interval.ms).
	DefaultOffsetsRetentionCheckInterval = 10 * time.Minute
	// DefaultMaxOffsetMetadataBytes bounds a commit's metadata string
	// (offset.metadata.max.bytes).
	DefaultMaxOffsetMetadataBytes = 4096
)

// Options configure a Coordinator. The zero value is valid: offsets in memory, no
// topics known, the wall clock, Kafka's defaults.
type Options struct {
	// Offsets stores committed offsets and group records. Default: a new
	// MemoryOffsetStore (nothing survives the process). The caller keeps ownership:
	// Coordinator.Close does not close it.
	Offsets OffsetStore
	// Metadata says how many partitions topics have and where partitions end.
	// Default: no topics (assignors assign nothing, lag is unknown).
	Metadata Metadata
	// Now is the clock of session timeouts, rebalance timeouts, commit times and
	// offset retention. Default time.Now. Tests drive time with it and Tick; Start's
	// goroutine waits on the runtime's timers, so use it with the real clock or
	// under testing/synctest.
	Now func() time.Time
	// MinSessionTimeout and MaxSessionTimeout bound members' session timeouts.
	// Defaults 6 s and 30 min.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// OffsetsRetention is how long offsets are kept after their group became empty
	// (or, for a consumer outside any group, after their commit); then they are
	// deleted, and so is the group. Default 7 days; negative: keep forever.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is how often Start's goroutine applies
	// OffsetsRetention. Default 10 minutes.
	OffsetsRetentionCheckInterval time.Duration
	// MaxOffsetMetadataBytes bounds the metadata string of a commit. Default 4096.
	MaxOffsetMetadataBytes int
	// Logger receives rebalances, expirations and background failures. Default:
	// discard.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with defaults filled in, or an error naming every
// invalid field.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}
	if out.MinSessionTimeout < 0 {
		bad("MinSessionTimeout %v is negative", out.MinSessionTimeout)
	}
	if out.MaxSessionTimeout < 0 {
		bad("MaxSessionTimeout %v is negative", out.MaxSessionTimeout)
	}
	if out.OffsetsRetentionCheckInterval < 0 {
		bad("OffsetsRetentionCheckInterval %v is negative", out.OffsetsRetentionCheckInterval)
	}
	if out.MaxOffsetMetadataBytes < 0 || out.MaxOffsetMetadataBytes > MaxNameBytes {
		bad("MaxOffsetMetadataBytes %d not in [0, %d]", out.MaxOffsetMetadataBytes, MaxNameBytes)
	}
	if out.MinSessionTimeout == 0 {
		out.MinSessionTimeout = DefaultMinSessionTimeout
	}
	if out.MaxSessionTimeout == 0 {
		out.MaxSessionTimeout = DefaultMaxSessionTimeout
	}
	if out.MinSessionTimeout > out.MaxSessionTimeout {
		bad("MinSessionTimeout %v exceeds MaxSessionTimeout %v", out.MinSessionTimeout, out.MaxSessionTimeout)
	}
	if len(problems) > 0 {
		return Options{}, errorf("strata/group: invalid options: %w", errors.Join(append(problems, ErrInvalidArgument)...))
	}
	if out.Offsets == nil {
		out.Offsets = NewMemoryOffsetStore()
	}
	if out.Metadata == nil {
		out.Metadata = noMetadata{}
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.OffsetsRetention == 0 {
		out.OffsetsRetention = DefaultOffsetsRetention
	}
	if out.OffsetsRetentionCheckInterval == 0 {
		out.OffsetsRetentionCheckInterval = DefaultOffsetsRetentionCheckInterval
	}
	if out.MaxOffsetMetadataBytes == 0 {
		out.MaxOffsetMetadataBytes = DefaultMaxOffsetMetadataBytes
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}
