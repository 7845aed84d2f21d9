package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/stratalog/strata/internal/errs"
)

// DefaultMaxDecompressedBytes is the bound on a decompressed batch that a Decoder
// applies when its MaxDecompressedBytes is 0.
const DefaultMaxDecompressedBytes = 64 << 20

// maxCompressionRatio bounds how much a batch may grow when decompressed, relative to
// the largest batch accepted.
const maxCompressionRatio = 64

// MaxDecompressedFor returns the bound on a decompressed batch for logs whose batches
// are at most maxBatchBytes: every reader of such a log uses it, so that a batch one
// path decodes, every path decodes.
func MaxDecompressedFor(maxBatchBytes int) int {
	return max(DefaultMaxDecompressedBytes, maxCompressionRatio*maxBatchBytes)
}

// What strata writes, per codec (FORMAT.md repeats it):
//
//   - gzip: one gzip member (RFC 1952), klauspost/compress's default level, no name
//     or comment.
//   - snappy: one raw snappy block (the block format, not the framing format and not
//     xerial's). Readers accept raw blocks and Java's xerial framing.
//   - zstd: one zstd frame, default level (about zstd level 3, as Kafka), with the
//     frame content size and without the frame checksum (the batch CRC covers it).

// maxPooledScratch bounds the scratch buffers kept for reuse, so that one huge batch
// does not pin its buffer forever.
const maxPooledScratch = 16 << 20

var scratchPool sync.Pool // *[]byte

// getScratch returns a pooled buffer, of length 0.
func getScratch() *[]byte {
	p, _ := scratchPool.Get().(*[]byte)
	if p == nil {
		p = new([]byte)
	}
	*p = (*p)[:0]
	return p
}

func putScratch(p *[]byte) {
	if cap(*p) <= maxPooledScratch {
		scratchPool.Put(p)
	}
}

// compress appends the compressed form of src to dst.
func compress(dst []byte, c Compression, src []byte) ([]byte, error) {
	switch c {
	case CompressionGzip:
		return compressGzip(dst, src)
	case CompressionSnappy:
		need := s2.MaxEncodedLen(len(src))
		if need < 0 {
			return dst, fmt.Errorf("%w: %d bytes too large for snappy", errs.ErrRecordTooLarge, len(src))
		}
		start := len(dst)
		dst = growLen(dst, need)
		out := s2.EncodeSnappy(dst[start:], src)
		return dst[:start+len(out)], nil
	case CompressionZstd:
		enc, err := zstdEncoder()
		if err != nil {
			return dst, err
		}
		return enc.EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("%w: %v", ErrUnsupportedCompression, c)
}

// growLen extends dst by n bytes (of unspecified content).
func growLen(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		grown := make([]byte, len(dst), len(dst)+n+len(dst)/4)
		copy(grown, dst)
		dst = grown
	}
	return dst[:len(dst)+n]
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// gzipEncoder is a pooled gzip writer with the writer it writes into.
type gzipEncoder struct {
	w   *gzip.Writer
	out appendWriter
}

var gzipEncoderPool = sync.Pool{New: func() any {
	e := &gzipEncoder{}
	e.w = gzip.NewWriter(&e.out)
	return e
}}

func compressGzip(dst, src []byte) ([]byte, error) {
	e := gzipEncoderPool.Get().(*gzipEncoder)
	e.out.b = dst
	e.w.Reset(&e.out)
	_, err := e.w.Write(src)
	if closeErr := e.w.Close(); err == nil {
		err = closeErr
	}
	dst = e.out.b
	e.out.b = nil
	gzipEncoderPool.Put(e)
	return dst, err
}

// zstdEncoder returns the shared zstd encoder. EncodeAll may be called concurrently:
// the encoder keeps one state per GOMAXPROCS and hands them out in turn.
var zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(0), // GOMAXPROCS states for concurrent EncodeAll
	)
})

