package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDescribeTransactions answers DescribeTransactions (kafka-transactions.sh
// describe) from the store's coordinator.
func handleDescribeTransactions(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeTransactionsRequest)
	resp := kmsg.NewPtrDescribeTransactionsResponse()
	resp.Version = req.Version
	coordinator, err := r.txnCoordinator()
	for _, id := range req.TransactionalIDs {
		state := kmsg.NewDescribeTransactionsResponseTransactionState()
		state.TransactionalID, state.ProducerID, state.ProducerEpoch, state.StartTimestamp = id, -1, -1, -1
		if err != nil {
			state.ErrorCode, _ = errorCode(err)
			resp.TransactionStates = append(resp.TransactionStates, state)
			continue
		}
		md, descErr := coordinator.Describe(id)
		if descErr != nil {
			state.ErrorCode = kerr.TransactionalIDNotFound.Code
			resp.TransactionStates = append(resp.TransactionStates, state)
			continue
		}
		state.State = md.State.String()
		state.TimeoutMillis = int32(md.Timeout.Milliseconds())
		if !md.StartTime.IsZero() {
			state.StartTimestamp = md.StartTime.UnixMilli()
		}
		state.ProducerID, state.ProducerEpoch = md.ProducerID, md.ProducerEpoch
		byTopic := map[string]int{}
		for _, tp := range md.Partitions {
			i, ok := byTopic[tp.Topic]
			if !ok {
				i = len(state.Topics)
				byTopic[tp.Topic] = i
				topic := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
				topic.Topic = tp.Topic
				state.Topics = append(state.Topics, topic)
			}
			state.Topics[i].Partitions = append(state.Topics[i].Partitions, tp.Partition)
		}
		resp.TransactionStates = append(resp.TransactionStates, state)
	}
	return resp, nil
}
