// Package config reads eagle's system-config.properties: EFAK's own keys
// (Kafka Eagle 2.x / 3.x), so an EFAK configuration file works unchanged.
//
//	efak.zk.cluster.alias=cluster1,cluster2      clusters, in display order
//	cluster1.zk.list=zk1:2181,zk2:2181/kafka     ZooKeeper connect string, chroot allowed
//	efak.webui.port=8048
//	efak.metrics.charts=true                     false: no history charts, no samples kept
//	efak.metrics.retain=15                       days of history
//	efak.url=jdbc:sqlite:/data/efak/db/ke.db     the embedded store file
//	efak.topic.token=keadmin                     typed to confirm a topic deletion
//	cluster1.efak.sasl.* / cluster1.efak.ssl.*   kept and shown; not used until brokerd has them
//
// Keys EFAK has that eagle has no use for (JMX, MySQL driver, distributed
// mode) are accepted and listed as ignored; keys nobody knows are reported
// as unknown (a typo is the usual cause). Eagle's own keys start with
// "eagle.".
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/magiconair/properties"
)

// ErrConfig is wrapped by every error Load and Validate return.
var ErrConfig = errors.New("config")

// Cluster is one efak.zk.cluster.alias entry.
type Cluster struct {
	Alias string
	// ZkList is <alias>.zk.list as written: host:port[,host:port][/chroot].
	ZkList string
	// ZkServers and Chroot are ZkList split ("" chroot: the root).
	ZkServers []string
	Chroot    string
	// SASL and SSL hold <alias>.efak.sasl.* and <alias>.efak.ssl.* (the
	// suffix after "sasl." / "ssl."). Kept and shown on the cluster page;
	// brokerd has no SASL or TLS listeners yet, so they are not used to
	// connect. SASLEnabled reports <alias>.efak.sasl.enable=true.
	SASL, SSL   map[string]string
	SASLEnabled bool
	SSLEnabled  bool
	// Listener is the listener name whose endpoint eagle connects to
	// (<alias>.efak.listener, eagle's own key; default PLAINTEXT).
	Listener string
}

// Config is the whole file after defaults.
type Config struct {
	Path     string // the file read, for error messages
	Clusters []Cluster
	// WebHost:WebPort is where the UI listens (efak.webui.port; eagle.webui.host,
	// default all interfaces).
	WebHost string
	WebPort int
	// MetricsCharts is efak.metrics.charts: keep history and draw charts.
	MetricsCharts bool
	// RetainDays is efak.metrics.retain.
	RetainDays int
	// DBPath is the file named by efak.url (jdbc:sqlite:<path>); relative
	// paths are under the working directory. Default ./ke.db.
	DBPath string
	// TopicToken is efak.topic.token, typed to confirm a topic deletion.
	TopicToken string
	// Interval is eagle.collect.interval (one collection pass per interval).
	Interval time.Duration
	// Concurrency bounds the requests in flight per pass (eagle.collect.concurrency).
	Concurrency int
	// AdminPassword is eagle.admin.password: the first admin password. When
	// empty one is generated and printed once; it must be changed at first login.
	AdminPassword string
	// AlertWebhook and SMTP settings: see package alert.
	AlertWebhook   string
	SMTPAddr       string
	SMTPFrom       string
	SMTPTo         []string
	AlertRepeat    time.Duration
	AlertGroupWarn time.Duration
	AlertTopicSize int64
	// Ignored lists EFAK keys accepted with no effect; Unknown keys nobody
	// knows. Both are reported at start.
	Ignored, Unknown []string
}

// Defaults.
const (
	DefaultWebPort     = 8048
	DefaultRetainDays  = 15
	DefaultDBPath      = "ke.db"
	DefaultTopicToken  = "keadmin"
	DefaultInterval    = 30 * time.Second
	DefaultConcurrency = 16
)

// EFAK keys that exist in EFAK's sample file and have no meaning here.
var efakIgnored = []string{
	"efak.driver", "efak.username", "efak.password", "efak.distributed.enable",
	"efak.cluster.mode.status", "efak.worknode.master.host", "efak.worknode.port",
	"efak.sql.topic.records.max", "efak.sql.topic.preview.records.max", "efak.sql.worknode.port",
	"efak.sql.distributed.enable", "efak.sql.worknode.rpc.timeout", "efak.sql.worknode.fetch.threshold",
	"efak.sql.worknode.fetch.timeout", "efak.sql.worknode.server.path", "efak.sql.fix.error",
	"kafka.eagle.webui.port", "kafka.zk.limit.size", "efak.ka.limit.size", "efak.mail.enable",
	"efak.console.enable",
}

