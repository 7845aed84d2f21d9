package kafka

import (
	"fmt"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleCreatePartitions answers CreatePartitions: each topic grows to Count
// partitions (log.Store.AddPartitions). A manual assignment of the new
// partitions' replicas is refused (INVALID_REPLICA_ASSIGNMENT); ValidateOnly
// checks the topic and the count without growing it.
func handleCreatePartitions(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := kmsg.NewPtrCreatePartitionsResponse()
	resp.Version = req.Version
	for _, t := range req.Topics {
		topic := kmsg.NewCreatePartitionsResponseTopic()
		topic.Topic = t.Topic
		topic.ErrorCode, topic.ErrorMessage = createPartitions(r, t, req.ValidateOnly)
		resp.Topics = append(resp.Topics, topic)
	}
	return resp, nil
}

func createPartitions(r *request, t kmsg.CreatePartitionsRequestTopic, validateOnly bool) (int16, *string) {
	if len(t.Assignment) > 0 {
		return kerr.InvalidReplicaAssignment.Code, message("strata places replicas itself: a manual replica assignment is not supported")
	}
	d, err := r.store.DescribeTopic(t.Topic)
	if err != nil {
		return errorCode(err)
	}
	if current := int32(len(d.Partitions)); t.Count <= current || t.Count > log.MaxPartitions {
		return kerr.InvalidPartitions.Code, message(fmt.Sprintf("topic %q has %d partitions: a new count must exceed it and be at most %d, not %d",
			t.Topic, current, log.MaxPartitions, t.Count))
	}
	if validateOnly {
		return 0, nil
	}
	if err := r.store.AddPartitions(r.ctx, t.Topic, int(t.Count)); err != nil {
		return createTopicErrorCode(err)
	}
	return 0, nil
}
