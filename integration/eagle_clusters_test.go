package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Several clusters in one eagle (efak.zk.cluster.alias=a,b): two brokerd
// clusters under two chroots of one zkd, each page answering per cluster,
// /readyz waiting for both, an unknown alias a 404 naming the key.
func TestEagleSeveralClusters(t *testing.T) {
	zks := StartServer(t, kindZkd, ServerOptions{})
	startBrokerd(t, 1, zks.Addr()+"/east")
	startBrokerd(t, 7, zks.Addr()+"/west")
	e := startEagle(t, fmt.Sprintf("efak.zk.cluster.alias=east,west\neast.zk.list=%s/east\nwest.zk.list=%s/west\neagle.collect.interval=1s\neagle.admin.password=multi-pass\n", zks.Addr(), zks.Addr()))
	eventually(t, 30*time.Second, "readyz for both clusters", func() string {
		resp, err := http.Get(e.URL + "/readyz")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return resp.Status
		}
		return ""
	})
	s := eagleLogin(t, e.URL, "admin", "multi-pass")
	var br struct{ Brokers []struct{ ID int32 } }
	require.Equal(t, 200, getJSON(t, s, "/brokers?cluster=east", &br))
	require.Len(t, br.Brokers, 1)
	assert.EqualValues(t, 1, br.Brokers[0].ID)
	require.Equal(t, 200, getJSON(t, s, "/brokers?cluster=west", &br))
	require.Len(t, br.Brokers, 1)
	assert.EqualValues(t, 7, br.Brokers[0].ID)
	code, body, _ := s.get("/?cluster=west")
	require.Equal(t, 200, code)
	assert.Contains(t, body, "Cluster west")
	assert.Contains(t, body, `<option selected>west</option>`, "the cluster selector")
	code, body, _ = s.get("/topics?cluster=north&format=json")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, body, "efak.zk.cluster.alias")
}