// Per-cluster EFAK key suffixes ("<alias>.<suffix>") with no meaning here.
var clusterIgnored = []string{
	"zk.acl.enable", "zk.acl.schema", "zk.acl.username", "zk.acl.password",
	"efak.broker.size", "efak.offset.storage", "efak.jmx.uri", "efak.jmx.acl", "efak.jmx.user",
	"efak.jmx.password", "efak.jmx.ssl", "efak.jmx.truststore.location", "efak.jmx.truststore.password",
	"efak.blacklist.topics", "efak.sasl.cgroup.enable", "efak.sasl.cgroup.topics",
	"efak.ssl.cgroup.enable", "efak.ssl.cgroup.topics", "efak.zk.limit.size",
}

// Load reads and validates a file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	return Parse(path, string(data))
}

// Parse reads properties text (path is used in messages only).
func Parse(path, text string) (*Config, error) {
	p, err := properties.LoadString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	p.DisableExpansion = true
	kv := map[string]string{}
	for _, k := range p.Keys() {
		v, _ := p.Get(k)
		kv[k] = strings.TrimSpace(v)
	}
	c := &Config{
		Path: path, WebPort: DefaultWebPort, MetricsCharts: true, RetainDays: DefaultRetainDays,
		DBPath: DefaultDBPath, TopicToken: DefaultTopicToken, Interval: DefaultInterval,
		Concurrency: DefaultConcurrency, AlertRepeat: 30 * time.Minute, AlertGroupWarn: 5 * time.Minute,
	}
	used := map[string]bool{}
	get := func(k string) (string, bool) {
		v, ok := kv[k]
		if ok {
			used[k] = true
		}
		return v, ok
	}
	bad := func(k, v, want string) error {
		return fmt.Errorf("%w: %s: %s=%q: %s", ErrConfig, path, k, v, want)
	}
	intKey := func(k string, dst *int, min, max int) error {
		v, ok := get(k)
		if !ok {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return bad(k, v, fmt.Sprintf("want an integer from %d to %d", min, max))
		}
		*dst = n
		return nil
	}
	boolKey := func(k string, dst *bool) error {
		v, ok := get(k)
		if !ok {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad(k, v, "want true or false")
		}
		*dst = b
		return nil
	}
	durKey := func(k string, dst *time.Duration) error {
		v, ok := get(k)
		if !ok {
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return bad(k, v, "want a positive duration such as 30s or 5m")
		}
		*dst = d
		return nil
	}

	aliases, ok := get("efak.zk.cluster.alias")
	if !ok || aliases == "" {
		return nil, fmt.Errorf("%w: %s: efak.zk.cluster.alias is missing: name your clusters, e.g. efak.zk.cluster.alias=cluster1 and cluster1.zk.list=127.0.0.1:2181", ErrConfig, path)
	}
	seen := map[string]bool{}
	for _, a := range strings.Split(aliases, ",") {
		a = strings.TrimSpace(a)
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		cl := Cluster{Alias: a, SASL: map[string]string{}, SSL: map[string]string{}, Listener: "PLAINTEXT"}
		list, ok := get(a + ".zk.list")
		if !ok || list == "" {
			return nil, fmt.Errorf("%w: %s: %s.zk.list is missing: cluster %q needs its ZooKeeper connect string (host:port[,host:port][/chroot])", ErrConfig, path, a, a)
		}
		cl.ZkList = list
		servers, chroot, err := SplitZkList(list)
		if err != nil {
			return nil, bad(a+".zk.list", list, err.Error())
		}
		cl.ZkServers, cl.Chroot = servers, chroot
		for k, v := range kv {
			if s, ok := strings.CutPrefix(k, a+".efak.sasl."); ok {
				used[k] = true
				cl.SASL[s] = v
			} else if s, ok := strings.CutPrefix(k, a+".efak.ssl."); ok {
				used[k] = true
				cl.SSL[s] = v
			}
		}
		cl.SASLEnabled = cl.SASL["enable"] == "true"
		cl.SSLEnabled = cl.SSL["enable"] == "true"
		if v, ok := get(a + ".efak.listener"); ok && v != "" {
			cl.Listener = v
		}
		for _, s := range clusterIgnored {
			if _, ok := kv[a+"."+s]; ok {
				used[a+"."+s] = true
				c.Ignored = append(c.Ignored, a+"."+s)
			}
		}
		c.Clusters = append(c.Clusters, cl)
	}
	for _, err := range []error{
		intKey("efak.webui.port", &c.WebPort, 0, 65535),
		boolKey("efak.metrics.charts", &c.MetricsCharts),
		intKey("efak.metrics.retain", &c.RetainDays, 1, 3650),
		durKey("eagle.collect.interval", &c.Interval),
		intKey("eagle.collect.concurrency", &c.Concurrency, 1, 1024),
		durKey("eagle.alert.repeat", &c.AlertRepeat),
		durKey("eagle.alert.group.warn", &c.AlertGroupWarn),
	} {
		if err != nil {
			return nil, err
		}
	}
	if v, ok := get("eagle.webui.host"); ok {
		c.WebHost = v
	}
	if v, ok := get("efak.url"); ok && v != "" {
		p, ok := strings.CutPrefix(v, "jdbc:sqlite:")
		if !ok || p == "" {
			return nil, bad("efak.url", v, "eagle keeps its store in SQLite: want jdbc:sqlite:/path/to/ke.db (a MySQL url is not supported)")
		}
		c.DBPath = p
	}
	if v, ok := get("efak.topic.token"); ok && v != "" {
		c.TopicToken = v
	}
	if v, ok := get("eagle.admin.password"); ok {
		c.AdminPassword = v
	}
	if v, ok := get("eagle.alert.webhook"); ok {
		c.AlertWebhook = v
	}
	if v, ok := get("eagle.alert.smtp.server"); ok {
		c.SMTPAddr = v
	}
	if v, ok := get("eagle.alert.smtp.from"); ok {
		c.SMTPFrom = v
	}
	if v, ok := get("eagle.alert.smtp.to"); ok && v != "" {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.SMTPTo = append(c.SMTPTo, s)
			}
		}
	}
	if v, ok := get("eagle.alert.topic.size.bytes"); ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, bad("eagle.alert.topic.size.bytes", v, "want a byte count (0: no topic size alert)")
		}
		c.AlertTopicSize = n
	}
	for _, k := range efakIgnored {
		if _, ok := kv[k]; ok {
			used[k] = true
			c.Ignored = append(c.Ignored, k)
		}
	}
	for k := range kv {
		if !used[k] {
			c.Unknown = append(c.Unknown, k)
		}
	}
	sort.Strings(c.Ignored)
	sort.Strings(c.Unknown)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks what the parser could not check key by key.
