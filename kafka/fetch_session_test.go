package kafka

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stratalog/strata/log"
)

// produceValues appends one record per value to partition p of topic.
func produceValues(t testing.TB, store *log.Store, topic string, p int32, values ...string) {
	t.Helper()
	for _, v := range values {
		require.NoError(t, store.Produce(context.Background(), &log.Record{Topic: topic, Partition: p, ExplicitPartition: true, Value: []byte(v)}))
	}
}

// answered returns the partitions resp answers, as "topic-partition" sorted (by
// the name of the topic ID from v13), each
// with its error code if any and how many records it carries.
func answered(t testing.TB, ts *testServer, resp *kmsg.FetchResponse) []string {
	t.Helper()
	var out []string
	for _, topic := range resp.Topics {
		name := topic.Topic
		if resp.Version >= 13 { // topics by ID only
			name, _ = topicNameOf(ts.store, topic.TopicID)
		}
		for _, p := range topic.Partitions {
			s := fmt.Sprintf("%s-%d", name, p.Partition)
			if p.ErrorCode != 0 {
				s += ":" + kerr.ErrorForCode(p.ErrorCode).Error()
			}
			if len(p.RecordBatches) > 0 {
				records := 0
				for _, b := range batchesOf(t, p.RecordBatches) {
					records += int(b.NumRecords)
				}
				s += fmt.Sprintf(" records=%d", records)
			}
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// batchesOf splits raw record batches.
func batchesOf(t testing.TB, raw []byte) []kmsg.RecordBatch {
	t.Helper()
	var batches []kmsg.RecordBatch
	for len(raw) > 0 {
		var b kmsg.RecordBatch
		require.NoError(t, b.ReadFrom(raw))
		batches = append(batches, b)
		raw = raw[12+int(b.Length):]
	}
	return batches
}

// createSessionTopic creates topic with n partitions.
func createSessionTopic(t testing.TB, ts *testServer, topic string, n int) {
	t.Helper()
	require.NoError(t, ts.store.CreateTopic(context.Background(), topic, log.TopicConfig{Partitions: n}))
}

// TestFetchSessionFullThenIncremental: a full fetch (epoch 0) creates a session;
// incremental fetches at the next epochs answer only the partitions with news
// (records, a moved high watermark), take updated fetch offsets, add partitions
// and forget them; a session left empty is closed.
func TestFetchSessionFullThenIncremental(t *testing.T) {
	ts := startServer(t, nil, nil)
	createSessionTopic(t, ts, "s", 3)
	produceValues(t, ts.store, "s", 0, "a", "b")
	c := ts.dial(t)

	full := c.roundTrip(newFetch(12, 0, 0, 0, 0, fetchAt{"s", 0, 0}, fetchAt{"s", 1, 0})).(*kmsg.FetchResponse)
	require.Equal(t, int16(0), full.ErrorCode)
	require.NotZero(t, full.SessionID, "a full fetch at epoch 0 creates a session")
	require.Equal(t, []string{"s-0 records=2", "s-1"}, answered(t, ts, full), "a full fetch answers every partition")
	id := full.SessionID

	resp := c.roundTrip(newFetch(12, id, 1, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, id, resp.SessionID)
	require.Equal(t, []string{"s-0 records=2"}, answered(t, ts, resp), "s-0's fetch offset is still 0 in the session: the records again")
	resp = c.roundTrip(newFetch(12, id, 2, 0, 0, fetchAt{"s", 0, 2})).(*kmsg.FetchResponse)
	require.Empty(t, answered(t, ts, resp), "nothing new")

	produceValues(t, ts.store, "s", 1, "c")
	resp = c.roundTrip(newFetch(12, id, 3, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, []string{"s-1 records=1"}, answered(t, ts, resp), "s-1, not named, has a record")

	resp = c.roundTrip(newFetch(12, id, 4, 0, 0, fetchAt{"s", 1, 1}, fetchAt{"s", 2, 0})).(*kmsg.FetchResponse)
	require.Equal(t, []string{"s-2"}, answered(t, ts, resp), "an added partition is answered once")
	resp = c.roundTrip(newFetch(12, id, 5, 0, 0)).(*kmsg.FetchResponse)
	require.Empty(t, answered(t, ts, resp))

	// Forgetting s-0: its new records are no longer answered.
	forget := newFetch(12, id, 6, 0, 0)
	forget.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "s", Partitions: []int32{0}}}
	resp = c.roundTrip(forget).(*kmsg.FetchResponse)
	require.Empty(t, answered(t, ts, resp))
	produceValues(t, ts.store, "s", 0, "d")
	produceValues(t, ts.store, "s", 2, "e")
	resp = c.roundTrip(newFetch(12, id, 7, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, []string{"s-2 records=1"}, answered(t, ts, resp))

	// Forgetting the rest closes the session: the fetch is sessionless.
	forget = newFetch(12, id, 8, 0, 0)
	forget.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "s", Partitions: []int32{1, 2}}}
	resp = c.roundTrip(forget).(*kmsg.FetchResponse)
	require.Equal(t, int16(0), resp.ErrorCode)
	require.Zero(t, resp.SessionID)
	resp = c.roundTrip(newFetch(12, id, 9, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode)
}

// TestFetchSessionEpochRules: an unknown session id answers
// FETCH_SESSION_ID_NOT_FOUND, an epoch other than the next one
// INVALID_FETCH_SESSION_EPOCH (both with no partition and session id 0, the
// session kept); epoch -1 closes a session and answers sessionless; epoch 0 with a
// session id closes it and opens another; any connection may continue a session;
// versions before 7 have no sessions.
func TestFetchSessionEpochRules(t *testing.T) {
	ts := startServer(t, nil, nil)
	createSessionTopic(t, ts, "e", 1)
	produceValues(t, ts.store, "e", 0, "x")
	c := ts.dial(t)
	full := c.roundTrip(newFetch(12, 0, 0, 0, 0, fetchAt{"e", 0, 0})).(*kmsg.FetchResponse)
	id := full.SessionID
	require.NotZero(t, id)

	resp := c.roundTrip(newFetch(12, id+1, 1, 0, 0, fetchAt{"e", 0, 0})).(*kmsg.FetchResponse)
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode)
	require.Zero(t, resp.SessionID)
	require.Empty(t, resp.Topics)
	for _, epoch := range []int32{2, 0x7fffffff, -2} {
		resp = c.roundTrip(newFetch(12, id, epoch, 0, 0)).(*kmsg.FetchResponse)
		require.Equal(t, kerr.InvalidFetchSessionEpoch.Code, resp.ErrorCode, "epoch %d", epoch)
		require.Zero(t, resp.SessionID)
		require.Empty(t, resp.Topics)
	}
	other := ts.dial(t) // another connection continues the session
	resp = other.roundTrip(newFetch(12, id, 1, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, int16(0), resp.ErrorCode)
	require.Equal(t, id, resp.SessionID)
	resp = c.roundTrip(newFetch(12, id, 1, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, kerr.InvalidFetchSessionEpoch.Code, resp.ErrorCode, "epoch 1 was used")

	full = c.roundTrip(newFetch(12, id, 0, 0, 0, fetchAt{"e", 0, 0})).(*kmsg.FetchResponse)
	require.NotZero(t, full.SessionID)
	require.NotEqual(t, id, full.SessionID, "epoch 0 opens a new session")
	require.Equal(t, []string{"e-0 records=1"}, answered(t, ts, full))
	resp = c.roundTrip(newFetch(12, id, 2, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode, "and closes the one named")

	id = full.SessionID
	final := c.roundTrip(newFetch(12, id, -1, 0, 0, fetchAt{"e", 0, 0})).(*kmsg.FetchResponse)
	require.Equal(t, int16(0), final.ErrorCode)
	require.Zero(t, final.SessionID, "epoch -1: sessionless")
	require.Equal(t, []string{"e-0 records=1"}, answered(t, ts, final))
	resp = c.roundTrip(newFetch(12, id, 1, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode, "epoch -1 closed the session")

	old := c.roundTrip(newFetch(6, 0, 0, 0, 0, fetchAt{"e", 0, 0})).(*kmsg.FetchResponse)
	require.Equal(t, []string{"e-0 records=1"}, answered(t, ts, old), "v6: no session")
	require.Empty(t, ts.server.fetchSessions.mu.sessions)
}

// TestFetchSessionLongPollWaitsOnEverySessionPartition: an incremental fetch
// naming no partition waits for data on the partitions of its session.
func TestFetchSessionLongPollWaitsOnEverySessionPartition(t *testing.T) {
	ts := startServer(t, nil, nil)
	createSessionTopic(t, ts, "w", 2)
	c := ts.dial(t)
	id := c.roundTrip(newFetch(12, 0, 0, 0, 0, fetchAt{"w", 0, 0}, fetchAt{"w", 1, 0})).(*kmsg.FetchResponse).SessionID
	require.NotZero(t, id)
	c.nc.SetReadDeadline(time.Now().Add(time.Minute)) // a bound on a hang, not a wait
	req := newFetch(12, id, 1, time.Minute, 1)
	c.send(frame(req, 7))
	produceValues(t, ts.store, "w", 1, "late")
	resp, _ := c.readResponse(req)
	require.Equal(t, []string{"w-1 records=1"}, answered(t, ts, resp.(*kmsg.FetchResponse)))
}

// TestFetchSessionDeletedTopic: a partition of a topic deleted while in a session
// answers UNKNOWN_TOPIC_OR_PARTITION at every fetch, as Kafka, until the client
// forgets it; the session's other partitions go on.
func TestFetchSessionDeletedTopic(t *testing.T) {
	ts := startServer(t, nil, nil)
	createSessionTopic(t, ts, "keep", 1)
	createSessionTopic(t, ts, "drop", 1)
	c := ts.dial(t)
	id := c.roundTrip(newFetch(12, 0, 0, 0, 0, fetchAt{"keep", 0, 0}, fetchAt{"drop", 0, 0})).(*kmsg.FetchResponse).SessionID
	require.NotZero(t, id)
	require.NoError(t, ts.store.DeleteTopic(context.Background(), "drop"))
	produceValues(t, ts.store, "keep", 0, "k")
	for epoch := int32(1); epoch <= 2; epoch++ {
		resp := c.roundTrip(newFetch(12, id, epoch, 0, 0, fetchAt{"keep", 0, int64(epoch - 1)})).(*kmsg.FetchResponse)
		want := []string{"drop-0:" + kerr.UnknownTopicOrPartition.Error()}
		if epoch == 1 {
			want = append(want, "keep-0 records=1")
		}
		require.Equal(t, want, answered(t, ts, resp), "epoch %d", epoch)
	}
	forget := newFetch(12, id, 3, 0, 0)
	forget.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "drop", Partitions: []int32{0}}}
	resp := c.roundTrip(forget).(*kmsg.FetchResponse)
	require.Empty(t, answered(t, ts, resp))
	require.Equal(t, id, resp.SessionID)

	// A long poll waits on the partitions left (Kafka leaves an unknown topic out
	// of the wait) and answers the error with them.
	c.nc.SetReadDeadline(time.Now().Add(time.Minute)) // a bound on a hang, not a wait
	req := newFetch(12, id, 4, time.Minute, 1, fetchAt{"drop", 0, 0})
	c.send(frame(req, 7))
	produceValues(t, ts.store, "keep", 0, "later")
	answer, _ := c.readResponse(req)
	require.Equal(t, []string{"drop-0:" + kerr.UnknownTopicOrPartition.Error(), "keep-0 records=1"}, answered(t, ts, answer.(*kmsg.FetchResponse)))
}

// TestFetchSessionCacheEviction: the cache holds FetchSessionCacheSlots sessions;
// a new one evicts the least recently used if it has been unused for longer
// than Kafka's min.incremental.fetch.session.eviction.ms (2 minutes), otherwise
// the smallest of those older than that when last used if it is smaller than the
// new one, otherwise it gets no session (id 0). Negative slots: no sessions.
func TestFetchSessionCacheEviction(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	ts := startServer(t, &Options{FetchSessionCacheSlots: 2}, func(s *Server) {
		s.now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	createSessionTopic(t, ts, "v", 3)
	c := ts.dial(t)
	open := func(n int) int32 {
		var parts []fetchAt
		for p := range n {
			parts = append(parts, fetchAt{"v", int32(p), 0})
		}
		return c.roundTrip(newFetch(12, 0, 0, 0, 0, parts...)).(*kmsg.FetchResponse).SessionID
	}
	alive := func(id, epoch int32) bool {
		resp := c.roundTrip(newFetch(12, id, epoch, 0, 0)).(*kmsg.FetchResponse)
		return resp.ErrorCode == 0
	}
	a := open(1)
	b := open(2)
	require.NotZero(t, a)
	require.NotZero(t, b)
	require.Zero(t, open(3), "full, and both sessions are young")
	advance(time.Minute)
	require.True(t, alive(a, 1))
	advance(61 * time.Second) // b unused for 121 s, a for 61 s
	cs := open(3)
	require.NotZero(t, cs, "b was stale")
	require.False(t, alive(b, 1), "b evicted")
	advance(30 * time.Second) // a: created 151 s ago, last used 91 s ago (60 s old then); c: 30 s old
	require.Zero(t, open(2), "a was young when last used: not evictable for a larger session")
	require.True(t, alive(a, 2)) // now 151 s old when used
	require.Zero(t, open(1), "a is not smaller than a session of one partition")
	d := open(2)
	require.NotZero(t, d, "a, old and smaller, is evicted for a session of two")
	require.False(t, alive(a, 3))
	require.True(t, alive(cs, 1))
	require.True(t, alive(d, 1))

	none := startServer(t, &Options{FetchSessionCacheSlots: -1}, nil)
	createSessionTopic(t, none, "v", 1)
	resp := none.dial(t).roundTrip(newFetch(12, 0, 0, 0, 0, fetchAt{"v", 0, 0})).(*kmsg.FetchResponse)
	require.Equal(t, int16(0), resp.ErrorCode)
	require.Zero(t, resp.SessionID, "no slots: sessionless")
}

// newFetchByID is newFetch at v13+, naming topics by ID.
func newFetchByID(t testing.TB, ts *testServer, version int16, sessionID, epoch int32, parts ...fetchAt) *kmsg.FetchRequest {
	t.Helper()
	req := newFetch(version, sessionID, epoch, 0, 0, parts...)
	for i := range req.Topics {
		id, err := ts.store.TopicID(req.Topics[i].Topic)
		require.NoError(t, err)
		req.Topics[i].Topic, req.Topics[i].TopicID = "", id
	}
	return req
}

// TestFetchSessionByTopicID: from v13 a session keys its partitions by topic ID:
// incremental fetches and forgotten topics name them by ID, a deleted topic's
// partitions answer UNKNOWN_TOPIC_ID until forgotten, and a session may not
// change between names (v12) and IDs (v13+): FETCH_SESSION_TOPIC_ID_ERROR, as
// Kafka.
func TestFetchSessionByTopicID(t *testing.T) {
	ts := startServer(t, nil, nil)
	createSessionTopic(t, ts, "byid", 2)
	createSessionTopic(t, ts, "gone", 1)
	goneID, err := ts.store.TopicID("gone")
	require.NoError(t, err)
	produceValues(t, ts.store, "byid", 0, "a")
	c := ts.dial(t)
	full := c.roundTrip(newFetchByID(t, ts, 18, 0, 0, fetchAt{"byid", 0, 0}, fetchAt{"gone", 0, 0})).(*kmsg.FetchResponse)
	require.NotZero(t, full.SessionID)
	require.Equal(t, []string{"byid-0 records=1", "gone-0"}, answered(t, ts, full))
	id := full.SessionID

	resp := c.roundTrip(newFetch(12, id, 1, 0, 0)).(*kmsg.FetchResponse)
	require.Equal(t, kerr.FetchSessionTopicIDError.Code, resp.ErrorCode, "a session by ID continued by name")

	produceValues(t, ts.store, "byid", 1, "b")
	resp = c.roundTrip(newFetchByID(t, ts, 18, id, 1, fetchAt{"byid", 0, 1}, fetchAt{"byid", 1, 0})).(*kmsg.FetchResponse)
	require.Equal(t, []string{"byid-1 records=1"}, answered(t, ts, resp))

	resp = c.roundTrip(newFetchByID(t, ts, 18, id, 2, fetchAt{"byid", 1, 1})).(*kmsg.FetchResponse)
	require.Empty(t, resp.Topics)
	require.NoError(t, ts.store.DeleteTopic(context.Background(), "gone"))
	for epoch := int32(3); epoch <= 4; epoch++ {
		resp = c.roundTrip(newFetchByID(t, ts, 18, id, epoch)).(*kmsg.FetchResponse)
		require.Len(t, resp.Topics, 1, "epoch %d", epoch)
		require.Equal(t, goneID, log.TopicID(resp.Topics[0].TopicID))
		require.Equal(t, kerr.UnknownTopicID.Code, resp.Topics[0].Partitions[0].ErrorCode, "epoch %d", epoch)
	}
	forget := newFetchByID(t, ts, 18, id, 5)
	forget.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{TopicID: goneID, Partitions: []int32{0}}}
	resp = c.roundTrip(forget).(*kmsg.FetchResponse)
	require.Equal(t, int16(0), resp.ErrorCode)
	require.Empty(t, resp.Topics)

	byName := c.roundTrip(newFetch(12, 0, 0, 0, 0, fetchAt{"byid", 0, 0})).(*kmsg.FetchResponse)
	require.NotZero(t, byName.SessionID)
	resp = c.roundTrip(newFetchByID(t, ts, 13, byName.SessionID, 1)).(*kmsg.FetchResponse)
	require.Equal(t, kerr.FetchSessionTopicIDError.Code, resp.ErrorCode, "a session by name continued by ID")
}
