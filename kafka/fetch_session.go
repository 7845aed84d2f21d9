package kafka

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch sessions (KIP-227), as Kafka's FetchSessionCache keeps them. A full fetch
// (session epoch 0, from Fetch v7) creates a session holding its partitions and
// answers its id; the client's later fetches name the session and the next epoch
// and carry only what changed: partitions to add or whose fetch offset or byte
// limit moved, and ForgottenTopics to remove. The server answers every partition of
// the session it has something new for: records, a changed high watermark, last
// stable offset or log start offset, or an error. The session belongs to the
// server, not to a connection: any connection may continue it.
//
// The rules, Kafka's (FetchManager.newContext):
//
//   - epoch 0 (a full fetch): any session named is closed and a new one is
//     created, if the cache has a free slot or may evict a session (see
//     createFetchSession); otherwise the answer's session id is 0 and the client
//     goes on without one.
//   - epoch -1 (the final epoch): any session named is closed; the fetch is
//     sessionless (answer session id 0).
//   - any other epoch: the session must exist (FETCH_SESSION_ID_NOT_FOUND),
//     expect that epoch (INVALID_FETCH_SESSION_EPOCH) and name topics as the
//     fetch that created it (by topic ID from v13, by name before:
//     FETCH_SESSION_TOPIC_ID_ERROR); these answer no partition and session id
//     0. The request's partitions are added to or updated in the session, then
//     its forgotten partitions removed; a session left empty is closed and the
//     fetch answered as sessionless. The session then expects the next epoch
//     (after 2^31-1 comes 1).
//
// Within a session, the partitions that returned records move to the end of its
// order, so that under the request's byte limit every partition gets its turn.

// DefaultFetchSessionCacheSlots is how many fetch sessions a server keeps by
// default: Kafka's max.incremental.fetch.session.cache.slots, 1000.
const DefaultFetchSessionCacheSlots = 1000

// fetchSessionEvictionAge is Kafka's min.incremental.fetch.session.eviction.ms:
// when the cache is full, a session unused for longer than this is evicted for a
// new one, and otherwise only a session created longer than this ago, and
// smaller than the new one, may be.
const fetchSessionEvictionAge = 120 * time.Second

// The session epochs with a meaning of their own (Kafka's FetchMetadata).
const (
	initialSessionEpoch = 0  // a full fetch, which opens a session
	finalSessionEpoch   = -1 // a full fetch that closes any session and opens none
)

// nextSessionEpoch is the epoch after epoch (Kafka's FetchMetadata.nextEpoch).
func nextSessionEpoch(epoch int32) int32 {
	switch {
	case epoch < 0:
		return finalSessionEpoch
	case epoch == math.MaxInt32:
		return 1
	default:
		return epoch + 1
	}
}

// fetchSessionCache is a server's fetch sessions, by id. Lock order: the cache's
// mu, then a session's.
type fetchSessionCache struct {
	mu struct {
		sync.Mutex
		sessions map[int32]*fetchSession // created at the first session
	}
}

// sessionKey names a partition of a session: by topic name, or by topic ID in a
// session of Fetch v13+ (whose requests name topics by ID only).
type sessionKey struct {
	topic     string
	topicID   [16]byte
	partition int32
}

// fetchSession is one fetch session.
type fetchSession struct {
	id           int32
	created      time.Time
	usesTopicIDs bool // created by a fetch of v13+: partitions are keyed by topic ID
	// Guarded by the cache's mu: when the session was last used, how many
	// partitions it held then, and whether it was older than
	// fetchSessionEvictionAge then (what eviction compares: Kafka's
	// FetchSessionCache.touch files a session as evictable for a larger one only
	// if it was that old when last used).
	lastUsed  time.Time
	size      int
	evictable bool

	mu struct {
		sync.Mutex
		epoch      int32               // the epoch of the session's next request
		partitions []*sessionPartition // in fetch order
		byKey      map[sessionKey]*sessionPartition
	}
}

