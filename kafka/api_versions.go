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
// client picks a version it shares and asks again.
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
