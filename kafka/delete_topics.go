package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDeleteTopics answers DeleteTopics: each named topic is deleted. Topics
// asked by ID (v6+) are UNKNOWN_TOPIC_ID: strata's topics have no ID on the wire
// yet.
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
		if t.Topic == nil {
			topic.ErrorCode = kerr.UnknownTopicID.Code
		} else if err := r.store.DeleteTopic(r.ctx, *t.Topic); err != nil {
			topic.ErrorCode, topic.ErrorMessage = errorCode(err)
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}
