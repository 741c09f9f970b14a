package broker

// IncrementalAlterConfigs (key 44), versions 0-1 (v1 flexible).
//
// Like AlterConfigs (33_alter_configs.go, same resources, checks, znodes and
// notifications) but each entry is an operation on the stored config:
// SET (0) a value, DELETE (1) a key (back to the broker's value or Kafka's
// default), APPEND (2) / SUBTRACT (3) elements of a list config
// (cleanup.policy, the throttled replica lists, metric.reporters), starting
// from the default when the key is not set; APPEND or SUBTRACT on a
// non-list key is INVALID_REQUEST, as in Kafka.

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var incrementalAlterConfigsAPI = api{key: 44, min: 0, max: 1, handle: handleIncrementalAlterConfigs}

func handleIncrementalAlterConfigs(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.IncrementalAlterConfigsRequest)
	resp := kmsg.NewPtrIncrementalAlterConfigsResponse()
	for _, res := range req.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		ops := res.Configs
		isTopic := res.ResourceType == kmsg.ConfigResourceTypeTopic
		err := b.alterConfig(res.ResourceType, res.ResourceName, req.ValidateOnly, func(cur map[string]string) (map[string]string, *configError) {
			next := make(map[string]string, len(cur))
			for k, v := range cur {
				next[k] = v
			}
			for _, op := range ops {
				val := ""
				if op.Value != nil {
					val = *op.Value
				}
				switch op.Op {
				case kmsg.IncrementalAlterConfigOpSet:
					next[op.Name] = val
				case kmsg.IncrementalAlterConfigOpDelete:
					delete(next, op.Name)
				case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
					kind, def, known := configKindOf(isTopic, op.Name)
					if !known || kind != kindList {
						verb := "append"
						if op.Op == kmsg.IncrementalAlterConfigOpSubtract {
							verb = "subtract"
						}
						return nil, &configError{kerr.InvalidRequest.Code, fmt.Sprintf("Config value %s is not allowed for config key: %s", verb, op.Name)}
					}
					old, ok := next[op.Name]
					if !ok {
						old = def
					}
					next[op.Name] = editList(old, val, op.Op == kmsg.IncrementalAlterConfigOpAppend)
				default:
					return nil, &configError{kerr.InvalidRequest.Code, fmt.Sprintf("unknown config operation %d for %s", op.Op, op.Name)}
				}
			}
			return next, nil
		})
		if err != nil {
			rr.ErrorCode, rr.ErrorMessage = err.code, &err.msg
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

// configKindOf is a key's kind and default for a topic or broker resource.
func configKindOf(topic bool, name string) (configKind, string, bool) {
	if topic {
		d, ok := topicConfigDefs[name]
		return d.kind, d.def, ok
	}
	d, ok := dynamicBrokerConfigs[name]
	return d.kind, d.def, ok
}

// editList appends the elements of add not in list, or removes them.
func editList(list, elems string, add bool) string {
	var out []string
	has := map[string]bool{}
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
			has[e] = true
		}
	}
	for _, e := range strings.Split(elems, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if add && !has[e] {
			out = append(out, e)
			has[e] = true
		}
		if !add && has[e] {
			for i, x := range out {
				if x == e {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			delete(has, e)
		}
	}
	return strings.Join(out, ",")
}
