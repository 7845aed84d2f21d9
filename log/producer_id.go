package log

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/internal/errs"
	"github.com/stratalog/strata/internal/keyvalue"
	"github.com/stratalog/strata/txn"
	"github.com/stratalog/strata/vfs"
)

// Format: producer-ids.json, the end of the last block of producer ids reserved.
const (
	// producerIDFileName is replaced crash-atomically (producer-ids.json.tmp,
	// fsync, rename, directory fsync) each time a block of ids is reserved.
	producerIDFileName = "producer-ids.json"
	// producerIDVersion is the version of producer-ids.json this code writes and
	// reads.
	producerIDVersion = 1
	// maxProducerIDFileBytes bounds the size of producer-ids.json that is read.
	maxProducerIDFileBytes = 4 << 10
)

// producerIDFile is producer-ids.json. Format, version 1:
//
//	{"version":1,"blockEnd":2000}
//	crc32c 5e1f0a3b
//
// blockEnd is the first producer id not reserved: every id handed out is below
// it, and the next block starts there. Unknown keys are an error.
type producerIDFile struct {
	Version  int   `json:"version"`
	BlockEnd int64 `json:"blockEnd"`
}

// producerIDStore is the txn.BlockStore of a Store: producer-ids.json in every
// directory of dirs (the store's directory, or each online broker directory of a
// store of several brokers). A write must reach a majority of the brokers
// (brokers), and a load takes the greatest end among the copies it can read, which
// must be a majority too: every majority holds a copy of the last write that
// succeeded.
type producerIDStore struct {
	fsys    vfs.FS
	dirs    []string
	brokers int
}

// LoadBlockEnd implements txn.BlockStore.
func (ps *producerIDStore) LoadBlockEnd() (int64, error) {
	var end int64
	readable := 0
	var failures []error
	for _, dir := range ps.dirs {
		e, err := readProducerIDFile(ps.fsys, dir)
		if err != nil {
			failures = append(failures, err)
			continue
		}
		readable++
		end = max(end, e)
	}
	if readable < ps.brokers/2+1 {
		return 0, fmt.Errorf("%s readable in %d of %d broker directories: %w", producerIDFileName, readable, ps.brokers, errors.Join(failures...))
	}
	return end, nil
}

// StoreBlockEnd implements txn.BlockStore.
func (ps *producerIDStore) StoreBlockEnd(ctx context.Context, end int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data := encodeProducerIDFile(end)
	written := 0
	var failures []error
	for _, dir := range ps.dirs {
		if err := vfs.WriteFileAtomic(ps.fsys, filepath.Join(dir, producerIDFileName), data); err != nil {
			failures = append(failures, err)
			continue
		}
		written++
	}
	if written < ps.brokers/2+1 {
		return fmt.Errorf("%s reached %d of %d broker directories: %w", producerIDFileName, written, ps.brokers, errors.Join(failures...))
	}
	return nil
}

// encodeProducerIDFile returns producer-ids.json holding end.
func encodeProducerIDFile(end int64) []byte {
	body, _ := json.Marshal(producerIDFile{Version: producerIDVersion, BlockEnd: end}) // cannot fail
	return crcline.Append(append(body, '\n'))
}

// readProducerIDFile returns the block end in dir's producer-ids.json, 0 if there
// is none; a damaged file is a *CorruptError.
func readProducerIDFile(fsys vfs.FS, dir string) (int64, error) {
	path := filepath.Join(dir, producerIDFileName)
	data, err := keyvalue.ReadFile(fsys, path, maxProducerIDFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return decodeProducerIDFile(path, data)
}

// decodeProducerIDFile decodes producer-ids.json read from path.
func decodeProducerIDFile(path string, data []byte) (int64, error) {
	body, found, err := crcline.Split(path, data)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errs.Corruptf(path, 0, "no checksum line")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var f producerIDFile
	if err := dec.Decode(&f); err != nil {
		return 0, errs.Corruptf(path, 0, "%v", err)
	}
	if dec.More() {
		return 0, errs.Corruptf(path, dec.InputOffset(), "data after the JSON object")
	}
	if f.Version != producerIDVersion {
		return 0, errs.Corruptf(path, 0, "version %d, this code reads version %d", f.Version, producerIDVersion)
	}
	if f.BlockEnd < 0 {
		return 0, errs.Corruptf(path, 0, "negative block end %d", f.BlockEnd)
	}
	return f.BlockEnd, nil
}

// producerIDs is the Store's producer id allocator, made at the first id asked
// for: a store that never has an idempotent producer writes no file.
type producerIDs struct {
	mu        sync.Mutex
	allocator *txn.BlockAllocator
}

// nextProducerID hands out a producer id never handed out before by this store's
// directories, even across crashes (see txn.BlockAllocator).
func (s *Store) nextProducerID(ctx context.Context) (int64, error) {
	s.producerIDs.mu.Lock()
	allocator := s.producerIDs.allocator
	if allocator == nil {
		store := &producerIDStore{fsys: s.fsys, dirs: []string{s.dir}, brokers: 1}
		if g := s.brokers; g != nil {
			store.dirs, store.brokers = g.onlineDirs(), len(g.set.brokers)
		}
		var err error
		if allocator, err = txn.NewBlockAllocator(store, 0); err != nil {
			s.producerIDs.mu.Unlock()
			return txn.NoProducerID, errorf("strata/log: producer ids: %w", err)
		}
		s.producerIDs.allocator = allocator
	}
	s.producerIDs.mu.Unlock()
	id, err := allocator.NextProducerID(ctx)
	if err != nil {
		return txn.NoProducerID, errorf("strata/log: producer ids: %w", err)
	}
	return id, nil
}
