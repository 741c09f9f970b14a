// Package tools holds Apache Kafka's operator tools as brokerd subcommands
// (bin/brokerd topics ..., wrapped by deploy/bin/kafka-topics.sh and its
// siblings): the same option names, parsed as Kafka's joptsimple parser
// does (--name value, --name=value, unambiguous prefixes), and the same
// output, so scripts written against Kafka 2.8's tools keep working.
//
// Every tool is a Tool in the registry below. They share the option
// parser (opts.go), the Kafka client setup (franz-go kgo/kadm, with a
// reachability check so an unreachable cluster is one line, not a hang)
// and the ZooKeeper connection for --zookeeper (go-zookeeper/zk with
// Kafka's znode layout from proto/kafkazk).
//
// Errors are one line on stderr and exit status 1; --help prints the
// option table on stdout and exits 0.
package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/config"
)

// Tool is one operator tool.
type Tool struct {
	Name      string // subcommand: topics, console-producer, ...
	Summary   string // first line of --help
	Opts      []Opt
	ErrPrefix string // Kafka's prefix of a failure line; default "Error: "
	Run       func(e *Env, p *Parsed) error
}

// Env is what a running tool talks to.
type Env struct {
	Ctx    context.Context // cancelled by SIGINT/SIGTERM
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Timeout bounds connecting and each admin request (default 30s).
	Timeout time.Duration
	closers []func()
	cl      *kgo.Client  // set by kafka()
	admin   *kadm.Client // set by kafka()
}

var registry = map[string]*Tool{}

func register(t *Tool) *Tool {
	t.Opts = append(t.Opts, Opt{Name: "help", Help: "Print usage information."}, Opt{Name: "version", Help: "Display Kafka version."})
	registry[t.Name] = t
	return t
}

// Names lists the registered tools.
func Names() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Summary is a tool's one-line description.
func Summary(name string) string {
	if t := registry[name]; t != nil {
		return t.Summary
	}
	return ""
}

// Version is printed by --version.
var Version = "dev"

// Run runs one tool and returns its exit status.
func Run(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	t := registry[name]
	if t == nil {
		fmt.Fprintf(stderr, "brokerd: unknown tool %q (tools: %s)\n", name, strings.Join(Names(), ", "))
		return 1
	}
	e := &Env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr, Timeout: 30 * time.Second}
	if s := os.Getenv("BROKERD_TOOLS_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			e.Timeout = d
		}
	}
	defer e.close()
	p, err := parse(t.Opts, args)
	if err == nil && p.Has("help") {
		printHelp(stdout, t)
		return 0
	}
	if err == nil && p.Has("version") {
		fmt.Fprintf(stdout, "%s (brokerd)\n", Version)
		return 0
	}
	if err == nil {
		err = t.Run(e, p)
	}
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s: %s (see --help)\n", name, ue.msg)
		return 1
	}
	var ex *exitError
	if errors.As(err, &ex) {
		return ex.code
	}
	prefix := t.ErrPrefix
	if prefix == "" {
		prefix = "Error: "
	}
	fmt.Fprintln(stderr, prefix+oneLine(err.Error()))
	return 1
}

// exitError ends a tool with a status after it printed its own message.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func (e *Env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// op is a context for one admin request.
func (e *Env) op() (context.Context, context.CancelFunc) {
	return context.WithTimeout(e.Ctx, e.Timeout)
}

// Shared options.
var (
	optBootstrap = Opt{Name: "bootstrap-server", Arg: "String: server(s) to connect to", Help: "REQUIRED: The Kafka server(s) to connect to, host:port[,host:port]."}
	optZookeeper = Opt{Name: "zookeeper", Arg: "String: hosts", Help: "DEPRECATED, the connection string for the zookeeper connection in the form host:port[,host:port][/chroot]."}
	optCmdConfig = Opt{Name: "command-config", Arg: "String: command config property file", Help: "Property file containing configs to be passed to the admin client."}
	optTopic     = Opt{Name: "topic", Arg: "String: topic", Help: "The topic (a regular expression where the tool accepts one)."}
)

// servers splits a host:port list.
func servers(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// loadProps reads a Java properties file (--command-config,
// --producer.config, --consumer.config).
func loadProps(path string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file %s: %w", path, err)
	}
	out := map[string]string{}
	for _, kv := range config.ParseProperties(string(b)) {
		out[kv.Key] = kv.Value
	}
	return out, nil
}

// kafka connects a franz-go client to the bootstrap servers. It first
// dials them, so an unreachable cluster fails at once with the address,
// instead of franz-go retrying until a timeout.
func (e *Env) kafka(bootstrap string, opts ...kgo.Opt) (*kgo.Client, *kadm.Client, error) {
	seeds := servers(bootstrap)
	if len(seeds) == 0 {
		return nil, nil, usagef("missing required argument \"[bootstrap-server]\"")
	}
	for _, s := range seeds {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, nil, usagef("bad server address %q in --bootstrap-server: want host:port", s)
		}
	}
	if err := e.reachable(seeds); err != nil {
		return nil, nil, fmt.Errorf("cannot connect to any broker of %s (%v); check --bootstrap-server and that the brokers are running", bootstrap, err)
	}
	all := append([]kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.DialTimeout(5 * time.Second),
		kgo.RequestTimeoutOverhead(10 * time.Second),
		kgo.RetryTimeout(e.Timeout),
		kgo.MetadataMinAge(250 * time.Millisecond),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, nil, fmt.Errorf("kafka client: %w", err)
	}
	e.closers = append(e.closers, cl.Close)
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(e.Timeout / time.Millisecond))
	e.cl, e.admin = cl, adm
	return cl, adm, nil
}

// reachable dials the servers until one answers; it returns the last
// error when none does.
func (e *Env) reachable(addrs []string) error {
	var lastErr error
	for _, a := range addrs {
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(e.Ctx, "tcp", a)
		if err != nil {
			lastErr = err
			continue
		}
		_ = c.Close()
		return nil
	}
	return lastErr
}

// kvList reads repeated name=value options (--property, --producer-property).
func kvList(p *Parsed, name string, into map[string]string) error {
	for _, s := range p.Strings(name) {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return usagef("option --%s: %q is not name=value", name, s)
		}
		into[strings.TrimSpace(k)] = v
	}
	return nil
}

// respErr is a response's error code as an error, carrying the broker's
// message when it sent one (Kafka's tools print that message).
func respErr(code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil || msg == nil || *msg == "" {
		return err
	}
	return &brokerError{err: err, msg: *msg}
}

type brokerError struct {
	err error
	msg string
}

func (b *brokerError) Error() string { return b.msg }
func (b *brokerError) Unwrap() error { return b.err }
