package kafka

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A request on the wire (big-endian), as Kafka frames it:
//
//	+-----------+---------+---------+----------------+-----------------+-------------+------+
//	| size      | api key | version | correlation id | client id       | tagged      | body |
//	| int32     | int16   | int16   | int32          | int16 len+bytes | fields (v2  |      |
//	| (excludes |         |         |                | (-1: null)      | headers:    |      |
//	|  itself)  |         |         |                |                 | flexible    |      |
//	|           |         |         |                |                 | versions)   |      |
//	+-----------+---------+---------+----------------+-----------------+-------------+------+
//
// The response is size, correlation id, an empty tagged-field section for a
// flexible version (except ApiVersions, whose response header is always v0), and
// the body.

// requestHeader is a decoded request header; body is what follows it.
type requestHeader struct {
	key           int16
	version       int16
	correlationID int32
	clientID      *string
	body          []byte
}

// readFrame reads one length-prefixed request from r. A size above max, or
// negative, is ErrRequestTooLarge, found before anything is allocated for it;
// a size within max is allocated as the request's bytes come.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, err
	}
	size := int64(int32(binary.BigEndian.Uint32(prefix[:])))
	if size < 0 {
		return nil, fmt.Errorf("%w: Invalid receive (size = %d)", ErrRequestTooLarge, size)
	}
	if size > int64(max) {
		return nil, fmt.Errorf("%w: Invalid receive (size = %d larger than %d)", ErrRequestTooLarge, size, max)
	}
	// The buffer grows with the bytes that come, doubling from
	// frameChunkBytes: a prefix alone (a client that stalls, or lies) costs
	// what it sent, not the size it claims.
	frame := make([]byte, min(size, frameChunkBytes))
	read := 0
	for {
		n, err := io.ReadFull(r, frame[read:])
		read += n
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if int64(read) == size {
			return frame, nil
		}
		next := make([]byte, read+int(min(size-int64(read), int64(read))))
		copy(next, frame)
		frame = next
	}
}

// frameChunkBytes is what readFrame allocates for a request before its bytes
// come; a larger request's buffer doubles as they come.
const frameChunkBytes = 1 << 20

// parseHeader decodes the request header at the start of frame. Whether the
// header carries tagged fields depends on the API and version: flexible versions
// (as kmsg knows them) do. An unknown API key is an error; an unknown version is
// not (ApiVersions must answer one).
func parseHeader(frame []byte) (requestHeader, error) {
	r := reader{b: frame}
	h := requestHeader{key: r.int16(), version: r.int16(), correlationID: r.int32()}
	h.clientID = r.nullableString()
	if r.err != nil {
		return h, fmt.Errorf("%w: request header: %v", ErrMalformedRequest, r.err)
	}
	req := kmsg.RequestForKey(h.key)
	if req == nil {
		return h, fmt.Errorf("%w: unknown api key %d", ErrMalformedRequest, h.key)
	}
	if h.version > req.MaxVersion() {
		// A version from the future (ApiVersions must answer one): its header is
		// flexible as every recent version's, but nothing after the client ID is
		// needed, so a section that does not parse is no error.
		r.skipTags()
		h.body = r.b
		return h, nil
	}
	req.SetVersion(h.version)
	if req.IsFlexible() {
		r.skipTags()
		if r.err != nil {
			return h, fmt.Errorf("%w: request header: %v", ErrMalformedRequest, r.err)
		}
	}
	h.body = r.b
	return h, nil
}

// reader reads big-endian fields from b with every length bounded by what is
// left: a short or inconsistent input sets err and reads zeros from then on.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("%d bytes wanted, %d left", n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) int16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *reader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) nullableString() *string {
	n := r.int16()
	if r.err != nil || n == -1 {
		return nil
	}
	if n < -1 {
		r.err = fmt.Errorf("string length %d", n)
		return nil
	}
	b := r.take(int(n))
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("bad unsigned varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// skipTags skips a tagged-field section: a count, then for each field its tag,
// its size and its bytes.
func (r *reader) skipTags() {
	count := r.uvarint()
	for i := uint64(0); i < count && r.err == nil; i++ {
		r.uvarint() // tag
		size := r.uvarint()
		if size > uint64(len(r.b)) {
			r.err = fmt.Errorf("tagged field of %d bytes, %d left", size, len(r.b))
			return
		}
		r.take(int(size))
	}
}

// appendResponse appends the framed response to correlationID with body resp to
// dst.
func appendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if resp.IsFlexible() && resp.Key() != kmsg.ApiVersions.Int16() {
		dst = append(dst, 0) // no tagged fields in the response header
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
