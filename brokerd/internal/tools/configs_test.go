package tools

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// kafka-configs: describe through the admin API and ZooKeeper, alter
// through ZooKeeper (and through the admin API when the brokers serve
// IncrementalAlterConfigs).
func TestConfigsGolden(t *testing.T) {
	c := startCluster(t, 1, nil)
	bs, zk := c.bootstrap(), c.connect
	ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--topic", "cfg", "--partitions", "1", "--replication-factor", "1", "--config", "retention.ms=3600000")

	// The synonyms are what the broker reports (v1+ IncludeSynonyms): the
	// topic override first, then the broker levels, if it lists them.
	synonyms := func(key, value string) string {
		return `synonyms=\{(DYNAMIC_TOPIC_CONFIG:` + regexp.QuoteMeta(key+"="+value) + `(, [A-Z_]+:[a-z.]+=[^,}]*)*)?\}`
	}
	r := ok(t, "", "configs", "--bootstrap-server", bs, "--describe", "--entity-type", "topics", "--entity-name", "cfg")
	require.Regexp(t, `^Dynamic configs for topic cfg are:\n  retention\.ms=3600000 sensitive=false `+synonyms("retention.ms", "3600000")+`\n$`, r.stdout)
	r = ok(t, "", "configs", "--bootstrap-server", bs, "--describe", "--topic", "cfg", "--all")
	require.True(t, strings.HasPrefix(r.stdout, "All configs for topic cfg are:\n"), r.stdout)
	require.Regexp(t, `\n  retention\.ms=3600000 sensitive=false `+synonyms("retention.ms", "3600000")+`\n`, r.stdout)
	require.Regexp(t, `\n  segment\.bytes=\d+ sensitive=false synonyms=\{`, r.stdout)
	r = ok(t, "", "configs", "--bootstrap-server", bs, "--describe", "--entity-type", "brokers", "--entity-name", "1")
	require.Equal(t, "Dynamic configs for broker 1 are:\n", r.stdout)

	r = ok(t, "", "configs", "--zookeeper", zk, "--alter", "--entity-type", "topics", "--entity-name", "cfg", "--add-config", "retention.ms=1000,cleanup.policy=[delete,compact]", "--delete-config", "")
	require.Equal(t, "Completed updating config for entity: topic 'cfg'.\n", r.stdout)
	r = ok(t, "", "configs", "--zookeeper", zk, "--describe", "--entity-type", "topics", "--entity-name", "cfg")
	require.Equal(t, "Configs for topic 'cfg' are cleanup.policy=delete,compact,retention.ms=1000\n", r.stdout)
	// The broker picks the change up from ZooKeeper.
	eventually(t, "the broker to apply retention.ms=1000", func() bool {
		return strings.Contains(run(t, "", "configs", "--bootstrap-server", bs, "--describe", "--topic", "cfg").stdout, "  retention.ms=1000 ")
	})
	r = ok(t, "", "configs", "--zookeeper", zk, "--alter", "--topic", "cfg", "--delete-config", "cleanup.policy")
	require.Equal(t, "Completed updating config for entity: topic 'cfg'.\n", r.stdout)

	r = run(t, "", "configs", "--zookeeper", zk, "--alter", "--topic", "cfg", "--add-config", "bogus.key=1")
	require.Equal(t, 1, r.code)
	require.Equal(t, "Error: Unknown topic config name: bogus.key\n", r.stderr)

	// Broker configs through ZooKeeper: /config/brokers/<id> and <default>.
	r = ok(t, "", "configs", "--zookeeper", zk, "--alter", "--entity-type", "brokers", "--entity-name", "1", "--add-config", "log.cleaner.threads=2")
	require.Equal(t, "Completed updating config for entity: brokers '1'.\n", r.stdout)
	r = ok(t, "", "configs", "--zookeeper", zk, "--alter", "--broker-defaults", "--add-config", "log.retention.bytes=1000000")
	require.Equal(t, "Completed updating config for entity: default brokers.\n", r.stdout)
	r = ok(t, "", "configs", "--zookeeper", zk, "--describe", "--entity-type", "brokers")
	require.Equal(t, "Configs for brokers '1' are log.cleaner.threads=2\nConfigs for default brokers are log.retention.bytes=1000000\n", r.stdout)
	conn, chroot := c.zk()
	b, _, err := conn.Get(chroot + "/config/brokers/<default>")
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"config":{"log.retention.bytes":"1000000"}}`, string(b))
	changes, _, err := conn.Children(chroot + "/config/changes")
	require.NoError(t, err)
	var brokerChanges []string
	for _, ch := range changes {
		b, _, err := conn.Get(chroot + "/config/changes/" + ch)
		require.NoError(t, err)
		if strings.Contains(string(b), `"entity_path":"brokers/`) {
			brokerChanges = append(brokerChanges, string(b))
		}
	}
	require.ElementsMatch(t, []string{`{"version":2,"entity_path":"brokers/1"}`, `{"version":2,"entity_path":"brokers/<default>"}`}, brokerChanges)
	r = run(t, "", "configs", "--zookeeper", zk, "--alter", "--broker", "1", "--delete-config", "num.io.threads")
	require.Equal(t, 1, r.code)
	require.Equal(t, "Error: Invalid Config: Config num.io.threads cannot be deleted as it is not set for brokers '1'\n", r.stderr)

	if !serves(t, bs, 44) {
		t.Log("the broker does not serve IncrementalAlterConfigs (44): --alter --bootstrap-server not exercised")
		return
	}
	r = ok(t, "", "configs", "--bootstrap-server", bs, "--alter", "--topic", "cfg", "--add-config", "retention.ms=7200000")
	require.Equal(t, "Completed updating config for topic cfg.\n", r.stdout)
	r = ok(t, "", "configs", "--bootstrap-server", bs, "--describe", "--topic", "cfg")
	require.Regexp(t, `^Dynamic configs for topic cfg are:\n  retention\.ms=7200000 sensitive=false `+synonyms("retention.ms", "7200000")+`\n$`, r.stdout)
	r = ok(t, "", "configs", "--bootstrap-server", bs, "--alter", "--topic", "cfg", "--delete-config", "retention.ms")
	require.Equal(t, "Completed updating config for topic cfg.\n", r.stdout)
	r = ok(t, "", "configs", "--zookeeper", zk, "--describe", "--topic", "cfg")
	require.Equal(t, "Configs for topic 'cfg' are \n", r.stdout)
}

// serves reports whether the broker answers ApiVersions with the key.
func serves(t *testing.T, bs string, key int16) bool {
	r := ok(t, "", "broker-api-versions", "--bootstrap-server", bs)
	return !strings.Contains(r.stdout, fmt.Sprintf("(%d): UNSUPPORTED", key))
}
