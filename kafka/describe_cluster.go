package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// clusterOperations is the cluster's authorized operations as a broker without
// an authorizer reports them: every operation Kafka defines on the cluster
// resource (CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
// ALTER_CONFIGS, IDEMPOTENT_WRITE), one bit per ACL operation code.
const clusterOperations = 1<<5 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12

// handleDescribeCluster answers DescribeCluster: the store's brokers at the
// addresses Metadata gives them (brokerNodes), the controller Metadata names
// (the first online broker: controllerID), and the cluster ID of
// Options.ClusterID. A broker that is offline is
// fenced: listed only when IncludeFencedBrokers (v2+) asks. Controllers (an
// EndpointType of 2, v1+) are UNSUPPORTED_ENDPOINT_TYPE, as a Kafka broker
// answers: strata has no separate controller endpoints.
func handleDescribeCluster(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := kmsg.NewPtrDescribeClusterResponse()
	resp.Version = req.Version
	resp.EndpointType = req.EndpointType
	resp.ClusterID = r.server.opts.ClusterID
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		resp.ErrorMessage = message("only brokers are described: strata has no controller endpoints")
		return resp, nil
	}
	nodes, err := r.brokerNodes()
	if err != nil {
		return nil, err
	}
	resp.ControllerID = controllerID(nodes)
	for _, n := range nodes {
		if !n.online && !req.IncludeFencedBrokers {
			continue
		}
		broker := kmsg.NewDescribeClusterResponseBroker()
		broker.NodeID, broker.Host, broker.Port, broker.IsFenced = int32(n.id), n.host, n.port, !n.online
		resp.Brokers = append(resp.Brokers, broker)
	}
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterOperations
	}
	return resp, nil
}