func (c *Config) Validate() error {
	if len(c.Clusters) == 0 {
		return fmt.Errorf("%w: %s: efak.zk.cluster.alias names no cluster", ErrConfig, c.Path)
	}
	for _, cl := range c.Clusters {
		if len(cl.ZkServers) == 0 {
			return fmt.Errorf("%w: %s: %s.zk.list has no host:port", ErrConfig, c.Path, cl.Alias)
		}
	}
	if c.WebPort < 0 || c.WebPort > 65535 {
		return fmt.Errorf("%w: %s: efak.webui.port=%d is not a port", ErrConfig, c.Path, c.WebPort)
	}
	if c.RetainDays < 1 {
		return fmt.Errorf("%w: %s: efak.metrics.retain=%d: want at least 1 day", ErrConfig, c.Path, c.RetainDays)
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		return fmt.Errorf("%w: %s: eagle.admin.password is shorter than 8 characters", ErrConfig, c.Path)
	}
	if (c.SMTPAddr == "") != (len(c.SMTPTo) == 0) {
		return fmt.Errorf("%w: %s: eagle.alert.smtp.server and eagle.alert.smtp.to go together: set both or neither", ErrConfig, c.Path)
	}
	return nil
}

// WebAddr is host:port to listen on.
func (c *Config) WebAddr() string {
	return net.JoinHostPort(c.WebHost, strconv.Itoa(c.WebPort))
}

// DBFile is DBPath made absolute against dir (the working directory).
func (c *Config) DBFile(dir string) string {
	if filepath.IsAbs(c.DBPath) {
		return c.DBPath
	}
	return filepath.Join(dir, c.DBPath)
}

// SplitZkList splits "h1:2181,h2:2181/chroot" into servers and chroot.
func SplitZkList(list string) ([]string, string, error) {
	hosts, chroot := list, ""
	if i := strings.IndexByte(list, '/'); i >= 0 {
		hosts, chroot = list[:i], list[i:]
		chroot = strings.TrimRight(chroot, "/")
	}
	var out []string
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(h); err != nil {
			if !strings.Contains(h, ":") {
				h += ":2181"
			} else {
				return nil, "", fmt.Errorf("server %q is not host:port", h)
			}
		} else if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return nil, "", fmt.Errorf("server %q has a bad port", h)
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, "", errors.New("want host:port[,host:port][/chroot]")
	}
	return out, chroot, nil
}
