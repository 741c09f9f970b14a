package tools

// kafka-console-consumer.sh (Kafka 2.8's ConsoleConsumer with its
// DefaultMessageFormatter). Ends at --max-messages, after --timeout-ms
// without a record, or on SIGINT/SIGTERM, and then prints "Processed a
// total of N messages" on stderr, as Kafka's does.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var _ = register(&Tool{
	Name:    "console-consumer",
	Summary: "This tool helps to read data from Kafka topics and outputs it to standard output.",
	Opts: []Opt{
		optBootstrap, optTopic,
		{Name: "zookeeper", Arg: "String: hosts", Help: "The old consumer's ZooKeeper connect string: the brokers registered there are used as --bootstrap-server."},
		{Name: "whitelist", Arg: "String: whitelist", Help: "Regular expression specifying whitelist of topics to include for consumption."},
		{Name: "partition", Arg: "Integer: partition", Help: "The partition to consume from. Consumption starts from the end of the partition unless '--offset' is specified."},
		{Name: "offset", Arg: "String: consume offset", Default: "latest", Help: "The offset id to consume from (a non-negative number), or 'earliest' which means from beginning, or 'latest' which means from end"},
		{Name: "group", Arg: "String: consumer group id", Help: "The consumer group id of the consumer."},
		{Name: "from-beginning", Help: "If the consumer does not already have an established offset to consume from, start with the earliest message present in the log rather than the latest message."},
		{Name: "max-messages", Arg: "Integer: num_messages", Help: "The maximum number of messages to consume before exiting. If not set, consumption is continual."},
		{Name: "timeout-ms", Arg: "Integer: timeout_ms", Help: "If specified, exit if no message is available for consumption for the specified interval."},
		{Name: "property", Arg: "String: prop", Multi: true, Help: "The properties to initialize the message formatter: print.timestamp, print.key, print.offset, print.partition, print.headers, print.value, key.separator, line.separator, headers.separator, null.literal."},
		{Name: "consumer-property", Arg: "String: consumer_prop", Multi: true, Help: "A mechanism to pass user-defined properties in the form key=value to the consumer."},
		{Name: "consumer.config", Arg: "String: config file", Help: "Consumer config properties file. Note that [consumer-property] takes precedence over this config."},
		{Name: "isolation-level", Arg: "String", Default: "read_uncommitted", Help: "Set to read_committed in order to filter out transactional messages which are not committed. Set to read_uncommitted to read all messages."},
		{Name: "formatter", Arg: "String: class", Default: "kafka.tools.DefaultMessageFormatter", Help: "The name of a class to use for formatting kafka messages for display (only the default is supported)."},
		{Name: "key-deserializer", Arg: "String: deserializer for key", Help: "Accepted for compatibility; keys are printed as UTF-8 text."},
		{Name: "value-deserializer", Arg: "String: deserializer for values", Help: "Accepted for compatibility; values are printed as UTF-8 text."},
		{Name: "skip-message-on-error", Help: "If there is an error when processing a message, skip it instead of halt."},
	},
	Run: runConsoleConsumer,
})

// formatter is Kafka's DefaultMessageFormatter.
type formatter struct {
	timestamp, key, offset, partition, headers, value bool
	keySep, lineSep, headerSep, null                  string
}

func newFormatter(props map[string]string) formatter {
	b := func(k string, def bool) bool {
		if v, ok := props[k]; ok {
			return strings.EqualFold(strings.TrimSpace(v), "true")
		}
		return def
	}
	s := func(k, def string) string {
		if v, ok := props[k]; ok {
			return unescape(v)
		}
		return def
	}
	return formatter{
		timestamp: b("print.timestamp", false), key: b("print.key", false), offset: b("print.offset", false),
		partition: b("print.partition", false), headers: b("print.headers", false), value: b("print.value", true),
		keySep: s("key.separator", "\t"), lineSep: s("line.separator", "\n"), headerSep: s("headers.separator", ","),
		null: s("null.literal", "null"),
	}
}

