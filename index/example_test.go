package index_test

import (
	"errors"
	"fmt"

	"github.com/stratalog/strata/index"
	"github.com/stratalog/strata/vfs"
)

// A segment with base offset 368769 indexes a batch every 4 KiB of log, then finds
// where a read of offset 368780 should start scanning its .log.
func ExampleOffsetIndex() {
	fsys := vfs.NewMem()
	path := "00000000000000368769.index"
	idx, err := index.OpenOffsetIndex(fsys, path, 368769, 12288, nil)
	if errors.Is(err, index.ErrCorrupt) {
		idx, err = index.CreateOffsetIndex(fsys, path, 368769, nil) // then rebuild from the .log
	}
	if err != nil {
		panic(err)
	}
	// Each entry: the last offset of a batch -> the position where the batch starts.
	for _, e := range [][2]int64{{368770, 0}, {368776, 4096}, {368790, 8192}} {
		if err := idx.Append(e[0], e[1]); err != nil {
			panic(err)
		}
	}
	for _, target := range []int64{368769, 368775, 368776, 368780, 368999} {
		offset, position := idx.Lookup(target)
		fmt.Printf("offset %d: scan from position %d (entry %d)\n", target, position, offset)
	}
	if err := idx.Close(); err != nil { // writes the three entries: 24 bytes
		panic(err)
	}
	// Output:
	// offset 368769: scan from position 0 (entry 368769)
	// offset 368775: scan from position 0 (entry 368770)
	// offset 368776: scan from position 4096 (entry 368776)
	// offset 368780: scan from position 4096 (entry 368776)
	// offset 368999: scan from position 8192 (entry 368790)
}

// A time index answers "where may the search for the first record at or after ts
// start?".
func ExampleTimeIndex_LookupBefore() {
	fsys := vfs.NewMem()
	idx, err := index.CreateTimeIndex(fsys, "00000000000000368769.timeindex", 368769, nil)
	if err != nil {
		panic(err)
	}
	defer idx.Close()
	// The segment records (max timestamp so far, its offset) as it indexes batches;
	// entries whose timestamp does not rise are dropped.
	for _, e := range [][2]int64{{1000, 368770}, {2000, 368776}, {1500, 368780}, {3000, 368790}} {
		if err := idx.MaybeAppend(e[0], e[1]); err != nil {
			panic(err)
		}
	}
	fmt.Println("entries:", idx.Len())
	for _, ts := range []int64{500, 1000, 2500, 9999} {
		timestamp, offset, ok := idx.LookupBefore(ts)
		fmt.Printf("ts %d: start at offset %d (entry ts %d, found %v)\n", ts, offset, timestamp, ok)
	}
	// Output:
	// entries: 3
	// ts 500: start at offset 368769 (entry ts 0, found false)
	// ts 1000: start at offset 368769 (entry ts 0, found false)
	// ts 2500: start at offset 368776 (entry ts 2000, found true)
	// ts 9999: start at offset 368790 (entry ts 3000, found true)
}
