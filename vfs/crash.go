package vfs

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
)

// CrashableFS is a MemFS that also remembers what is durable, to simulate power loss:
//
//   - a file's durable content is its content at its last File.Sync (any handle);
//   - a directory's durable entries are its entries at its last SyncDir. A name
//     created, renamed or removed since the last SyncDir of its directory is not
//     durable: after a crash a created or renamed-to name is missing, and a removed or
//     renamed-from name is back, pointing at the same file as before.
//   - a directory made by MkdirAll is durable once its parent is SyncDir'd, like any
//     other entry; it starts with no durable entries of its own. The root always
//     exists.
//
// Crash returns the file system a machine would find after power loss. The receiver
// is unchanged and keeps working, so a test can keep using, or crash again, the
// pre-crash state.
//
// CrashableFS is safe for concurrent use.
type CrashableFS struct {
	MemFS
}

// NewCrashable returns an empty crashable in-memory file system holding only the root
// directory.
func NewCrashable() *CrashableFS {
	c := &CrashableFS{}
	c.init(true)
	return c
}

// CrashMode says what becomes of a file's unsynced bytes in a crash.
//
// The model: a file whose content since its last Sync has only grown (writes at or
// beyond the synced length, truncates not below it) has "unsynced bytes", the current
// content beyond the synced length. The modes differ in what they keep of those:
//
//	synced content | unsynced bytes ............ |
//	DropUnsynced:  | (nothing)
//	KeepPrefix:    | prefix of k bytes |
//	TearGarbage:   | prefix of k bytes | 1..512 random bytes |
//	TearZeros:     | prefix of k bytes | 1..512 zero bytes |
//
// k is drawn from 0..len(unsynced): 0 with probability 1/4, len(unsynced) with
// probability 1/4, otherwise uniformly, so that both clean outcomes are common. A file
// with no unsynced bytes is never torn: it keeps its synced content.
//
// A file overwritten in place or truncated below its synced length since its last Sync
// has no well-defined unsynced tail: DropUnsynced gives its synced content, and the
// other modes give, with equal probability, either its synced content or its current
// content.
type CrashMode int

// Crash modes; see CrashMode.
const (
	// DropUnsynced keeps only synced content.
	DropUnsynced CrashMode = iota
	// KeepPrefix keeps a random prefix of the unsynced bytes.
	KeepPrefix
	// TearGarbage keeps a random prefix of the unsynced bytes followed by random
	// garbage.
	TearGarbage
	// TearZeros keeps a random prefix of the unsynced bytes followed by zeros, as a
	// preallocated or extended file reads.
	TearZeros
)

// String returns the mode's name.
func (mode CrashMode) String() string {
	switch mode {
	case DropUnsynced:
		return "DropUnsynced"
	case KeepPrefix:
		return "KeepPrefix"
	case TearGarbage:
		return "TearGarbage"
	case TearZeros:
		return "TearZeros"
	}
	return fmt.Sprintf("CrashMode(%d)", int(mode))
}

// maxTearBytes is the largest tail that TearGarbage and TearZeros add.
const maxTearBytes = 512

// crashSeedSalt is the second PCG seed word; the first is the caller's seed.
const crashSeedSalt = 0x9e3779b97f4a7c15

// Crash returns a new, independent CrashableFS holding the state found after a power
// loss: the namespace is the durable directory entries, and each file's content is
// decided by mode (see CrashMode). All randomness comes from seed: the same state,
// mode and seed give the same result. After the crash everything is durable and no
// file is locked. Crash panics on an unknown mode.
//
// If a durable directory would appear under two names (possible after renames of
// directories synced in some orders), only the first name in sorted walk order keeps
// it; a file may appear under two names, as a hard link does.
func (c *CrashableFS) Crash(mode CrashMode, seed int64) *CrashableFS {
	if mode < DropUnsynced || mode > TearZeros {
		panic(fmt.Sprintf("strata/vfs: unknown %v", mode))
	}
	crash := &crashCopier{
		mode:   mode,
		rng:    rand.New(rand.NewPCG(uint64(seed), crashSeedSalt)),
		copied: make(map[*memNode]*memNode),
	}
	after := NewCrashable()
	c.mu.Lock()
	defer c.mu.Unlock()
	after.mu.root = crash.copyNodeLocked(c.mu.root)
	return after
}

