package kafka

import (
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// VersionRange is the versions of one API key a broker serves.
type VersionRange struct {
	Key int16
	Min int16
	Max int16
}

// Registry records the API keys and versions served. The broker's
// ApiVersions response is built from it, so what is advertised is exactly
// what has a handler.
type Registry struct {
	ranges map[int16]VersionRange
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{ranges: map[int16]VersionRange{}} }

// Add registers a key's version range. It refuses a key registered twice,
// an empty range, or versions kmsg cannot encode.
func (r *Registry) Add(v VersionRange) error {
	req := kmsg.RequestForKey(v.Key)
	switch {
	case req == nil:
		return fmt.Errorf("kafka: registry: unknown api key %d", v.Key)
	case v.Min < 0 || v.Min > v.Max:
		return fmt.Errorf("kafka: registry: key %d (%s) has versions %d-%d", v.Key, kmsg.NameForKey(v.Key), v.Min, v.Max)
	case v.Max > req.MaxVersion():
		return fmt.Errorf("kafka: registry: key %d (%s) max version %d is above kmsg's %d", v.Key, kmsg.NameForKey(v.Key), v.Max, req.MaxVersion())
	}
	if _, dup := r.ranges[v.Key]; dup {
		return fmt.Errorf("kafka: registry: key %d (%s) registered twice", v.Key, kmsg.NameForKey(v.Key))
	}
	r.ranges[v.Key] = v
	return nil
}

// Lookup returns a key's range.
func (r *Registry) Lookup(key int16) (VersionRange, bool) {
	v, ok := r.ranges[key]
	return v, ok
}

// Supports says whether key at version is served.
func (r *Registry) Supports(key, version int16) bool {
	v, ok := r.ranges[key]
	return ok && version >= v.Min && version <= v.Max
}

// Ranges lists the registered ranges by key.
func (r *Registry) Ranges() []VersionRange {
	out := make([]VersionRange, 0, len(r.ranges))
	for _, v := range r.ranges {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// APIKeys returns the ranges in ApiVersionsResponse form.
func (r *Registry) APIKeys() []kmsg.ApiVersionsResponseApiKey {
	var out []kmsg.ApiVersionsResponseApiKey
	for _, v := range r.Ranges() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = v.Key, v.Min, v.Max
		out = append(out, k)
	}
	return out
}
