package tools

// kafka-broker-api-versions.sh (Kafka 2.8's BrokerApiVersionsCommand):
// every broker's ApiVersions, printed as NodeApiVersions.toString(true)
// prints them, against this client's (franz-go's) versions.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var _ = register(&Tool{
	Name:    "broker-api-versions",
	Summary: "This tool helps to retrieve broker version information.",
	Opts:    []Opt{optBootstrap, optCmdConfig},
	Run:     runBrokerAPIVersions,
})

// apiNames are Kafka 2.8's ApiKeys names.
var apiNames = []string{
	"Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica", "UpdateMetadata",
	"ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup", "Heartbeat",
	"LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake", "ApiVersions",
	"CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId", "OffsetForLeaderEpoch",
	"AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "WriteTxnMarkers", "TxnOffsetCommit",
	"DescribeAcls", "CreateAcls", "DeleteAcls", "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs",
	"DescribeLogDirs", "SaslAuthenticate", "CreatePartitions", "CreateDelegationToken",
	"RenewDelegationToken", "ExpireDelegationToken", "DescribeDelegationToken", "DeleteGroups",
	"ElectLeaders", "IncrementalAlterConfigs", "AlterPartitionReassignments",
	"ListPartitionReassignments", "OffsetDelete", "DescribeClientQuotas", "AlterClientQuotas",
	"DescribeUserScramCredentials", "AlterUserScramCredentials", "Vote", "BeginQuorumEpoch",
	"EndQuorumEpoch", "DescribeQuorum", "AlterIsr", "UpdateFeatures", "Envelope", "FetchSnapshot",
	"DescribeCluster", "DescribeProducers",
}

// zkBrokerAPI reports whether a ZooKeeper-mode broker is expected to
// serve the key (the KRaft-only keys are left out, as Kafka does).
func zkBrokerAPI(key int16) bool {
	return key >= 0 && int(key) < len(apiNames) && !(key >= 52 && key <= 55) && key != 59
}

func apiName(key int16) string {
	if key >= 0 && int(key) < len(apiNames) {
		return apiNames[key]
	}
	if name := kmsg.NameForKey(key); name != "" && name != "Unknown" {
		return name
	}
	return "UNKNOWN"
}

func runBrokerAPIVersions(e *Env, p *Parsed) error {
	if err := p.Require("bootstrap-server"); err != nil {
		return err
	}
	if _, err := loadProps(p.String("command-config")); err != nil {
		return err
	}
	if _, _, err := e.kafka(p.String("bootstrap-server")); err != nil {
		return err
	}
	ctx, cancel := e.op()
	defer cancel()
	md, err := e.admin.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	brokers := md.Brokers
	sort.Slice(brokers, func(i, j int) bool { return brokers[i].NodeID < brokers[j].NodeID })
	for _, b := range brokers {
		resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, e.cl.Broker(int(b.NodeID)))
		node := fmt.Sprintf("%s:%d (id: %d rack: %s)", b.Host, b.Port, b.NodeID, strOrNull(b.Rack))
		if err != nil {
			fmt.Fprintf(e.Stdout, "%s -> ERROR: %v\n", node, err)
			continue
		}
		text := map[int16]string{}
		for _, k := range resp.ApiKeys {
			var sb strings.Builder
			name := apiName(k.ApiKey)
			if name == "UNKNOWN" {
				fmt.Fprintf(&sb, "UNKNOWN(%d): ", k.ApiKey)
			} else {
				fmt.Fprintf(&sb, "%s(%d): ", name, k.ApiKey)
			}
			if k.MinVersion == k.MaxVersion {
				fmt.Fprintf(&sb, "%d", k.MinVersion)
			} else {
				fmt.Fprintf(&sb, "%d to %d", k.MinVersion, k.MaxVersion)
			}
			if req := kmsg.RequestForKey(k.ApiKey); req != nil {
				latest := req.MaxVersion()
				switch {
				case latest < k.MinVersion:
					sb.WriteString(" [unusable: node too new]")
				default:
					fmt.Fprintf(&sb, " [usable: %d]", min(latest, k.MaxVersion))
				}
			}
			text[k.ApiKey] = sb.String()
		}
		for key := int16(0); int(key) < len(apiNames); key++ {
			if _, ok := text[key]; !ok && zkBrokerAPI(key) {
				text[key] = fmt.Sprintf("%s(%d): UNSUPPORTED", apiName(key), key)
			}
		}
		keys := make([]int, 0, len(text))
		for k := range text {
			keys = append(keys, int(k))
		}
		sort.Ints(keys)
		lines := make([]string, len(keys))
		for i, k := range keys {
			lines[i] = text[int16(k)]
		}
		fmt.Fprintf(e.Stdout, "%s -> (\n\t%s\n)\n", node, strings.Join(lines, ",\n\t"))
	}
	return nil
}
