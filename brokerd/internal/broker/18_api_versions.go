package broker

// ApiVersions (key 18), versions 0-3.
//
// The key list is the broker's registry (built from the dispatch table in
// broker.go), so only keys with a handler are advertised. A version above
// 3 is answered in conn.handle with a v0 body carrying UNSUPPORTED_VERSION
// and the same list (KIP-511), so newer clients can downgrade.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var apiVersionsAPI = api{key: 18, min: 0, max: 3, handle: handleAPIVersions}

func handleAPIVersions(b *Broker, _ *conn, _ kafka.RequestHeader, _ kmsg.Request) (kmsg.Response, error) {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ApiKeys = b.registry.APIKeys()
	return resp, nil
}