// crashCopier builds the post-crash tree from the durable state of a file system.
type crashCopier struct {
	mode CrashMode
	rng  *rand.Rand
	// copied maps a pre-crash node to its post-crash copy.
	copied map[*memNode]*memNode
}

// copyNodeLocked returns the post-crash copy of node, or nil for a directory already
// copied under another name. The caller holds the file system's mu.
func (c *crashCopier) copyNodeLocked(node *memNode) *memNode {
	if copied, ok := c.copied[node]; ok {
		if node.isDir {
			return nil
		}
		return copied
	}
	node.mu.RLock()
	mode, modTime := node.mu.mode, node.mu.modTime
	var content []byte
	if !node.isDir {
		content = c.contentLocked(node)
	}
	node.mu.RUnlock()

	var copied *memNode
	if node.isDir {
		copied = newDirNode(mode)
	} else {
		copied = newFileNode(mode, content)
	}
	copied.mu.modTime = modTime
	c.copied[node] = copied
	if node.isDir {
		// Walk in sorted order: the random draws, and the name that keeps a directory
		// reachable twice, must not depend on map iteration order.
		for _, name := range slices.Sorted(maps.Keys(node.durableChildren)) {
			if child := c.copyNodeLocked(node.durableChildren[name]); child != nil {
				copied.children[name] = child
			}
		}
		copied.durableChildren = maps.Clone(copied.children)
	}
	return copied
}

// contentLocked returns the post-crash content of a file. The caller holds node.mu.
func (c *crashCopier) contentLocked(node *memNode) []byte {
	synced, grewOnly := node.syncedContentLocked()
	if c.mode == DropUnsynced {
		return slices.Clone(synced)
	}
	if !grewOnly {
		if c.rng.IntN(2) == 0 {
			return slices.Clone(synced)
		}
		return slices.Clone(node.mu.data)
	}
	unsynced := node.mu.data[len(synced):]
	if len(unsynced) == 0 {
		return slices.Clone(synced)
	}
	var keep int
	switch c.rng.IntN(4) {
	case 0:
		keep = 0
	case 1:
		keep = len(unsynced)
	default:
		keep = c.rng.IntN(len(unsynced) + 1)
	}
	content := slices.Concat(synced, unsynced[:keep])
	if c.mode == KeepPrefix {
		return content
	}
	tail := make([]byte, 1+c.rng.IntN(maxTearBytes))
	if c.mode == TearGarbage {
		for i := range tail {
			tail[i] = byte(c.rng.Uint32())
		}
	}
	return append(content, tail...)
}

// UnsyncedBytes returns how many bytes of file content a DropUnsynced crash would lose
// or change, over the files reachable in the current namespace: for a file that has
// only grown since its last Sync, its bytes beyond the synced length; for a file
// overwritten or truncated below its synced length, the larger of its synced and
// current sizes. Directory entries are not counted. It is 0 when every file is synced.
func (c *CrashableFS) UnsyncedBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total int64
	seen := make(map[*memNode]bool)
	var walk func(dir *memNode)
	walk = func(dir *memNode) {
		for _, node := range dir.children {
			if seen[node] {
				continue
			}
			seen[node] = true
			if node.isDir {
				walk(node)
				continue
			}
			node.mu.RLock()
			synced, grewOnly := node.syncedContentLocked()
			if grewOnly {
				total += int64(len(node.mu.data) - len(synced))
			} else {
				total += int64(max(len(node.mu.data), len(synced)))
			}
			node.mu.RUnlock()
		}
	}
	walk(c.mu.root)
	return total
}
