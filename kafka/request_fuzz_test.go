package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzRequestFraming feeds arbitrary bytes to the server's reading of a
// connection: frames bounded by the maximum, headers, and the bodies of the
// served APIs. It must never panic, never return a frame above the maximum, and
// either decode a request of a served version or refuse it with one of the
// documented errors.
func FuzzRequestFraming(f *testing.F) {
	for _, a := range apis {
		for _, version := range []int16{a.minVersion, a.maxVersion} {
			req := kmsg.RequestForKey(a.key.Int16())
			req.SetVersion(version)
			f.Add(frame(req, 1))
		}
	}
	f.Add(binary.BigEndian.AppendUint32(nil, 1<<31))
	f.Add([]byte{0, 0, 0, 8, 0, 18, 0, 99, 0, 0, 0, 1})
	const max = 1 << 16
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		for {
			frame, err := readFrame(r, max)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrRequestTooLarge) {
					t.Fatalf("readFrame: unexpected error %v", err)
				}
				return
			}
			if len(frame) > max {
				t.Fatalf("a frame of %d bytes, above %d", len(frame), max)
			}
			h, err := parseHeader(frame)
			if err != nil {
				if !errors.Is(err, ErrMalformedRequest) {
					t.Fatalf("parseHeader: undocumented error %v", err)
				}
				return // the connection would be closed
			}
			a, req, err := decodeRequest(h)
			if err != nil {
				if !errors.Is(err, ErrMalformedRequest) {
					t.Fatalf("decodeRequest: undocumented error %v", err)
				}
				return
			}
			if req == nil {
				if h.key != kmsg.ApiVersions.Int16() || h.version <= a.maxVersion {
					t.Fatalf("no request decoded for key %d v%d", h.key, h.version)
				}
				continue
			}
			if req.Key() != h.key || req.GetVersion() < a.minVersion || req.GetVersion() > a.maxVersion {
				t.Fatalf("decoded %s v%d from key %d v%d", kmsg.NameForKey(req.Key()), req.GetVersion(), h.key, h.version)
			}
		}
	})
}
