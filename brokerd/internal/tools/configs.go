package tools

// kafka-configs.sh (Kafka 2.8's ConfigCommand) for topics and brokers:
// --describe [--all] and --alter --add-config/--delete-config, through
// DescribeConfigs/IncrementalAlterConfigs (--bootstrap-server) or the
// /config znodes and a /config/changes notification (--zookeeper).

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafkazk"
)

var _ = register(&Tool{
	Name:    "configs",
	Summary: "This tool helps to manipulate and describe entity config for a topic, client, user or broker",
	Opts: []Opt{
		optBootstrap, optZookeeper, optCmdConfig,
		{Name: "describe", Help: "List configs for the given entity."},
		{Name: "alter", Help: "Alter the configuration for the entity."},
		{Name: "entity-type", Arg: "String", Help: "Type of entity (topics/brokers)"},
		{Name: "entity-name", Arg: "String", Help: "Name of entity (topic name/broker id)"},
		{Name: "entity-default", Help: "Default entity name for brokers (applies to corresponding entity type in command line)"},
		{Name: "topic", Arg: "String", Help: "The topic's name."},
		{Name: "broker", Arg: "String", Help: "The broker's ID."},
		{Name: "broker-defaults", Help: "The config defaults for all brokers."},
		{Name: "add-config", Arg: "String", Help: "Key Value pairs of configs to add. Square brackets can be used to group values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'."},
		{Name: "delete-config", Arg: "String", Help: "config keys to remove 'k1,k2'"},
		{Name: "all", Help: "List all configs for the given topic or broker, including the defaults."},
		{Name: "force", Help: "Suppress console prompts"},
	},
	Run: runConfigs,
})

// configEntity is what --entity-type/--entity-name or their shortcuts name.
type configEntity struct {
	typ  string // topics, brokers
	name string // "" = the broker default (--entity-default)
	all  bool   // no name given: every entity of the type
}

func parseEntity(p *Parsed) (configEntity, error) {
	var e configEntity
	switch {
	case p.Has("topic"):
		e = configEntity{typ: "topics", name: p.String("topic")}
	case p.Has("broker"):
		e = configEntity{typ: "brokers", name: p.String("broker")}
	case p.Has("broker-defaults"):
		e = configEntity{typ: "brokers"}
	case p.Has("entity-type"):
		e.typ = p.String("entity-type")
		switch {
		case p.Has("entity-name"):
			e.name = p.String("entity-name")
		case p.Has("entity-default"):
		default:
			e.all = true
		}
	default:
		return e, usagef("an entity-type (--entity-type, --topic or --broker) must be specified")
	}
	if e.typ != "topics" && e.typ != "brokers" {
		return e, usagef("--entity-type %s: brokerd's kafka-configs handles topics and brokers", e.typ)
	}
	if e.typ == "topics" && e.name == "" && !e.all {
		return e, usagef("--entity-default is for brokers, not topics")
	}
	if e.typ == "brokers" && e.name != "" {
		if _, err := strconv.ParseInt(e.name, 10, 32); err != nil {
			return e, usagef("The entity name for brokers must be a valid integer broker id, found: %s", e.name)
		}
	}
	return e, nil
}

