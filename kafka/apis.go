package kafka

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// api is one Kafka API the server serves: its key, the versions it serves (the
// floor is Kafka 2.1's, which Kafka 4 keeps after KIP-896; the ceiling what kmsg
// knows and the handler implements) and its handler. ApiVersions advertises
// exactly this table.
type api struct {
	key        kmsg.Key
	minVersion int16
	maxVersion int16
	handle     func(*request, kmsg.Request) (kmsg.Response, error)
}

// apis is every API served, by key. It is set in init, as ApiVersions' handler
// reads it.
var apis []api

func init() {
	apis = []api{
		{kmsg.Produce, 3, 13, handleProduce},
		{kmsg.Fetch, 4, 18, handleFetch},
		{kmsg.ListOffsets, 1, 10, handleListOffsets},
		{kmsg.Metadata, 0, 13, handleMetadata},
		{kmsg.ApiVersions, 0, 5, handleApiVersions},
		{kmsg.CreateTopics, 2, 7, handleCreateTopics},
		{kmsg.DeleteTopics, 1, 6, handleDeleteTopics},
		{kmsg.DeleteRecords, 0, 2, handleDeleteRecords},
		{kmsg.DescribeConfigs, 1, 4, handleDescribeConfigs},
		{kmsg.CreatePartitions, 0, 3, handleCreatePartitions},
		{kmsg.AlterConfigs, 0, 2, handleAlterConfigs},
		{kmsg.IncrementalAlterConfigs, 0, 1, handleIncrementalAlterConfigs},
		{kmsg.DescribeCluster, 0, 2, handleDescribeCluster},
		{kmsg.DescribeTopicPartitions, 0, 0, handleDescribeTopicPartitions},
		{kmsg.DescribeLogDirs, 1, 5, handleDescribeLogDirs},
		{kmsg.ElectLeaders, 0, 2, handleElectLeaders},
		// ACLs, answered as a broker without an authorizer.
		{kmsg.DescribeACLs, 1, 3, handleDescribeAcls},
		{kmsg.CreateACLs, 1, 3, handleCreateAcls},
		{kmsg.DeleteACLs, 1, 3, handleDeleteAcls},
		{kmsg.SASLHandshake, 0, 1, handleSaslHandshake},
		{kmsg.SASLAuthenticate, 0, 2, handleSaslAuthenticate},
		{kmsg.DescribeUserSCRAMCredentials, 0, 0, handleDescribeUserScramCredentials},
		{kmsg.AlterUserSCRAMCredentials, 0, 0, handleAlterUserScramCredentials},
		{kmsg.InitProducerID, 0, 5, handleInitProducerID},
		{kmsg.OffsetForLeaderEpoch, 2, 4, handleOffsetForLeaderEpoch},
		{kmsg.AddPartitionsToTxn, 0, 3, handleAddPartitionsToTxn},
		{kmsg.AddOffsetsToTxn, 0, 4, handleAddOffsetsToTxn},
		{kmsg.EndTxn, 0, 5, handleEndTxn},
		{kmsg.TxnOffsetCommit, 0, 5, handleTxnOffsetCommit},
		{kmsg.DescribeTransactions, 0, 0, handleDescribeTransactions},
		{kmsg.ListTransactions, 0, 2, handleListTransactions},
		// Groups, through the store's group coordinator.
		{kmsg.OffsetCommit, 2, 10, handleOffsetCommit},
		{kmsg.OffsetFetch, 1, 10, handleOffsetFetch},
		{kmsg.FindCoordinator, 0, 6, handleFindCoordinator},
		{kmsg.JoinGroup, 2, 9, handleJoinGroup},
		{kmsg.Heartbeat, 0, 4, handleHeartbeat},
		{kmsg.LeaveGroup, 0, 5, handleLeaveGroup},
		{kmsg.SyncGroup, 0, 5, handleSyncGroup},
		{kmsg.DescribeGroups, 0, 6, handleDescribeGroups},
		{kmsg.ListGroups, 0, 5, handleListGroups},
		{kmsg.DeleteGroups, 0, 3, handleDeleteGroups},
		{kmsg.OffsetDelete, 0, 0, handleOffsetDelete},
	}
}

// lookupAPI returns the served API of key, or nil.
func lookupAPI(key int16) *api {
	for i := range apis {
		if apis[i].key.Int16() == key {
			return &apis[i]
		}
	}
	return nil
}

// request is what a handler gets besides the decoded request: the server, the
// header and a context that ends when the server is closed.
type request struct {
	ctx    context.Context
	server *Server
	store  *log.Store
	// broker is the broker the request's listener serves (ServeBroker), nil for
	// the whole store (Serve): see broker.go.
	broker *log.ServingBroker
	header requestHeader
	// advertisedHost and advertisedPort are the address Metadata gives for every
	// broker.
	advertisedHost string
	advertisedPort int32
	logger         *slog.Logger
	// conn is the connection the request came on, for the state it keeps
	// (authentication). Only the connection's goroutine runs handlers.
	conn *conn
}

// decodeRequest decodes the body of h into the request of its API, checking that
// the server serves its version. ApiVersions of a version above the served ones
// is not decoded (its body is of a version the server does not know): it returns
// a nil request, which handleApiVersions answers.
func decodeRequest(h requestHeader) (*api, kmsg.Request, error) {
	a := lookupAPI(h.key)
	if a == nil {
		return nil, nil, fmt.Errorf("%w: api key %d (%s) is not served", ErrMalformedRequest, h.key, kmsg.NameForKey(h.key))
	}
	if h.key == kmsg.ApiVersions.Int16() && h.version > a.maxVersion {
		return a, nil, nil
	}
	if h.version < a.minVersion || h.version > a.maxVersion {
		return nil, nil, fmt.Errorf("%w: %s version %d is not served (versions %d to %d are)",
			ErrMalformedRequest, kmsg.NameForKey(h.key), h.version, a.minVersion, a.maxVersion)
	}
	req := kmsg.RequestForKey(h.key)
	req.SetVersion(h.version)
	if err := req.ReadFrom(h.body); err != nil {
		return nil, nil, fmt.Errorf("%w: %s v%d: %v", ErrMalformedRequest, kmsg.NameForKey(h.key), h.version, err)
	}
	return a, req, nil
}
