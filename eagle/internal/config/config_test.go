package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sample file shipped in deploy/conf parses with EFAK's keys.
func TestShippedSample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "..", "deploy", "conf", "system-config.properties"))
	require.NoError(t, err)
	require.Len(t, c.Clusters, 1)
	assert.Equal(t, "cluster1", c.Clusters[0].Alias)
	assert.Equal(t, 8048, c.WebPort)
	assert.Equal(t, 15, c.RetainDays)
	assert.Equal(t, "db/ke.db", c.DBPath)
	assert.Equal(t, "keadmin", c.TopicToken)
	assert.Equal(t, "SCRAM-SHA-256", c.Clusters[0].SASL["mechanism"])
	assert.Contains(t, c.Clusters[0].SASL["jaas.config"], "ScramLoginModule")
	assert.False(t, c.Clusters[0].SASLEnabled)
	assert.Empty(t, c.Unknown)
	assert.Contains(t, c.Ignored, "efak.driver")
}

func TestParse(t *testing.T) {
	c, err := Parse("s.properties", `
efak.zk.cluster.alias=cluster1, cluster2
cluster1.zk.list=zk1:2181,zk2:2182/kafka/prod
cluster2.zk.list=zk3
efak.metrics.charts=false
efak.metrics.retain=7
efak.url=jdbc:sqlite:/data/ke.db
efak.topic.token=secret
cluster2.efak.ssl.enable=true
cluster2.efak.ssl.truststore.location=/x
cluster1.efak.jmx.uri=service:jmx:rmi:///jndi/rmi://%s/jmxrmi
eagle.collect.interval=10s
efak.webui.prot=9000
`)
	require.NoError(t, err)
	require.Len(t, c.Clusters, 2)
	assert.Equal(t, []string{"zk1:2181", "zk2:2182"}, c.Clusters[0].ZkServers)
	assert.Equal(t, "/kafka/prod", c.Clusters[0].Chroot)
	assert.Equal(t, []string{"zk3:2181"}, c.Clusters[1].ZkServers)
	assert.Equal(t, "", c.Clusters[1].Chroot)
	assert.False(t, c.MetricsCharts)
	assert.Equal(t, 7, c.RetainDays)
	assert.Equal(t, "/data/ke.db", c.DBFile("/wd"))
	assert.Equal(t, "secret", c.TopicToken)
	assert.True(t, c.Clusters[1].SSLEnabled)
	assert.Equal(t, "/x", c.Clusters[1].SSL["truststore.location"])
	assert.Equal(t, 10*time.Second, c.Interval)
	assert.Equal(t, []string{"efak.webui.prot"}, c.Unknown)
	assert.Equal(t, []string{"cluster1.efak.jmx.uri"}, c.Ignored)
	assert.Equal(t, 8048, c.WebPort)
	assert.Equal(t, ":8048", c.WebAddr())
}

// Every bad value names the file and the key.
func TestErrorsNameFileAndKey(t *testing.T) {
	cases := map[string]string{
		"":                         "efak.zk.cluster.alias",
		"efak.zk.cluster.alias=c1": "c1.zk.list",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:x":                               "c1.zk.list",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:1\nefak.webui.port=70000":        "efak.webui.port",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:1\nefak.metrics.retain=0":        "efak.metrics.retain",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:1\nefak.metrics.charts=yes":      "efak.metrics.charts",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:1\nefak.url=jdbc:mysql://h/ke":   "efak.url",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:1\neagle.collect.interval=fast":  "eagle.collect.interval",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:1\neagle.admin.password=short":   "eagle.admin.password",
		"efak.zk.cluster.alias=c1\nc1.zk.list=h:1\neagle.alert.smtp.server=h:25": "eagle.alert.smtp",
	}
	for text, key := range cases {
		_, err := Parse("/etc/ke/system-config.properties", text)
		require.Error(t, err, text)
		assert.ErrorIs(t, err, ErrConfig)
		assert.Contains(t, err.Error(), "/etc/ke/system-config.properties", text)
		assert.Contains(t, err.Error(), key, text)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.properties"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "nope.properties")
}
