package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRequestTooLargeAllocatesNothing checks that a length prefix of 2 GiB (and
// of 2 GiB - 1, the largest positive one) is refused from the prefix alone, with
// Kafka's message, before the request's bytes are allocated.
func TestRequestTooLargeAllocatesNothing(t *testing.T) {
	for _, prefix := range []uint32{1 << 31, 1<<31 - 1, DefaultMaxRequestBytes + 1} {
		input := binary.BigEndian.AppendUint32(nil, prefix)
		var stats0, stats1 runtime.MemStats
		runtime.ReadMemStats(&stats0)
		for range 100 {
			_, err := readFrame(bytes.NewReader(input), DefaultMaxRequestBytes)
			if !errors.Is(err, ErrRequestTooLarge) || !strings.Contains(err.Error(), "Invalid receive (size = ") {
				t.Fatalf("prefix %d: %v, want ErrRequestTooLarge", prefix, err)
			}
		}
		runtime.ReadMemStats(&stats1)
		if allocated := stats1.TotalAlloc - stats0.TotalAlloc; allocated > 1<<20 {
			t.Errorf("prefix %d: 100 refusals allocated %d bytes", prefix, allocated)
		}
	}
	_, err := readFrame(bytes.NewReader(binary.BigEndian.AppendUint32(nil, 1<<31-1)), DefaultMaxRequestBytes)
	if want := "Invalid receive (size = 2147483647 larger than 104857600)"; !strings.Contains(err.Error(), want) {
		t.Errorf("%v, want %q", err, want)
	}
}

// TestRequestTooLargeClosesOnlyThatConnection sends a 2 GiB length prefix: the
// server logs Kafka's line, closes that connection, and keeps serving another.
func TestRequestTooLargeClosesOnlyThatConnection(t *testing.T) {
	ts := startServer(t, nil, nil)
	other := ts.dial(t)
	bad := ts.dial(t)
	bad.send(binary.BigEndian.AppendUint32(nil, 1<<31-1))
	bad.expectClosed()
	if want := "Invalid receive (size = 2147483647 larger than 104857600)"; !strings.Contains(ts.logs.String(), want) {
		t.Errorf("logs %q, want %q", ts.logs.String(), want)
	}
	resp := other.roundTrip(kmsg.NewPtrApiVersionsRequest()).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 {
		t.Errorf("the other connection: error %d", resp.ErrorCode)
	}
}

// TestMalformedRequestClosesOnlyThatConnection sends requests that cannot be
// served (a truncated body, an unknown API key, a version
// below the served range): each closes its own connection, and a connection
// opened before keeps working.
func TestMalformedRequestClosesOnlyThatConnection(t *testing.T) {
	ts := startServer(t, nil, nil)
	other := ts.dial(t)
	metadata := kmsg.NewPtrMetadataRequest()
	metadata.Version = 12
	metadata.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("orders")}}
	truncated := frame(metadata, 1)
	truncated = truncated[:len(truncated)-3]
	binary.BigEndian.PutUint32(truncated, uint32(len(truncated)-4))

	unknownKey := frame(kmsg.NewPtrApiVersionsRequest(), 1)
	binary.BigEndian.PutUint16(unknownKey[4:], 9999)

	produce := kmsg.NewPtrProduceRequest()
	produce.Version = 2 // below Kafka 2.1's floor
	oldCreate := kmsg.NewPtrCreateTopicsRequest()
	oldCreate.Version = 1
	headerOnly := []byte{0, 0, 0, 3, 0, 3, 0}

	for name, b := range map[string][]byte{
		"truncated body": truncated, "unknown api key": unknownKey, "Produce v2": frame(produce, 1),
		"CreateTopics v1": frame(oldCreate, 1), "short header": headerOnly,
	} {
		t.Run(name, func(t *testing.T) {
			bad := ts.dial(t)
			bad.send(b)
			bad.expectClosed()
			req := kmsg.NewPtrMetadataRequest()
			req.Version = 12
			other.roundTrip(req)
		})
	}
}

// TestPipelinedRequestsAnsweredInOrder writes many requests of several APIs at
// once, without waiting: the responses come back in the order of the requests
// (Kafka's per-connection ordering guarantee).
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	var requests []kmsg.Request
	var wire []byte
	for i := range 60 {
		var req kmsg.Request
		switch i % 3 {
		case 0:
			req = kmsg.NewPtrApiVersionsRequest()
		case 1:
			m := kmsg.NewPtrMetadataRequest()
			m.Version = int16(i % 14)
			req = m
		case 2:
			create := kmsg.NewPtrCreateTopicsRequest()
			create.Version = 7
			topic := kmsg.NewCreateTopicsRequestTopic()
			topic.Topic, topic.NumPartitions, topic.ReplicationFactor = "pipelined", 1, -1
			create.Topics = append(create.Topics, topic)
			req = create
		}
		requests = append(requests, req)
		wire = append(wire, frame(req, int32(1000+i))...)
	}
	c.send(wire)
	for i, req := range requests {
		resp, correlationID := c.readResponse(req)
		if correlationID != int32(1000+i) {
			t.Fatalf("response %d has correlation ID %d, want %d", i, correlationID, 1000+i)
		}
		if create, ok := resp.(*kmsg.CreateTopicsResponse); ok {
			want := int16(36) // TOPIC_ALREADY_EXISTS after the first
			if i == 2 {
				want = 0
			}
			if got := create.Topics[0].ErrorCode; got != want {
				t.Errorf("CreateTopics %d: error %d, want %d (handled out of order?)", i, got, want)
			}
		}
	}
}

// TestShutdownAnswersInFlightRequest holds a request in its handler, shuts the
// server down meanwhile, then lets the handler go: the client gets its response,
// then the connection is closed and Shutdown returns; an idle connection is closed
// at once and a new one is refused.
func TestShutdownAnswersInFlightRequest(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	waiting := make(chan struct{})
	ts := startServer(t, nil, func(s *Server) {
		s.beforeHandle = func(key int16) {
			if key == kmsg.Metadata.Int16() {
				entered <- struct{}{}
				<-release
			}
		}
		var once sync.Once // the cleanup shuts down again
		s.shutdownWaiting = func() { once.Do(func() { close(waiting) }) }
	})
	idle := ts.dial(t)
	idle.roundTrip(kmsg.NewPtrApiVersionsRequest()) // surely accepted and registered
	busy := ts.dial(t)
	req := kmsg.NewPtrMetadataRequest()
	busy.send(frame(req, 42))
	<-entered

	shutdown := make(chan error, 1)
	go func() { shutdown <- ts.server.Shutdown(context.Background()) }()
	<-waiting
	idle.expectClosed()
	if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	ts.served <- ErrServerClosed // for the cleanup's check
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	if _, correlationID := busy.readResponse(req); correlationID != 42 {
		t.Errorf("correlation ID %d, want 42", correlationID)
	}
	busy.expectClosed()
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestShutdownDeadlineClosesInFlight holds a request in its handler past
// Shutdown's context: Shutdown closes the connection, ending the handler's
// context, and returns the context's error once the handler has returned.
func TestShutdownDeadlineClosesInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	ts := startServer(t, nil, func(s *Server) {
		s.beforeHandle = func(key int16) {
			if key == kmsg.Metadata.Int16() {
				close(entered)
				<-release
			}
		}
	})
	busy := ts.dial(t)
	busy.send(frame(kmsg.NewPtrMetadataRequest(), 1))
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- ts.server.Shutdown(ctx) }()
	busy.expectClosed() // closed under the handler's feet
	close(release)
	if err := <-shutdown; !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown: %v, want context.Canceled", err)
	}
}
