package kafka

import (
	"context"
	"testing"

	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAdminRequestsAtLowestAndHighestVersions sends each admin API of this slice
// (the config alterations, DescribeCluster, DescribeLogDirs, ElectLeaders and the
// ACL APIs) at its lowest and highest served version.
func TestAdminRequestsAtLowestAndHighestVersions(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.dial(t)
	ctx := context.Background()
	if err := ts.store.CreateTopic(ctx, "orders", log.TopicConfig{}); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"lowest", "highest"} {
		at := func(key kmsg.Key) int16 {
			a := lookupAPI(key.Int16())
			if version == "lowest" {
				return a.minVersion
			}
			return a.maxVersion
		}
		t.Run(version, func(t *testing.T) {
			alter := kmsg.NewPtrAlterConfigsRequest()
			alter.Version = at(kmsg.AlterConfigs)
			resource := kmsg.NewAlterConfigsRequestResource()
			resource.ResourceType, resource.ResourceName = kmsg.ConfigResourceTypeTopic, "orders"
			resource.Configs = []kmsg.AlterConfigsRequestResourceConfig{{Name: log.ConfigRetentionMs, Value: kmsg.StringPtr("60000")}}
			alter.Resources = append(alter.Resources, resource)
			if r := c.roundTrip(alter).(*kmsg.AlterConfigsResponse).Resources[0]; r.ErrorCode != 0 || r.ResourceName != "orders" {
				t.Errorf("AlterConfigs v%d: %+v", alter.Version, r)
			}

			incremental := kmsg.NewPtrIncrementalAlterConfigsRequest()
			incremental.Version = at(kmsg.IncrementalAlterConfigs)
			incrementalResource := kmsg.NewIncrementalAlterConfigsRequestResource()
			incrementalResource.ResourceType, incrementalResource.ResourceName = kmsg.ConfigResourceTypeTopic, "orders"
			incrementalResource.Configs = []kmsg.IncrementalAlterConfigsRequestResourceConfig{
				{Name: log.ConfigRetentionMs, Op: kmsg.IncrementalAlterConfigOpDelete},
				{Name: log.ConfigSegmentMs, Op: kmsg.IncrementalAlterConfigOpSet, Value: kmsg.StringPtr("3600000")},
			}
			incremental.Resources = append(incremental.Resources, incrementalResource)
			if r := c.roundTrip(incremental).(*kmsg.IncrementalAlterConfigsResponse).Resources[0]; r.ErrorCode != 0 || r.ResourceName != "orders" {
				t.Errorf("IncrementalAlterConfigs v%d: %+v", incremental.Version, r)
			}

			cluster := kmsg.NewPtrDescribeClusterRequest()
			cluster.Version = at(kmsg.DescribeCluster)
			described := c.roundTrip(cluster).(*kmsg.DescribeClusterResponse)
			host, port := splitTestAddr(t, ts.addr)
			if described.ErrorCode != 0 || described.ClusterID != DefaultClusterID || described.ControllerID != 0 ||
				len(described.Brokers) != 1 || described.Brokers[0].Host != host || described.Brokers[0].Port != port ||
				described.ClusterAuthorizedOperations != -2147483648 {
				t.Errorf("DescribeCluster v%d: %+v", cluster.Version, described)
			}

			logDirs := kmsg.NewPtrDescribeLogDirsRequest()
			logDirs.Version = at(kmsg.DescribeLogDirs)
			dirs := c.roundTrip(logDirs).(*kmsg.DescribeLogDirsResponse)
			if len(dirs.Dirs) != 1 || dirs.Dirs[0].ErrorCode != 0 || len(dirs.Dirs[0].Topics) == 0 {
				t.Errorf("DescribeLogDirs v%d: %+v", logDirs.Version, dirs)
			}

			elect := kmsg.NewPtrElectLeadersRequest()
			elect.Version = at(kmsg.ElectLeaders)
			elect.Topics = []kmsg.ElectLeadersRequestTopic{{Topic: "orders", Partitions: []int32{0}}}
			elected := c.roundTrip(elect).(*kmsg.ElectLeadersResponse)
			if len(elected.Topics) != 1 || elected.Topics[0].Partitions[0].ErrorCode != kerr.ElectionNotNeeded.Code {
				t.Errorf("ElectLeaders v%d of a one-broker store: %+v, want ELECTION_NOT_NEEDED", elect.Version, elected)
			}

			describeACLs := kmsg.NewPtrDescribeACLsRequest()
			describeACLs.Version = at(kmsg.DescribeACLs)
			if r := c.roundTrip(describeACLs).(*kmsg.DescribeACLsResponse); r.ErrorCode != kerr.SecurityDisabled.Code || *r.ErrorMessage != noAuthorizer {
				t.Errorf("DescribeAcls v%d: %+v", describeACLs.Version, r)
			}
			createACLs := kmsg.NewPtrCreateACLsRequest()
			createACLs.Version = at(kmsg.CreateACLs)
			createACLs.Creations = make([]kmsg.CreateACLsRequestCreation, 2)
			if r := c.roundTrip(createACLs).(*kmsg.CreateACLsResponse); len(r.Results) != 2 || r.Results[1].ErrorCode != kerr.SecurityDisabled.Code {
				t.Errorf("CreateAcls v%d: %+v", createACLs.Version, r)
			}
			deleteACLs := kmsg.NewPtrDeleteACLsRequest()
			deleteACLs.Version = at(kmsg.DeleteACLs)
			deleteACLs.Filters = make([]kmsg.DeleteACLsRequestFilter, 1)
			if r := c.roundTrip(deleteACLs).(*kmsg.DeleteACLsResponse); len(r.Results) != 1 || r.Results[0].ErrorCode != kerr.SecurityDisabled.Code {
				t.Errorf("DeleteAcls v%d: %+v", deleteACLs.Version, r)
			}
		})
	}
	d, err := ts.store.DescribeTopic("orders")
	if err != nil {
		t.Fatal(err)
	}
	if d.Config.SegmentAge.Hours() != 1 {
		t.Errorf("segment.ms after the alterations: %v, want 1h", d.Config.SegmentAge)
	}
}
