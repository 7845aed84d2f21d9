package log

import (
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/replica"
	"github.com/stratalog/strata/vfs"
)

// Format: high-watermarks.checkpoint, in each broker directory of a store of several
// brokers (Kafka keeps the same fact in replication-offset-checkpoint, without a
// checksum): for each replica the broker leads, the high watermark it reached and the
// leader epoch it led in, in the keyvalue format of partition.checkpoint:
//
//	strata-high-watermarks 1
//	orders-0 1500 3
//	orders-2 77 0
//	crc32c 5a1f00c3
//
// It is written with the recovery points (every RecoveryPointInterval and at
// Store.Sync, when a value changed). At Open, a partition whose leader is still the
// broker that wrote the line, in the same leader epoch (no election since), starts
// its high watermark there (clamped to what the leader holds), so that what readers
// saw before the restart stays readable even while the in-sync replicas are fewer
// than min.insync.replicas. A partition led by another broker, or in another epoch,
// starts from its replicas' reports, as before. A damaged file is logged and
// ignored: it is a hint.
const (
	highWatermarksFileName = "high-watermarks.checkpoint"
	highWatermarksFormat   = "strata-high-watermarks"
	highWatermarksVersion  = 1
	maxHighWatermarksBytes = 64 << 20
)

// leaderMark is a line of the file: a high watermark and the leader epoch it was
// reached in.
type leaderMark struct {
	hw    int64
	epoch int32
}

func encodeHighWatermarks(marks map[string]leaderMark) []byte {
	fields := make([]string, 0, 2*len(marks))
	for _, name := range slices.Sorted(maps.Keys(marks)) {
		m := marks[name]
		fields = append(fields, name, strconv.FormatInt(m.hw, 10)+" "+strconv.FormatInt(int64(m.epoch), 10))
	}
	return keyvalue.Encode(highWatermarksFormat, highWatermarksVersion, fields...)
}

func decodeHighWatermarks(path string, data []byte) (map[string]leaderMark, error) {
	fields, _, err := keyvalue.Decode(path, highWatermarksFormat, highWatermarksVersion, highWatermarksVersion, data)
	if err != nil {
		return nil, err
	}
	delete(fields, highWatermarksFormat)
	marks := make(map[string]leaderMark, len(fields))
	for name, value := range fields {
		hwText, epochText, ok := strings.Cut(value, " ")
		hw, err1 := strconv.ParseInt(hwText, 10, 64)
		epoch, err2 := strconv.ParseInt(epochText, 10, 32)
		_, _, isPartition := parsePartitionDirName(name)
		m := leaderMark{hw: hw, epoch: int32(epoch)}
		if !ok || err1 != nil || err2 != nil || hw < 0 || epoch < 0 || !isPartition ||
			strconv.FormatInt(hw, 10)+" "+strconv.FormatInt(epoch, 10) != value {
			return nil, errs.Corruptf(path, 0, "%s: bad line %q", highWatermarksFormat, name+" "+value)
		}
		marks[name] = m
	}
	return marks, nil
}

func readHighWatermarks(fsys vfs.FS, dir string) (map[string]leaderMark, error) {
	path := filepath.Join(dir, highWatermarksFileName)
	data, err := keyvalue.ReadFile(fsys, path, maxHighWatermarksBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return map[string]leaderMark{}, nil
	case err != nil:
		return nil, err
	}
	return decodeHighWatermarks(path, data)
}

// restoreHighWatermarks tells the cluster, for each partition, the high watermark
// its leader recorded in the leader epoch the controller still gives it.
func (s *Store) restoreHighWatermarks(ctl replica.Controller) {
	g := s.brokers
	for _, b := range g.set.brokers {
		if b.offline != nil {
			continue
		}
		marks, err := readHighWatermarks(s.fsys, b.dir)
		if err != nil {
			s.logger.Error("high watermarks unreadable: this broker's partitions start from their replicas' reports", "broker", b.id, "err", err)
			continue
		}
		g.points.highWatermarks[b.id] = maps.Clone(marks)
		for name, m := range marks {
			st, err := ctl.State(name)
			if err == nil && st.Leader == b.id && st.LeaderEpoch == m.epoch && !st.LeaderRecovering {
				g.cluster.SetCommitted(name, m.hw)
			}
		}
	}
}