// key returns the key of partition of the topic named topic, of ID topicID, in
// the session.
func (f *fetchSession) key(topic string, topicID [16]byte, partition int32) sessionKey {
	if f.usesTopicIDs {
		return sessionKey{topicID: topicID, partition: partition}
	}
	return sessionKey{topic: topic, partition: partition}
}

// sessionPartition is one partition of a fetch session: the request's fields for
// it, and what the last answer told the client.
type sessionPartition struct {
	topic   string   // as the request named it (empty in a session by topic ID)
	topicID [16]byte // as the request named it (v13+)
	request kmsg.FetchRequestTopicPartition
	// As last answered, -1 before any answer (or after an error), so that a
	// change includes the partition in the next answer.
	highWatermark, lastStableOffset, logStartOffset int64
}

// fetchSessionStep is one fetch's use of the session cache: beginFetchSession
// turns the request into the full list of its partitions, end sets the answer's
// session id and leaves out the partitions with nothing new.
type fetchSessionStep struct {
	server  *Server
	create  bool                     // a full fetch that creates a session at end
	topics  []kmsg.FetchRequestTopic // create: the request's topics, as they came
	session *fetchSession            // an incremental fetch's session
	epoch   int32                    // the session's epoch once this fetch's update was applied
}

// beginFetchSession applies req's session fields (Fetch v7+) to the server's
// session cache. For an incremental fetch it rewrites req.Topics to every
// partition of the session, in the session's order, with the fetch offsets and
// limits the session holds. A code other than 0 is the fetch's answer
// (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH,
// FETCH_SESSION_TOPIC_ID_ERROR), with no partition.
func (s *Server) beginFetchSession(req *kmsg.FetchRequest) (fetchSessionStep, int16) {
	step := fetchSessionStep{server: s}
	if req.Version < 7 {
		return step, 0
	}
	c := &s.fetchSessions
	if req.SessionEpoch == initialSessionEpoch || req.SessionEpoch == finalSessionEpoch {
		if req.SessionID != 0 {
			c.mu.Lock()
			delete(c.mu.sessions, req.SessionID)
			c.mu.Unlock()
		}
		step.create = req.SessionEpoch == initialSessionEpoch && s.opts.FetchSessionCacheSlots > 0
		if step.create {
			step.topics = slices.Clone(req.Topics) // resolveFetchTopicIDs edits req.Topics in place
		}
		return step, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	session := c.mu.sessions[req.SessionID]
	if session == nil {
		return step, kerr.FetchSessionIDNotFound.Code
	}
	session.mu.Lock()
	defer session.mu.Unlock()
	if session.mu.epoch != req.SessionEpoch {
		return step, kerr.InvalidFetchSessionEpoch.Code
	}
	if session.usesTopicIDs != (req.Version >= 13) {
		return step, kerr.FetchSessionTopicIDError.Code
	}
	session.updateLocked(req)
	if len(session.mu.partitions) == 0 {
		delete(c.mu.sessions, session.id)
		return step, 0 // sessionless: req names exactly what it fetches
	}
	session.lastUsed, session.size = s.now(), len(session.mu.partitions)
	session.evictable = session.lastUsed.Sub(session.created) > fetchSessionEvictionAge
	session.mu.epoch = nextSessionEpoch(session.mu.epoch)
	step.session, step.epoch = session, session.mu.epoch
	req.Topics = session.requestTopicsLocked()
	return step, 0
}

// updateLocked adds req's partitions to the session or updates those it holds,
// then removes req's forgotten ones (Kafka's FetchSession.update).
func (f *fetchSession) updateLocked(req *kmsg.FetchRequest) {
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			key := f.key(t.Topic, t.TopicID, p.Partition)
			if cached := f.mu.byKey[key]; cached != nil {
				cached.request = p
				continue
			}
			cached := &sessionPartition{topic: t.Topic, topicID: t.TopicID, request: p, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1}
			f.mu.partitions = append(f.mu.partitions, cached)
			f.mu.byKey[key] = cached
		}
	}
	var forgotten map[*sessionPartition]bool
	for _, t := range req.ForgottenTopics {
		for _, partition := range t.Partitions {
			key := f.key(t.Topic, t.TopicID, partition)
			if cached := f.mu.byKey[key]; cached != nil {
				delete(f.mu.byKey, key)
				if forgotten == nil {
					forgotten = map[*sessionPartition]bool{}
				}
				forgotten[cached] = true
			}
		}
	}
	if forgotten != nil {
		f.mu.partitions = slices.DeleteFunc(f.mu.partitions, func(p *sessionPartition) bool { return forgotten[p] })
	}
}