// decompress decodes the records blob src of a batch compressed with c into dst
// (reused, from length 0). It never allocates more than limit bytes of output and
// fails with an error wrapping errs.ErrCorrupt when the blob is malformed or decodes
// to more than limit bytes.
func (d *Decoder) decompress(dst []byte, c Compression, src []byte, limit int) ([]byte, error) {
	var err error
	switch c {
	case CompressionGzip:
		dst, err = d.decompressGzip(dst, src, limit)
	case CompressionSnappy:
		dst, err = decompressSnappy(dst, src, limit)
	case CompressionZstd:
		dst, err = d.decompressZstd(dst, src, limit)
	default:
		panic("segment: decompress called for " + c.String())
	}
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return dst, errCorrupt("%v batch decompresses to more than %d bytes", c, limit)
		}
		return dst, errCorrupt("%v batch: %v", c, err)
	}
	return dst, nil
}

// errTooLarge reports output beyond the decoder's limit.
var errTooLarge = errors.New("decompressed size over the limit")

// ensureLen returns a slice of length n, reusing dst when it is large enough.
func ensureLen(dst []byte, n int) []byte {
	if cap(dst) < n {
		return make([]byte, n)
	}
	return dst[:n]
}

// Format: xerial's snappy framing, written by Java's snappy-java SnappyOutputStream:
// a 16-byte header (magic 0x82 "SNAPPY" 0x00, version int32, compatible version
// int32), then chunks of (int32 big-endian length, raw snappy block).
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderSize = 16

func decompressSnappy(dst, src []byte, limit int) ([]byte, error) {
	if len(src) >= len(xerialMagic) && bytes.Equal(src[:len(xerialMagic)], xerialMagic) {
		return decompressXerial(dst, src, limit)
	}
	n, err := s2.DecodedLen(src)
	if err != nil {
		return dst[:0], err
	}
	if n > limit {
		return dst[:0], errTooLarge
	}
	dst = ensureLen(dst, n)
	if _, err := s2.Decode(dst, src); err != nil {
		return dst[:0], err
	}
	return dst, nil
}

func decompressXerial(dst, src []byte, limit int) ([]byte, error) {
	if len(src) < xerialHeaderSize {
		return dst[:0], errors.New("xerial header truncated")
	}
	// First pass: check the chunk framing and add up the decoded lengths, so that
	// nothing is allocated for a blob that would exceed the limit.
	total := 0
	for p := xerialHeaderSize; p < len(src); {
		chunk, next, err := xerialChunk(src, p)
		if err != nil {
			return dst[:0], err
		}
		n, err := s2.DecodedLen(chunk)
		if err != nil {
			return dst[:0], err
		}
		if n > limit-total {
			return dst[:0], errTooLarge
		}
		total += n
		p = next
	}
	dst = ensureLen(dst, total)
	at := 0
	for p := xerialHeaderSize; p < len(src); {
		chunk, next, _ := xerialChunk(src, p)
		n, _ := s2.DecodedLen(chunk)
		if _, err := s2.Decode(dst[at:at+n], chunk); err != nil {
			return dst[:0], err
		}
		at += n
		p = next
	}
	return dst, nil
}

// xerialChunk returns the chunk that starts at src[p:] and the position after it.
func xerialChunk(src []byte, p int) (chunk []byte, next int, err error) {
	if len(src)-p < 4 {
		return nil, 0, fmt.Errorf("xerial chunk length truncated at %d", p)
	}
	size := binary.BigEndian.Uint32(src[p:])
	p += 4
	if uint64(size) > uint64(len(src)-p) {
		return nil, 0, fmt.Errorf("xerial chunk of %d bytes at %d overruns the blob", size, p-4)
	}
	return src[p : p+int(size)], p + int(size), nil
}

