package tools

// kafka-console-producer.sh (Kafka 2.8's ConsoleProducer): reads lines
// from standard input and sends each as a record, printing Kafka's ">"
// prompt before each read.

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var _ = register(&Tool{
	Name:    "console-producer",
	Summary: "This tool helps to read data from standard input and publish it to Kafka.",
	Opts: []Opt{
		optBootstrap, optTopic,
		{Name: "broker-list", Arg: "String: broker-list", Help: "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The broker list string in the form HOST1:PORT1,HOST2:PORT2."},
		{Name: "property", Arg: "String: prop", Multi: true, Help: "A mechanism to pass user-defined properties in the form key=value to the message reader: parse.key, key.separator, ignore.error."},
		{Name: "producer-property", Arg: "String: producer_prop", Multi: true, Help: "A mechanism to pass user-defined properties in the form key=value to the producer."},
		{Name: "producer.config", Arg: "String: config file", Help: "Producer config properties file. Note that [producer-property] takes precedence over this config."},
		{Name: "request-required-acks", Arg: "String: request required acks", Default: "-1", Help: "The required acks of the producer requests"},
		{Name: "compression-codec", Arg: "String: compression-codec", Optional: true, Help: "The compression codec: either 'none', 'gzip', 'snappy', 'lz4', or 'zstd'. If specified without value, then it defaults to 'gzip'"},
		{Name: "sync", Help: "If set message send requests to the brokers are synchronously, one at a time as they arrive."},
		{Name: "batch-size", Arg: "Integer: size", Default: "16384", Help: "Number of bytes to send in a single batch if they are not being sent synchronously."},
		{Name: "timeout", Arg: "Integer: timeout_ms", Default: "1000", Help: "If set and the producer is running in asynchronous mode, this gives the maximum amount of time a message will queue awaiting sufficient batch size. The value is given in ms."},
		{Name: "message-send-max-retries", Arg: "Integer", Default: "3", Help: "How many times a send is retried before the message is given up on."},
		{Name: "retry-backoff-ms", Arg: "Long", Default: "100", Help: "Wait before a retry, in ms."},
		{Name: "max-block-ms", Arg: "Long: max block on send", Default: "60000", Help: "The max time that the producer will block for during a send request"},
		{Name: "request-timeout-ms", Arg: "Integer: request timeout ms", Default: "1500", Help: "The ack timeout of the producer requests. Value must be non-negative and non-zero"},
		{Name: "max-memory-bytes", Arg: "Long: total memory in bytes", Default: "33554432", Help: "The total memory used by the producer to buffer records waiting to be sent to the server."},
		{Name: "max-partition-memory-bytes", Arg: "Long: memory in bytes per partition", Default: "16384", Help: "The buffer size allocated for a partition."},
		{Name: "metadata-expiry-ms", Arg: "Long: metadata expiration interval", Default: "300000", Help: "The period of time in milliseconds after which we force a refresh of metadata."},
		{Name: "socket-buffer-size", Arg: "Integer: size", Default: "102400", Help: "The size of the tcp RECV size."},
		{Name: "line-reader", Arg: "String: reader_class", Default: "kafka.tools.ConsoleProducer$LineMessageReader", Help: "The class name of the class to use for reading lines from standard in (only the default is supported)."},
	},
	Run: runConsoleProducer,
})

// bootstrapOf returns --bootstrap-server or, for the old tools, --broker-list.
func bootstrapOf(p *Parsed) (string, error) {
	if p.Has("bootstrap-server") {
		return p.String("bootstrap-server"), nil
	}
	if p.Has("broker-list") {
		return p.String("broker-list"), nil
	}
	return "", usagef("Missing required argument \"[bootstrap-server]\"")
}

// producerOpts turns Kafka producer settings into franz-go options.
func producerOpts(props map[string]string) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	acks := "-1"
	if v, ok := props["acks"]; ok {
		acks = v
	}
	switch strings.TrimSpace(acks) {
	case "-1", "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, fmt.Errorf("Invalid value %s for configuration acks: String must be one of: all, -1, 0, 1", acks)
	}
	if v := props["enable.idempotence"]; v == "false" {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if c, ok := props["compression.type"]; ok {
		codec, err := compressionCodec(c)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.ProducerBatchCompression(codec))
	}
	if v, ok := props["linger.ms"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("Invalid value %s for configuration linger.ms: Not a number of type LONG", v)
		}
		opts = append(opts, kgo.ProducerLinger(time.Duration(n)*time.Millisecond))
	}
	if v, ok := props["batch.size"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("Invalid value %s for configuration batch.size: Not a number of type INT", v)
		}
		opts = append(opts, kgo.ProducerBatchMaxBytes(int32(max(n, 1024))))
	}
	if v, ok := props["client.id"]; ok {
		opts = append(opts, kgo.ClientID(v))
	}
	return opts, nil
}

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch strings.TrimSpace(name) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("Invalid value %s for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd", name)
}

func runConsoleProducer(e *Env, p *Parsed) error {
	bootstrap, err := bootstrapOf(p)
	if err != nil {
		return err
	}
	if err := p.Require("topic"); err != nil {
		return err
	}
	topic := p.String("topic")
	props, err := loadProps(p.String("producer.config"))
	if err != nil {
		return err
	}
	props["acks"] = p.String("request-required-acks")
	if p.Has("compression-codec") {
		c := p.String("compression-codec")
		if c == "" {
			c = "gzip"
		}
		props["compression.type"] = c
	}
	if !p.Has("sync") {
		props["linger.ms"] = p.String("timeout")
	}
	props["batch.size"] = p.String("batch-size")
	if err := kvList(p, "producer-property", props); err != nil {
		return err
	}
	reader := map[string]string{"parse.key": "false", "key.separator": "\t", "ignore.error": "false"}
	if err := kvList(p, "property", reader); err != nil {
		return err
	}
	opts, err := producerOpts(props)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(e.Timeout))
	cl, _, err := e.kafka(bootstrap, opts...)
	if err != nil {
		return err
	}
	parseKey := strings.EqualFold(reader["parse.key"], "true")
	ignoreErr := strings.EqualFold(reader["ignore.error"], "true")
	sep := reader["key.separator"]
	var mu sync.Mutex
	failed := 0
	report := func(r *kgo.Record, err error) {
		if err == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		failed++
		key := "null"
		if r.Key != nil {
			key = fmt.Sprintf("%d bytes", len(r.Key))
		}
		fmt.Fprintf(e.Stderr, "[%s] ERROR Error when sending message to topic %s with key: %s, value: %d bytes with error: %v (org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)\n",
			time.Now().Format("2006-01-02 15:04:05,000"), topic, key, len(r.Value), err)
	}
	in := bufio.NewReader(e.Stdin)
	for n := 1; ; n++ {
		fmt.Fprint(e.Stdout, ">")
		line, rerr := in.ReadString('\n')
		if line == "" && rerr != nil {
			break
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		rec := &kgo.Record{Topic: topic, Value: []byte(line)}
		if parseKey {
			k, v, ok := strings.Cut(line, sep)
			if !ok && !ignoreErr {
				cl.Flush(e.Ctx)
				return fmt.Errorf("No key found on line %d: %s", n, line)
			}
			if ok {
				rec.Key, rec.Value = []byte(k), []byte(v)
			}
		}
		if p.Has("sync") {
			report(rec, cl.ProduceSync(e.Ctx, rec).FirstErr())
		} else {
			cl.Produce(e.Ctx, rec, report)
		}
		if rerr != nil || e.Ctx.Err() != nil {
			break
		}
	}
	if err := cl.Flush(e.Ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}