// unescape turns the \t and \n a shell passes literally into the characters.
func unescape(s string) string {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\r`, "\r").Replace(s)
}

func (f formatter) write(w *bufio.Writer, r *kgo.Record) {
	sep := func(more bool) {
		if more {
			w.WriteString(f.keySep)
		} else {
			w.WriteString(f.lineSep)
		}
	}
	bytesOr := func(b []byte) string {
		if b == nil {
			return f.null
		}
		return string(b)
	}
	if f.timestamp {
		typ := "CreateTime"
		if r.Attrs.TimestampType() == 1 {
			typ = "LogAppendTime"
		}
		fmt.Fprintf(w, "%s:%d", typ, r.Timestamp.UnixMilli())
		sep(f.partition || f.offset || f.headers || f.key || f.value)
	}
	if f.partition {
		fmt.Fprintf(w, "Partition:%d", r.Partition)
		sep(f.offset || f.headers || f.key || f.value)
	}
	if f.offset {
		fmt.Fprintf(w, "Offset:%d", r.Offset)
		sep(f.headers || f.key || f.value)
	}
	if f.headers {
		if len(r.Headers) == 0 {
			w.WriteString("NO_HEADERS")
		}
		for i, h := range r.Headers {
			if i > 0 {
				w.WriteString(f.headerSep)
			}
			w.WriteString(h.Key + ":" + bytesOr(h.Value))
		}
		sep(f.key || f.value)
	}
	if f.key {
		w.WriteString(bytesOr(r.Key))
		sep(f.value)
	}
	if f.value {
		w.WriteString(bytesOr(r.Value))
		w.WriteString(f.lineSep)
	}
}

// consumerOpts turns Kafka consumer settings into franz-go options.
func consumerOpts(props map[string]string) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if v, ok := props["client.id"]; ok {
		opts = append(opts, kgo.ClientID(v))
	}
	if v, ok := props["isolation.level"]; ok {
		switch v {
		case "read_committed":
			opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		case "read_uncommitted":
		default:
			return nil, fmt.Errorf("Invalid value %s for configuration isolation.level: String must be one of: read_committed, read_uncommitted", v)
		}
	}
	if v, ok := props["max.partition.fetch.bytes"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("Invalid value %s for configuration max.partition.fetch.bytes", v)
		}
		opts = append(opts, kgo.FetchMaxPartitionBytes(int32(n)))
	}
	return opts, nil
}

func parseStartOffset(s string) (kgo.Offset, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "earliest":
		return kgo.NewOffset().AtStart(), nil
	case "latest":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, usagef("The provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.", s)
	}
	return kgo.NewOffset().At(n), nil
}

func runConsoleConsumer(e *Env, p *Parsed) error {
	bootstrap := p.String("bootstrap-server")
	if bootstrap == "" && p.Has("zookeeper") {
		z, err := e.zookeeper(p.String("zookeeper"))
		if err != nil {
			return err
		}
		if bootstrap, err = z.bootstrapFromZK(); err != nil {
			return err
		}
	}
	if bootstrap == "" {
		return usagef("Missing required argument \"[bootstrap-server]\"")
	}
	if p.Has("topic") == p.Has("whitelist") {
		return usagef("Exactly one of whitelist/topic is required.")
	}
	if p.Has("partition") && !p.Has("topic") {
		return usagef("The topic is required when partition is specified.")
	}
	if p.Has("from-beginning") && p.Has("offset") {
		return usagef("Options from-beginning and offset cannot be specified together.")
	}
	if p.Has("offset") && !p.Has("partition") {
		return usagef("The partition is required when offset is specified.")
	}
	if p.Has("formatter") && p.String("formatter") != "kafka.tools.DefaultMessageFormatter" {
		return usagef("only the default formatter kafka.tools.DefaultMessageFormatter is supported, not %s", p.String("formatter"))
	}
	maxMsgs, err := p.Int("max-messages", -1)
	if err != nil {
		return err
	}
	timeoutMs, err := p.Int("timeout-ms", -1)
	if err != nil {
		return err
	}
	props, err := loadProps(p.String("consumer.config"))
	if err != nil {
		return err
	}
	if err := kvList(p, "consumer-property", props); err != nil {
		return err
	}
	if p.Has("isolation-level") {
		props["isolation.level"] = p.String("isolation-level")
	}
	fmtProps := map[string]string{}
	if err := kvList(p, "property", fmtProps); err != nil {
		return err
	}
	f := newFormatter(fmtProps)
	opts, err := consumerOpts(props)
	if err != nil {
		return err
	}
	group := p.String("group")
	if g, ok := props["group.id"]; ok && group == "" {
		group = g
	}
	start := kgo.NewOffset().AtEnd()
	if p.Has("from-beginning") || props["auto.offset.reset"] == "earliest" {
		start = kgo.NewOffset().AtStart()
	}
	useGroup := !p.Has("partition")
	if p.Has("partition") {
		part, err := p.Int("partition", 0)
		if err != nil {
			return err
		}
		if p.Has("offset") {
			if start, err = parseStartOffset(p.String("offset")); err != nil {
				return err
			}
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{p.String("topic"): {int32(part): start}}))
	} else {
		if group == "" {
			group = fmt.Sprintf("console-consumer-%d", rand.IntN(100000))
		}
		opts = append(opts, kgo.ConsumerGroup(group), kgo.ConsumeResetOffset(start))
		if p.Has("whitelist") {
			spec := strings.ReplaceAll(strings.TrimSpace(p.String("whitelist")), ",", "|")
			if _, err := regexp.Compile(spec); err != nil {
				return usagef("--whitelist %q is not a valid regular expression: %v", p.String("whitelist"), err)
			}
			opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+spec+")$"))
		} else {
			opts = append(opts, kgo.ConsumeTopics(p.String("topic")))
		}
		if props["enable.auto.commit"] == "false" {
			opts = append(opts, kgo.DisableAutoCommit())
		}
	}
	cl, _, err := e.kafka(bootstrap, opts...)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(e.Stdout)
	defer out.Flush()
	count := int64(0)
	defer func() { fmt.Fprintf(e.Stderr, "Processed a total of %d messages\n", count) }()
	last := time.Now()
	for maxMsgs < 0 || count < maxMsgs {
		ctx, cancel := e.Ctx, context.CancelFunc(func() {})
		if timeoutMs >= 0 {
			ctx, cancel = context.WithDeadline(e.Ctx, last.Add(time.Duration(timeoutMs)*time.Millisecond))
		}
		fs := cl.PollRecords(ctx, int(max(0, min(maxMsgs-count, 10000))))
		cancel()
		if e.Ctx.Err() != nil {
			break
		}
		timedOut := false
		fs.EachError(func(t string, part int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				timedOut = true
				return
			}
			fmt.Fprintf(e.Stderr, "[%s] WARN fetching %s-%d: %v\n", time.Now().Format("2006-01-02 15:04:05,000"), t, part, err)
		})
		recs := fs.Records()
		for _, r := range recs {
			f.write(out, r)
			count++
		}
		if len(recs) > 0 {
			last = time.Now()
			out.Flush()
		}
		if timedOut && len(recs) == 0 {
			out.Flush()
			fmt.Fprintf(e.Stderr, "[%s] ERROR Error processing message, terminating consumer process:  (kafka.tools.ConsoleConsumer$)\norg.apache.kafka.common.errors.TimeoutException\n", time.Now().Format("2006-01-02 15:04:05,000"))
			break
		}
	}
	out.Flush()
	if useGroup {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = cl.CommitUncommittedOffsets(ctx)
	}
	return nil
}
