package log

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalog/strata/partition"
)

// SyncMode says when a topic's appends are fsynced. It is partition.SyncMode, one
// type for a topic and its partitions. The zero value, SyncDefault, inherits the
// mode of the store's TopicDefaults (and there, means SyncEveryAppend).
type SyncMode = partition.SyncMode

const (
	// SyncDefault inherits the policy: a topic takes the store's TopicDefaults.Sync,
	// and the store's default is SyncEveryAppend.
	SyncDefault = partition.SyncDefault
	// SyncEveryAppend acknowledges an append only after an fsync covers it; appends
	// from many goroutines share fsyncs (group commit). See partition.SyncEveryAppend.
	SyncEveryAppend = partition.SyncEveryAppend
	// SyncPeriodic acknowledges an append once it is written to the OS, and fsyncs
	// every EveryRecords records or every Interval. See partition.SyncPeriodic.
	SyncPeriodic = partition.SyncPeriodic
	// SyncNone leaves flushing to the OS (and to Close). See partition.SyncNone.
	SyncNone = partition.SyncNone
)

// Format: syncModeNames are the modes' names, as written in topics.json ("sync";
// "sync.mode" before version 3; SyncDefault is the field's absence). The names, not
// the numbers, are stored.
var syncModeNames = [...]string{
	SyncDefault:     "",
	SyncEveryAppend: "every-append",
	SyncPeriodic:    "periodic",
	SyncNone:        "none",
}

// parseSyncMode is the inverse of syncModeNames.
func parseSyncMode(s string) (SyncMode, bool) {
	for m, name := range syncModeNames {
		if name == s {
			return SyncMode(m), true
		}
	}
	return 0, false
}

// SyncPolicy chooses the durability of a topic's appends: partition.SyncPolicy, one
// type for a topic and its partitions. The zero value inherits the store's
// TopicDefaults.Sync.
type SyncPolicy = partition.SyncPolicy

// syncPolicyProblems appends to dst a description of every invalid field of p.
func syncPolicyProblems(p SyncPolicy, dst []string, field string) []string {
	switch p.Mode {
	case SyncDefault, SyncEveryAppend, SyncNone:
		if p.EveryRecords != 0 || p.Interval != 0 {
			dst = append(dst, fmt.Sprintf("%s: EveryRecords and Interval apply only to SyncPeriodic", field))
		}
	case SyncPeriodic:
		if p.EveryRecords < 0 || p.Interval < 0 {
			dst = append(dst, fmt.Sprintf("%s: EveryRecords %d and Interval %v must not be negative", field, p.EveryRecords, p.Interval))
		} else if p.EveryRecords == 0 && p.Interval == 0 {
			dst = append(dst, fmt.Sprintf("%s: SyncPeriodic needs EveryRecords > 0 or Interval > 0", field))
		}
	default:
		dst = append(dst, fmt.Sprintf("%s.Mode: %v is not a sync mode", field, p.Mode))
	}
	return dst
}

// Sync fsyncs every online partition (what SyncPeriodic and SyncNone topics hold
// unsynced; under SyncEveryAppend, appends in flight) and then records in
// recovery-points.checkpoint how far each one is durable, as the store does every
// Options.RecoveryPointInterval. Once it returns, a power loss costs no record
// appended to a partition before it was called (records still in a Producer's
// buffer are not), and the next Open reports any of them missing as a corruption
// (the partition goes offline) rather than a shorter log. It returns
// the errors of the partitions that failed, each naming its partition, and the
// file's; if ctx ends it stops, returning ctx.Err().
func (s *Store) Sync(ctx context.Context) error {
	set, err := s.snapshot()
	if err != nil {
		return err
	}
	var errList []error
	for _, name := range set.sortedNames(true) {
		t := set[name]
		for i := range t.partitions {
			for _, p := range t.logs(i) {
				if err := ctx.Err(); err != nil {
					return errors.Join(append(errList, err)...)
				}
				if err := p.Sync(ctx); err != nil {
					err = s.partitionError("sync", TopicPartition{Topic: name, Partition: int32(i)}, p, err)
					if !errors.Is(err, ErrUnknownTopic) { // deleted meanwhile: nothing to sync
						errList = append(errList, err)
					}
				}
			}
		}
	}
	return errors.Join(append(errList, s.recordRecoveryPoints())...)
}