// parseAddConfig reads 'k1=v1,k2=[v1,v2],k3=v3'.
func parseAddConfig(s string) (map[string]string, error) {
	out := map[string]string{}
	for len(s) > 0 {
		i, depth := 0, 0
		for ; i < len(s); i++ {
			if s[i] == '[' {
				depth++
			} else if s[i] == ']' {
				depth--
			} else if s[i] == ',' && depth == 0 {
				break
			}
		}
		kv := s[:i]
		if i < len(s) {
			s = s[i+1:]
		} else {
			s = ""
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--add-config %q: the format is k1=v1,k2=[v1,v2],k3=v3", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "["), "]")
	}
	return out, nil
}

func runConfigs(e *Env, p *Parsed) error {
	if p.Has("describe") == p.Has("alter") {
		return usagef("Command must include exactly one action: --describe, --alter")
	}
	if p.Has("bootstrap-server") == p.Has("zookeeper") {
		return usagef("Only one of --bootstrap-server or --zookeeper must be specified")
	}
	ent, err := parseEntity(p)
	if err != nil {
		return err
	}
	add := map[string]string{}
	if p.Has("add-config") {
		if add, err = parseAddConfig(p.String("add-config")); err != nil {
			return err
		}
	}
	var del []string
	for _, k := range strings.Split(p.String("delete-config"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			del = append(del, k)
		}
	}
	if p.Has("alter") {
		if len(add) == 0 && len(del) == 0 {
			return usagef("At least one of --add-config or --delete-config must be specified with --alter")
		}
		if ent.all {
			return usagef("an entity name must be specified with --alter")
		}
		if ent.typ == "topics" {
			for k := range add {
				if !topicConfigNames[k] {
					return fmt.Errorf("Unknown topic config name: %s", k)
				}
			}
		}
	}
	if p.Has("zookeeper") {
		z, err := e.zookeeper(p.String("zookeeper"))
		if err != nil {
			return err
		}
		if p.Has("describe") {
			return zkDescribeConfigs(e, z, ent)
		}
		return zkAlterConfigs(e, z, ent, add, del)
	}
	if _, err := loadProps(p.String("command-config")); err != nil {
		return err
	}
	if _, _, err := e.kafka(p.String("bootstrap-server")); err != nil {
		return err
	}
	if p.Has("describe") {
		return describeConfigs(e, ent, p.Has("all"))
	}
	return alterConfigs(e, ent, add, del)
}

func resourceType(typ string) kmsg.ConfigResourceType {
	if typ == "topics" {
		return kmsg.ConfigResourceTypeTopic
	}
	return kmsg.ConfigResourceTypeBroker
}

func describeConfigs(e *Env, ent configEntity, all bool) error {
	ctx, cancel := e.op()
	defer cancel()
	names := []string{ent.name}
	if ent.all {
		md, err := e.admin.Metadata(ctx)
		if err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		names = nil
		if ent.typ == "topics" {
			names = md.Topics.Names()
			sort.Strings(names)
		} else {
			for _, b := range md.Brokers {
				names = append(names, strconv.Itoa(int(b.NodeID)))
			}
			sort.Strings(names)
			names = append(names, "")
		}
	}
	for _, name := range names {
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.IncludeSynonyms = true
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName = resourceType(ent.typ), name
		req.Resources = append(req.Resources, r)
		var resp *kmsg.DescribeConfigsResponse
		var err error
		if ent.typ == "brokers" && name != "" {
			id, _ := strconv.ParseInt(name, 10, 32)
			resp, err = req.RequestWith(ctx, e.cl.Broker(int(id)))
		} else {
			resp, err = req.RequestWith(ctx, e.cl)
		}
		if err != nil {
			return fmt.Errorf("describe configs of %s %s: %w", strings.TrimSuffix(ent.typ, "s"), name, err)
		}
		for _, res := range resp.Resources {
			if err := respErr(res.ErrorCode, res.ErrorMessage); err != nil {
				return err
			}
			switch {
			case ent.typ == "brokers" && name == "":
				fmt.Fprintln(e.Stdout, "Default configs for brokers in the cluster are:")
			case all:
				fmt.Fprintf(e.Stdout, "All configs for %s %s are:\n", strings.TrimSuffix(ent.typ, "s"), name)
			default:
				fmt.Fprintf(e.Stdout, "Dynamic configs for %s %s are:\n", strings.TrimSuffix(ent.typ, "s"), name)
			}
			want := kmsg.ConfigSourceDynamicTopicConfig
			if ent.typ == "brokers" {
				want = kmsg.ConfigSourceDynamicBrokerConfig
				if name == "" {
					want = kmsg.ConfigSourceDynamicDefaultBrokerConfig
				}
			}
			cfgs := res.Configs
			sort.Slice(cfgs, func(i, j int) bool { return cfgs[i].Name < cfgs[j].Name })
			for _, c := range cfgs {
				if !all && c.Source != want {
					continue
				}
				var syn []string
				for _, s := range c.ConfigSynonyms {
					syn = append(syn, fmt.Sprintf("%s:%s=%s", s.Source, s.Name, strOrNull(s.Value)))
				}
				fmt.Fprintf(e.Stdout, "  %s=%s sensitive=%t synonyms={%s}\n", c.Name, strOrNull(c.Value), c.IsSensitive, strings.Join(syn, ", "))
			}
		}
	}
	return nil
}

func strOrNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func alterConfigs(e *Env, ent configEntity, add map[string]string, del []string) error {
	if err := incrementalAlter(e, ent, add, del, false); err != nil {
		if errors.Is(err, kerr.UnsupportedVersion) || strings.Contains(err.Error(), "not support") {
			return fmt.Errorf("the brokers do not support IncrementalAlterConfigs; use --zookeeper to alter configs")
		}
		return err
	}
	if ent.typ == "brokers" && ent.name == "" {
		fmt.Fprintln(e.Stdout, "Completed updating default config for brokers in the cluster.")
	} else {
		fmt.Fprintf(e.Stdout, "Completed updating config for %s %s.\n", strings.TrimSuffix(ent.typ, "s"), ent.name)
	}
	return nil
}

// incrementalAlter sets and deletes configs of one topic or broker with
// IncrementalAlterConfigs (a broker's own configs go to that broker).
// lenient ignores INVALID_CONFIG, which deleting an unset key may answer.
func incrementalAlter(e *Env, ent configEntity, set map[string]string, del []string, lenient bool) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = resourceType(ent.typ), ent.name
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op, c.Value = k, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(set[k])
		r.Configs = append(r.Configs, c)
	}
	for _, k := range del {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op = k, kmsg.IncrementalAlterConfigOpDelete
		r.Configs = append(r.Configs, c)
	}
	req.Resources = append(req.Resources, r)
	ctx, cancel := e.op()
	defer cancel()
	var resp *kmsg.IncrementalAlterConfigsResponse
	var err error
	if ent.typ == "brokers" && ent.name != "" {
		id, _ := strconv.Atoi(ent.name)
		resp, err = req.RequestWith(ctx, e.cl.Broker(id))
	} else {
		resp, err = req.RequestWith(ctx, e.cl)
	}
	if err != nil {
		return fmt.Errorf("alter configs of %s %s: %w", strings.TrimSuffix(ent.typ, "s"), ent.name, err)
	}
	for _, res := range resp.Resources {
		if err := respErr(res.ErrorCode, res.ErrorMessage); err != nil && !(lenient && errors.Is(err, kerr.InvalidConfig)) {
			return err
		}
	}
	return nil
}

