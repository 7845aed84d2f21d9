package kafka

import (
	"errors"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDeleteTopics answers DeleteTopics: each topic named, or asked by topic
// ID (v6+), is deleted; the answer names it both ways (v6+). An ID no topic has
// is UNKNOWN_TOPIC_ID.
func handleDeleteTopics(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := kmsg.NewPtrDeleteTopicsResponse()
	resp.Version = req.Version
	topics := req.Topics
	if req.Version < 6 {
		topics = make([]kmsg.DeleteTopicsRequestTopic, len(req.TopicNames))
		for i := range req.TopicNames {
			topics[i].Topic = &req.TopicNames[i]
		}
	}
	for _, t := range topics {
		topic := kmsg.NewDeleteTopicsResponseTopic()
		topic.Topic, topic.TopicID = t.Topic, t.TopicID
		if t.Topic == nil { // v6+: asked by topic ID
			name, ok := topicNameOf(r.store, t.TopicID)
			if !ok {
				topic.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, topic)
				continue
			}
			topic.Topic = &name
			// By ID under the store's lock: a topic made again under the name
			// since the lookup is not the one deleted.
			err := r.store.DeleteTopicByID(r.ctx, log.TopicID(t.TopicID))
			switch {
			case errors.Is(err, log.ErrUnknownTopicID):
				topic.ErrorCode = kerr.UnknownTopicID.Code
			case err != nil:
				topic.ErrorCode, topic.ErrorMessage = errorCode(err)
			}
			resp.Topics = append(resp.Topics, topic)
			continue
		}
		topic.TopicID = topicIDOf(r.store, *t.Topic)
		if err := r.store.DeleteTopic(r.ctx, *topic.Topic); err != nil {
			topic.ErrorCode, topic.ErrorMessage = errorCode(err)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}
