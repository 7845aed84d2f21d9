package segment_test

import (
	"fmt"

	"github.com/stratalog/strata/segment"
	"github.com/stratalog/strata/vfs"
)

// A batch is encoded with AppendBatch, stamped with its offset, appended to a
// segment, found again by offset (index lookup, then a scan of batch headers),
// read back, checked and decoded.
func Example() {
	fsys := vfs.NewMem() // or vfs.OS
	fsys.MkdirAll("/orders-0", 0o755)
	s, err := segment.Create(fsys, "/orders-0", 100, nil) // base offset 100
	if err != nil {
		panic(err)
	}
	defer s.Close()

	for _, values := range [][]string{{"book", "pen"}, {"ink"}} {
		var records []segment.Record
		for _, v := range values {
			records = append(records, segment.Record{Timestamp: 1_767_225_600_000, Value: []byte(v)})
		}
		batch, _ := segment.AppendBatch(nil, records, nil)
		segment.SetBaseOffset(batch, s.NextOffset())
		h, _ := segment.ParseBatchHeader(batch, segment.DefaultMaxBatchBytes)
		if err := s.Append(batch, &h); err != nil {
			panic(err)
		}
	}
	fmt.Println("next offset", s.NextOffset(), "size", s.Size()) // 61 header bytes a batch, then the records

	pos, h, found, _ := s.Find(102, s.Size()) // the batch holding offset 102
	fmt.Println("found", found, "at byte", pos, "offsets", h.BaseOffset, "to", h.LastOffset())
	batch := make([]byte, h.Size())
	s.ReadAt(batch, pos)
	if _, err := segment.VerifyBatch(batch, segment.DefaultMaxBatchBytes); err != nil {
		panic(err) // a *CorruptError: the CRC or the header is wrong
	}
	var d segment.Decoder
	d.Reset(batch)
	var r segment.Record
	for {
		ok, err := d.Next(&r)
		if err != nil || !ok {
			break
		}
		fmt.Println(r.Offset, string(r.Value))
	}
	// Output:
	// next offset 103 size 153
	// found true at byte 82 offsets 102 to 102
	// 102 ink
}

// FileName names a segment's files by their base offset, zero-padded to 20 digits
// so that they sort by offset; ParseFileName reads the name back.
func ExampleFileName() {
	name := segment.FileName(368769, segment.LogSuffix)
	fmt.Println(name)
	base, suffix, ok := segment.ParseFileName(name)
	fmt.Println(base, suffix, ok)
	// Output:
	// 00000000000000368769.log
	// 368769 .log true
}