// zkEntity is the /config/<type>/<name> znode name of an entity.
func zkEntity(ent configEntity) string {
	if ent.name == "" {
		return "<default>"
	}
	return ent.name
}

func zkEntityString(ent configEntity, name string) string {
	typ := ent.typ
	if typ == "topics" {
		typ = "topic"
	}
	if name == "<default>" {
		return "default " + typ
	}
	return fmt.Sprintf("%s '%s'", typ, name)
}

func zkDescribeConfigs(e *Env, z *zkClient, ent configEntity) error {
	names := []string{zkEntity(ent)}
	if ent.all {
		// Every topic (one without a config znode has no overrides); the
		// brokers with a config znode.
		list := "/config/brokers"
		if ent.typ == "topics" {
			list = kafkazk.BrokerTopicsPath
		}
		var err error
		if names, err = z.children(list); err != nil {
			return err
		}
	}
	for _, n := range names {
		cfg := map[string]string{}
		if b, ok, err := z.get("/config/" + ent.typ + "/" + n); err != nil {
			return err
		} else if ok {
			if cfg, err = kafkazk.DecodeTopicConfig(n, b); err != nil {
				return err
			}
		}
		keys := make([]string, 0, len(cfg))
		for k := range cfg {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kv := make([]string, len(keys))
		for i, k := range keys {
			kv[i] = k + "=" + cfg[k]
		}
		fmt.Fprintf(e.Stdout, "Configs for %s are %s\n", zkEntityString(ent, n), strings.Join(kv, ","))
	}
	return nil
}

func zkAlterConfigs(e *Env, z *zkClient, ent configEntity, add map[string]string, del []string) error {
	n := zkEntity(ent)
	if ent.typ == "topics" {
		if _, ok, err := z.get(kafkazk.TopicPath(n)); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("Topic '%s' does not exist", n)
		}
	}
	if err := zkUpdateConfig(z, ent, add, del, true); err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "Completed updating config for entity: %s.\n", zkEntityString(ent, n))
	return nil
}

// zkUpdateConfig rewrites /config/<type>/<name> with the changes and
// notifies the brokers through /config/changes, as AdminZkClient does.
// strict fails on deleting a key that is not set.
func zkUpdateConfig(z *zkClient, ent configEntity, set map[string]string, del []string, strict bool) error {
	n := zkEntity(ent)
	path := "/config/" + ent.typ + "/" + n
	cfg := map[string]string{}
	if b, ok, err := z.get(path); err != nil {
		return err
	} else if ok {
		if cfg, err = kafkazk.DecodeTopicConfig(n, b); err != nil {
			return err
		}
	}
	changed := false
	for _, k := range del {
		if _, ok := cfg[k]; !ok {
			if strict {
				return fmt.Errorf("Invalid Config: Config %s cannot be deleted as it is not set for %s", k, zkEntityString(ent, n))
			}
			continue
		}
		delete(cfg, k)
		changed = true
	}
	for k, v := range set {
		cfg[k] = v
		changed = true
	}
	if !changed && !strict {
		return nil
	}
	if err := z.set(path, kafkazk.EncodeTopicConfig(cfg)); err != nil {
		return err
	}
	return z.notifyConfigChange(ent.typ + "/" + n)
}