// requestTopicsLocked returns the session's partitions as a request's topics, in
// the session's order (a topic appears once per run of its partitions, as in
// Kafka's requests), named as the session's requests name them.
func (f *fetchSession) requestTopicsLocked() []kmsg.FetchRequestTopic {
	var topics []kmsg.FetchRequestTopic
	for _, p := range f.mu.partitions {
		if n := len(topics); n == 0 || topics[n-1].Topic != p.topic || topics[n-1].TopicID != p.topicID {
			topic := kmsg.NewFetchRequestTopic()
			topic.Topic, topic.TopicID = p.topic, p.topicID
			topics = append(topics, topic)
		}
		topics[len(topics)-1].Partitions = append(topics[len(topics)-1].Partitions, p.request)
	}
	return topics
}

// end finishes the fetch of req answered by resp: a full fetch creates its
// session and answers its id; an incremental one keeps in resp only the
// partitions the client has not heard of yet (Kafka's
// CachedPartition.maybeUpdateResponseData, and the last stable offset too),
// releasing the store's results held for the others.
func (step fetchSessionStep) end(req *kmsg.FetchRequest, resp *fetchResponse) {
	switch {
	case req.Version < 7 || resp.ErrorCode != 0:
	case step.create:
		resp.SessionID = step.server.createFetchSession(req.Version, step.topics, resp.FetchResponse)
	case step.session != nil:
		step.session.filterAnswer(step.epoch, resp)
	}
}

// createFetchSession creates a session of the partitions of topics (the full
// fetch's request, as it came), as resp answered them, and returns its id, or 0
// if the cache has no room for it.
func (s *Server) createFetchSession(version int16, topics []kmsg.FetchRequestTopic, resp *kmsg.FetchResponse) int32 {
	session := &fetchSession{created: s.now(), usesTopicIDs: version >= 13}
	session.lastUsed = session.created
	session.mu.epoch = nextSessionEpoch(initialSessionEpoch)
	session.mu.byKey = map[sessionKey]*sessionPartition{}
	answers := map[sessionKey]*kmsg.FetchResponseTopicPartition{}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		for j := range t.Partitions {
			answers[session.key(t.Topic, t.TopicID, t.Partitions[j].Partition)] = &t.Partitions[j]
		}
	}
	for _, t := range topics {
		for _, p := range t.Partitions {
			key := session.key(t.Topic, t.TopicID, p.Partition)
			if session.mu.byKey[key] != nil {
				continue // named twice: the first counts
			}
			cached := &sessionPartition{topic: t.Topic, topicID: t.TopicID, request: p, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1}
			if answered := answers[key]; answered != nil && answered.ErrorCode == 0 {
				cached.highWatermark, cached.lastStableOffset, cached.logStartOffset = answered.HighWatermark, answered.LastStableOffset, answered.LogStartOffset
			}
			session.mu.partitions = append(session.mu.partitions, cached)
			session.mu.byKey[key] = cached
		}
	}
	session.size = len(session.mu.partitions)
	c := &s.fetchSessions
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.sessions == nil {
		c.mu.sessions = map[int32]*fetchSession{}
	}
	if len(c.mu.sessions) >= s.opts.FetchSessionCacheSlots && !c.evictLocked(session.created, session.size) {
		return 0
	}
	for {
		session.id = rand.Int32N(math.MaxInt32) + 1 // 1..2^31-1: 0 means no session
		if c.mu.sessions[session.id] == nil {
			break
		}
	}
	c.mu.sessions[session.id] = session
	return session.id
}

