package kafka

import (
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// clientSoftwarePattern is what ApiVersions v3+ requires of the client's
// software name and version (KIP-511).
var clientSoftwarePattern = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

// handleApiVersions answers ApiVersions with the apis table. A request of a
// version the server does not serve (decoded as nil) gets, as from Kafka, a
// version 0 response with UNSUPPORTED_VERSION and the served APIs, from which the
// client picks a version it shares and asks again. v5 (KIP-1242) names the
// cluster and node the client believes it reached: REBOOTSTRAP_REQUIRED if the
// cluster is not this one (Options.ClusterID) or the node not the listener's
// broker (ServeBroker; on Serve's listener, which serves every broker, not one of
// the store's), INVALID_REQUEST if only one of the two is set.
func handleApiVersions(r *request, kreq kmsg.Request) (kmsg.Response, error) {
	resp := kmsg.NewPtrApiVersionsResponse()
	if kreq == nil {
		resp.Version = 0
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		resp.ApiKeys = servedAPIs()
		return resp, nil
	}
	req := kreq.(*kmsg.ApiVersionsRequest)
	resp.Version = req.Version
	if req.Version >= 3 && (!clientSoftwarePattern.MatchString(req.ClientSoftwareName) ||
		!clientSoftwarePattern.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp, nil
	}
	if req.Version >= 5 {
		if code := checkExpectedNode(r, req); code != 0 {
			resp.ErrorCode = code
			return resp, nil
		}
	}
	resp.ApiKeys = servedAPIs()
	if req.Version >= 3 {
		// transaction.version 2 (KIP-890 part 2): strata's coordinator bumps the
		// epoch at every transaction's end, and a transactional produce adds its
		// partition to the transaction. Clients read it here to speak it.
		feature := kmsg.NewApiVersionsResponseSupportedFeature()
		feature.Name, feature.MinVersion, feature.MaxVersion = "transaction.version", 2, 2
		resp.SupportedFeatures = append(resp.SupportedFeatures, feature)
		finalized := kmsg.NewApiVersionsResponseFinalizedFeature()
		finalized.Name, finalized.MinVersionLevel, finalized.MaxVersionLevel = "transaction.version", 2, 2
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, finalized)
		resp.FinalizedFeaturesEpoch = 1
	}
	return resp, nil
}

// servedAPIs lists the apis table as ApiVersions answers it.
func servedAPIs() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, len(apis))
	for i, a := range apis {
		keys[i] = kmsg.ApiVersionsResponseApiKey{ApiKey: a.key.Int16(), MinVersion: a.minVersion, MaxVersion: a.maxVersion}
	}
	return keys
}

// checkExpectedNode checks the cluster and node an ApiVersions v5+ request
// expects to reach, returning the error code of a mismatch (0 if none, or if the
// client names neither, as while it bootstraps).
func checkExpectedNode(r *request, req *kmsg.ApiVersionsRequest) int16 {
	switch {
	case req.ClusterID == nil && req.NodeID < 0:
		return 0
	case req.ClusterID == nil || req.NodeID < 0:
		return kerr.InvalidRequest.Code
	case *req.ClusterID != r.server.opts.ClusterID:
		return kerr.RebootstrapRequired.Code
	}
	if r.broker != nil { // a listener of one broker (ServeBroker): that one
		if int32(r.broker.ID()) != req.NodeID {
			return kerr.RebootstrapRequired.Code
		}
		return 0
	}
	brokers, err := r.store.Brokers()
	if err != nil {
		return kerr.RebootstrapRequired.Code // a closed store: no broker here
	}
	for _, b := range brokers {
		if int32(b.ID) == req.NodeID {
			return 0
		}
	}
	return kerr.RebootstrapRequired.Code
}