func (d *Decoder) decompressGzip(dst, src []byte, limit int) ([]byte, error) {
	// The gzip trailer's ISIZE (the input size mod 2^32) sizes the buffer; it is only
	// a hint, bounded by the limit and by deflate's greatest ratio (1032:1).
	hint := 0
	if len(src) >= 18 {
		hint = int(binary.LittleEndian.Uint32(src[len(src)-4:]))
		hint = min(hint, limit, 1032*len(src))
	}
	if d.gzip == nil {
		d.gzip = new(gzip.Reader)
	}
	d.src.Reset(src)
	if err := d.gzip.Reset(&d.src); err != nil {
		return dst[:0], err
	}
	dst, err := readLimited(d.gzip, dst, hint, limit, d.probe[:])
	d.src.Reset(nil)
	return dst, err
}

// zstdDecoder returns the shared zstd decoder for frames that declare their content
// size (strata's writer always does). Its DecodeAll may be called concurrently (one
// block decoder per GOMAXPROCS) and starts no goroutine. DecodeAll decodes into the
// caller's buffer, whose capacity it does not exceed (WithDecodeAllCapLimit), and
// uses that buffer as its history: the frame's window costs no memory.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecodeAllCapLimit(true),
	)
})

// zstdStreamDecoders are the decoders for frames of unknown content size (Java's
// zstd-jni writes those for batches over 16 KiB). Concurrency 1 makes streaming
// synchronous: no goroutine, so a pooled decoder that the GC drops leaks nothing.
var zstdStreamDecoders sync.Pool // *zstd.Decoder

func (d *Decoder) decompressZstd(dst, src []byte, limit int) ([]byte, error) {
	var frame zstd.Header
	if err := frame.Decode(src); err != nil {
		return dst[:0], err
	}
	if !frame.HasFCS {
		return d.decompressZstdStream(dst, src, limit)
	}
	if frame.FrameContentSize > uint64(limit) {
		return dst[:0], errTooLarge
	}
	dec, err := zstdDecoder()
	if err != nil {
		return dst[:0], err
	}
	dst = ensureLen(dst, int(frame.FrameContentSize))[:0]
	out, err := dec.DecodeAll(src, dst)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		// More output than the content size declared: a second frame, or a lie.
		return d.decompressZstdStream(dst, src, limit)
	}
	if err != nil {
		return dst[:0], err
	}
	return out, nil
}

// decompressZstdStream decodes with a streaming decoder, into a buffer that grows up
// to the limit. The decoder keeps a window of history, allocated once per pooled
// decoder, which must not exceed the limit either.
func (d *Decoder) decompressZstdStream(dst, src []byte, limit int) ([]byte, error) {
	dec, _ := zstdStreamDecoders.Get().(*zstd.Decoder)
	if dec == nil {
		var err error
		dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return dst[:0], err
		}
	}
	d.src.Reset(src)
	// In streaming mode WithDecoderMaxMemory bounds the window.
	err := dec.ResetWithOptions(&d.src, zstd.WithDecoderMaxMemory(uint64(limit)))
	if err == nil {
		dst, err = readLimited(dec, dst, min(8*len(src), limit), limit, d.probe[:])
	}
	_ = dec.Reset(nil)
	zstdStreamDecoders.Put(dec)
	d.src.Reset(nil)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return dst[:0], fmt.Errorf("%w: its window exceeds the decoder's limit of %d bytes", err, limit)
	}
	return dst, err
}

// readLimited reads r to its end into dst (reused from length 0), starting with a
// buffer of hint bytes and never holding more than limit bytes: more output than
// that is errTooLarge. probe is a one-byte buffer owned by the caller.
func readLimited(r io.Reader, dst []byte, hint, limit int, probe []byte) ([]byte, error) {
	dst = dst[:0]
	if cap(dst) < hint {
		dst = make([]byte, 0, hint)
	}
	for {
		if len(dst) == cap(dst) {
			// Full: see whether the stream ends here before growing the buffer.
			n, err := io.ReadFull(r, probe[:1])
			if n == 0 {
				if err == io.EOF {
					return dst, nil
				}
				return dst, err
			}
			if len(dst) >= limit {
				return dst, errTooLarge
			}
			grown := make([]byte, len(dst), min(max(2*cap(dst), 64<<10), limit))
			copy(grown, dst)
			dst = append(grown, probe[0])
			continue
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