// evictLocked makes room for a new session of size partitions, as Kafka's
// FetchSessionCache.tryEvict: it evicts the session least recently used if that
// was longer than fetchSessionEvictionAge ago; otherwise, among the sessions that
// were older than that when last used, the one with the fewest partitions (then
// the lowest id) if it has fewer than size. It reports whether it evicted one.
func (c *fetchSessionCache) evictLocked(now time.Time, size int) bool {
	var stalest, smallest *fetchSession
	for _, f := range c.mu.sessions {
		if stalest == nil || f.lastUsed.Before(stalest.lastUsed) || (f.lastUsed.Equal(stalest.lastUsed) && f.id < stalest.id) {
			stalest = f
		}
		if f.evictable &&
			(smallest == nil || f.size < smallest.size || (f.size == smallest.size && f.id < smallest.id)) {
			smallest = f
		}
	}
	switch {
	case stalest == nil:
		return false
	case now.Sub(stalest.lastUsed) > fetchSessionEvictionAge:
		delete(c.mu.sessions, stalest.id)
		return true
	case smallest != nil && smallest.size < size:
		delete(c.mu.sessions, smallest.id)
		return true
	}
	return false
}

// filterAnswer keeps in resp, the answer of the session's fetch of epoch (the
// session's epoch after that fetch's update), the partitions with something new
// for the client, with the store's results held for them (those of the others
// released), records what it tells the client, moves the partitions that
// returned records to the end of the session's order, and sets resp's session
// id. If another fetch of the session came in between (a duplicate request),
// the answer is INVALID_FETCH_SESSION_EPOCH with no partition, as Kafka's.
func (f *fetchSession) filterAnswer(epoch int32, resp *fetchResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp.SessionID = f.id
	if f.mu.epoch != epoch {
		resp.release()
		resp.ErrorCode, resp.Topics = kerr.InvalidFetchSessionEpoch.Code, nil
		return
	}
	var moved []*sessionPartition
	held := resp.held[:0] // resp.held[i] is the i-th partition's (those answerUnknownTopicIDs adds come last, with none)
	i := 0
	topics := resp.Topics[:0]
	for _, t := range resp.Topics {
		partitions := t.Partitions[:0]
		for _, p := range t.Partitions {
			cached := f.mu.byKey[f.key(t.Topic, t.TopicID, p.Partition)]
			keep := cached == nil || cached.mustAnswer(&p)
			if keep {
				partitions = append(partitions, p)
			}
			if i < len(resp.held) {
				if keep {
					held = append(held, resp.held[i])
				} else {
					resp.held[i].result.Release()
				}
			}
			i++
			if cached != nil && len(p.RecordBatches) > 0 {
				moved = append(moved, cached)
			}
		}
		if len(partitions) > 0 {
			t.Partitions = partitions
			topics = append(topics, t)
		}
	}
	clear(resp.held[len(held):])
	resp.Topics, resp.held = topics, held
	if len(moved) > 0 {
		f.moveToEndLocked(moved)
	}
}

// mustAnswer reports whether p, the partition's answer, tells the client
// something new, and records what it tells.
func (cached *sessionPartition) mustAnswer(p *kmsg.FetchResponseTopicPartition) bool {
	must := len(p.RecordBatches) > 0 || p.PreferredReadReplica >= 0 || p.DivergingEpoch.Epoch >= 0
	if p.HighWatermark != cached.highWatermark || p.LastStableOffset != cached.lastStableOffset || p.LogStartOffset != cached.logStartOffset {
		cached.highWatermark, cached.lastStableOffset, cached.logStartOffset = p.HighWatermark, p.LastStableOffset, p.LogStartOffset
		must = true
	}
	if p.ErrorCode != 0 {
		cached.highWatermark = -1 // answered again once the error is gone
		must = true
	}
	return must
}

// moveToEndLocked moves the partitions of moved, in that order, to the end of the
// session's order.
func (f *fetchSession) moveToEndLocked(moved []*sessionPartition) {
	isMoved := make(map[*sessionPartition]bool, len(moved))
	for _, p := range moved {
		isMoved[p] = true
	}
	order := make([]*sessionPartition, 0, len(f.mu.partitions))
	for _, p := range f.mu.partitions {
		if !isMoved[p] {
			order = append(order, p)
		}
	}
	f.mu.partitions = append(order, moved...)
}
