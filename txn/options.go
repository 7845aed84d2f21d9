package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Options configure a Coordinator. The zero value is valid: state in memory,
// markers discarded, producer ids from memory, the wall clock, Kafka's defaults.
type Options struct {
	// Log keeps the coordinator's records. Default: a new MemoryLog.
	Log Log
	// Markers writes the transaction markers. Default: one that discards them
	// (useful only in tests of the coordinator alone).
	Markers MarkerWriter
	// ProducerIDs hands out producer ids. Default: a BlockAllocator over a
	// MemoryBlockStore.
	ProducerIDs ProducerIDAllocator
	// OffsetsPartition returns the __consumer_offsets partition holding a group's
	// offsets, which AddOffsetsToTxn adds to the transaction. Default: partition 0
	// of "__consumer_offsets" (strata's offsets topic has one partition).
	OffsetsPartition func(group string) TopicPartition
	// Now is the clock of timeouts and expiration. Default time.Now.
	Now func() time.Time
	// MaxTransactionTimeout bounds the timeouts producers ask for. Default 15 min.
	MaxTransactionTimeout time.Duration
	// TransactionalIDExpiration is how long an id with no transaction in progress
	// is kept after its last update. Default 7 days; negative: forever.
	TransactionalIDExpiration time.Duration
	// Logger receives fences, timeouts, marker failures. Default: discard.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with defaults filled in, or an error naming
// every invalid field.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	var problems []error
	if out.MaxTransactionTimeout < 0 {
		problems = append(problems, fmt.Errorf("MaxTransactionTimeout %v is negative", out.MaxTransactionTimeout))
	}
	if len(problems) > 0 {
		return Options{}, errorf("strata/txn: options: %w: %w", ErrInvalidArgument, errors.Join(problems...))
	}
	if out.Log == nil {
		out.Log = &MemoryLog{}
	}
	if out.Markers == nil {
		out.Markers = discardMarkers{}
	}
	if out.ProducerIDs == nil {
		a, err := NewBlockAllocator(&MemoryBlockStore{}, 0)
		if err != nil {
			return Options{}, err
		}
		out.ProducerIDs = a
	}
	if out.OffsetsPartition == nil {
		out.OffsetsPartition = func(string) TopicPartition { return TopicPartition{Topic: "__consumer_offsets"} }
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.MaxTransactionTimeout == 0 {
		out.MaxTransactionTimeout = DefaultMaxTransactionTimeout
	}
	if out.TransactionalIDExpiration == 0 {
		out.TransactionalIDExpiration = DefaultTransactionalIDExpiration
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}

type discardMarkers struct{}

func (discardMarkers) WriteMarker(context.Context, Marker) error { return nil }
