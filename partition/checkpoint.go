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

// CheckpointFile is the name of the file in a partition directory that records the
// log start offset, the recovery point and whether the partition was closed cleanly.
// Format (text, one "key value" per line, the last line a CRC-32C of the bytes before
// it, in hex):
//
//	strata-partition-checkpoint 1
//	log-start-offset 250
//	recovery-point 368769
//	clean-shutdown false
//	crc32c 211305dd
//
// It is replaced crash-atomically (temp file, fsync, rename, fsync directory).
const CheckpointFile = "partition.checkpoint"

const checkpointVersion = 1

// checkpoint is the content of CheckpointFile.
type checkpoint struct {
	logStartOffset int64 // lowest offset readers may see
	recoveryPoint  int64 // every offset below it was fsynced
	cleanShutdown  bool  // Close flushed everything and wrote this last
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (c checkpoint) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "strata-partition-checkpoint %d\n", checkpointVersion)
	fmt.Fprintf(&b, "log-start-offset %d\n", c.logStartOffset)
	fmt.Fprintf(&b, "recovery-point %d\n", c.recoveryPoint)
	fmt.Fprintf(&b, "clean-shutdown %t\n", c.cleanShutdown)
	fmt.Fprintf(&b, "crc32c %08x\n", crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes()
}

func decodeCheckpoint(path string, data []byte) (checkpoint, error) {
	corrupt := func(reason string) (checkpoint, error) {
		return checkpoint{}, errs.Corruptf(path, 0, "checkpoint: %s", reason)
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
	if fields["strata-partition-checkpoint"] != strconv.Itoa(checkpointVersion) {
		return corrupt("unknown version " + fields["strata-partition-checkpoint"])
	}
	var c checkpoint
	var err1, err2, err3 error
	c.logStartOffset, err1 = strconv.ParseInt(fields["log-start-offset"], 10, 64)
	c.recoveryPoint, err2 = strconv.ParseInt(fields["recovery-point"], 10, 64)
	c.cleanShutdown, err3 = strconv.ParseBool(fields["clean-shutdown"])
	if err := errors.Join(err1, err2, err3); err != nil || c.logStartOffset < 0 || c.recoveryPoint < 0 {
		return corrupt("bad field")
	}
	return c, nil
}

// cutLastLine splits data ending in "\n" into everything up to and including the
// second-to-last newline, and the last line without its newline.
func cutLastLine(data []byte) (body []byte, last string, ok bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, "", false
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if i < 0 {
		return nil, "", false
	}
	return data[:i+1], string(data[i+1 : len(data)-1]), true
}

// readCheckpoint reads the checkpoint in dir; found is false if there is none.
func readCheckpoint(fsys vfs.FS, dir string) (c checkpoint, found bool, err error) {
	path := filepath.Join(dir, CheckpointFile)
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return checkpoint{}, false, nil
	}
	if err != nil {
		return checkpoint{}, false, err
	}
	c, err = decodeCheckpoint(path, data)
	return c, err == nil, err
}

func writeCheckpoint(fsys vfs.FS, dir string, c checkpoint) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, CheckpointFile), c.encode())
}

// markDirtyLocked makes the checkpoint on disk say "not a clean shutdown" before the
// first change after an Open that found a clean one (see Partition.clean): a crash
// after the change must make the next Open verify. The caller holds appendMu.
func (p *Partition) markDirtyLocked() error {
	if !p.clean {
		return nil
	}
	p.mu.RLock()
	start, err := p.mu.start, p.usableLocked()
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := writeCheckpoint(p.fsys, p.dir, checkpoint{logStartOffset: start, recoveryPoint: p.recoveryPoint}); err != nil {
		return p.fail(err)
	}
	p.clean = false
	return nil
}
