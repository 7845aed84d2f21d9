package partition

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/vfs"
)

// CleanerCheckpointFile is the name of the file in a partition directory that records
// the cleaner point: every offset below it has been compacted (Kafka keeps the same
// number in its cleaner-offset-checkpoint). Compaction writes it after each swap and
// TruncateTo lowers it; a partition that never compacted has none. Format (text, one
// "key value" per line, the last line a CRC-32C of the bytes before it, in hex):
//
//	strata-cleaner-checkpoint 1
//	cleaner-point 368769
//	crc32c f7fe17bd
//
// It is replaced crash-atomically (temp file, fsync, rename, fsync directory). The
// cleaner point is only a hint of where dirty bytes begin: a missing file, or one that
// fails its CRC, means 0 (everything is dirty), which is always safe.
const CleanerCheckpointFile = "cleaner.checkpoint"

const cleanerCheckpointVersion = 1

func encodeCleanerCheckpoint(point int64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "strata-cleaner-checkpoint %d\n", cleanerCheckpointVersion)
	fmt.Fprintf(&b, "cleaner-point %d\n", point)
	fmt.Fprintf(&b, "crc32c %08x\n", crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes()
}

func decodeCleanerCheckpoint(path string, data []byte) (int64, error) {
	corrupt := func(reason string) (int64, error) {
		return 0, errs.Corruptf(path, 0, "cleaner checkpoint: %s", reason)
	}
	body, sumLine, ok := cutLastLine(data)
	if !ok {
		return corrupt("no crc line")
	}
	var sum uint32
	if _, err := fmt.Sscanf(sumLine, "crc32c %08x", &sum); err != nil {
		return corrupt("bad crc line")
	}
	if crc32.Checksum(body, castagnoli) != sum {
		return corrupt("crc mismatch")
	}
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), " ")
		fields[key] = value
	}
	if fields["strata-cleaner-checkpoint"] != strconv.Itoa(cleanerCheckpointVersion) {
		return corrupt("unknown version " + fields["strata-cleaner-checkpoint"])
	}
	point, err := strconv.ParseInt(fields["cleaner-point"], 10, 64)
	if err != nil || point < 0 {
		return corrupt("bad cleaner-point")
	}
	return point, nil
}

// readCleanerCheckpoint returns the cleaner point recorded in dir: 0 if there is no
// file, and 0 with a *CorruptError if the file is damaged (the caller logs it).
func readCleanerCheckpoint(fsys vfs.FS, dir string) (int64, error) {
	path := filepath.Join(dir, CleanerCheckpointFile)
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return decodeCleanerCheckpoint(path, data)
}

func writeCleanerCheckpoint(fsys vfs.FS, dir string, point int64) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, CleanerCheckpointFile), encodeCleanerCheckpoint(point))
}
