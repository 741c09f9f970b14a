package tools

// kafka-producer-perf-test.sh (Kafka 2.8's ProducerPerformance): sends
// --num-records records at --throughput, prints a progress line every 5
// seconds and Kafka's final line with latency percentiles.

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var _ = register(&Tool{
	Name:    "producer-perf-test",
	Summary: "This tool is used to verify the producer performance.",
	Opts: []Opt{
		{Name: "topic", Arg: "TOPIC", Help: "REQUIRED: produce messages to this topic"},
		{Name: "num-records", Arg: "NUM-RECORDS", Help: "REQUIRED: number of messages to produce"},
		{Name: "record-size", Arg: "RECORD-SIZE", Help: "message size in bytes. Note that you must provide exactly one of --record-size or --payload-file."},
		{Name: "payload-file", Arg: "PAYLOAD-FILE", Help: "file to read the message payloads from. This works only for UTF-8 encoded text files. Payloads will be read from this file and a payload will be randomly selected when sending messages."},
		{Name: "payload-delimiter", Arg: "PAYLOAD-DELIMITER", Default: `\n`, Help: "provides delimiter to be used when --payload-file is provided."},
		{Name: "throughput", Arg: "THROUGHPUT", Help: "REQUIRED: throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. Set this to -1 to disable throttling."},
		{Name: "producer-props", Arg: "PROP-NAME=PROP-VALUE", Nargs: true, Help: "kafka producer related configuration properties like bootstrap.servers,client.id etc. These configs take precedence over those passed via --producer.config."},
		{Name: "producer.config", Arg: "CONFIG-FILE", Help: "producer config properties file."},
		{Name: "print-metrics", Help: "print out metrics at the end of the test."},
		{Name: "transactional-id", Arg: "TRANSACTIONAL-ID", Help: "The transactionalId to use if transaction-duration-ms is > 0 (transactions are not supported by brokerd)."},
		{Name: "transaction-duration-ms", Arg: "TRANSACTION-DURATION", Default: "0", Help: "The max age of each transaction (transactions are not supported by brokerd)."},
	},
	Run: runProducerPerf,
})

// perfStats is Kafka's ProducerPerformance.Stats: a 5 s reporting window
// and sampled latencies for the percentiles.
type perfStats struct {
	mu                          sync.Mutex
	w                           io.Writer
	start, windowStart          time.Time
	count, bytes                int64
	maxLatency, totalLatency    int64
	windowCount, windowBytes    int64
	windowMax, windowTotal      int64
	latencies                   []int
	sampling, iteration, failed int64
	interval                    time.Duration
}

func newPerfStats(w io.Writer, numRecords int64, interval time.Duration) *perfStats {
	now := time.Now()
	sampling := numRecords / min(numRecords, 500000)
	return &perfStats{w: w, start: now, windowStart: now, sampling: max(sampling, 1), latencies: make([]int, 0, int(numRecords/max(sampling, 1))+1), interval: interval}
}

func (s *perfStats) record(latencyMs int64, size int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	s.bytes += int64(size)
	s.totalLatency += latencyMs
	s.maxLatency = max(s.maxLatency, latencyMs)
	s.windowCount++
	s.windowBytes += int64(size)
	s.windowTotal += latencyMs
	s.windowMax = max(s.windowMax, latencyMs)
	if s.iteration%s.sampling == 0 {
		s.latencies = append(s.latencies, int(latencyMs))
	}
	s.iteration++
	if now.Sub(s.windowStart) >= s.interval {
		s.printWindow(now)
		s.windowStart, s.windowCount, s.windowBytes, s.windowMax, s.windowTotal = now, 0, 0, 0, 0
	}
}

func (s *perfStats) printWindow(now time.Time) {
	elapsed := float64(now.Sub(s.windowStart).Milliseconds())
	if elapsed <= 0 {
		elapsed = 1
	}
	recsPerSec := 1000.0 * float64(s.windowCount) / elapsed
	mbPerSec := 1000.0 * float64(s.windowBytes) / elapsed / (1024.0 * 1024.0)
	fmt.Fprintf(s.w, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
		s.windowCount, recsPerSec, mbPerSec, float64(s.windowTotal)/float64(max(s.windowCount, 1)), float64(s.windowMax))
}

func (s *perfStats) printTotal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := float64(time.Since(s.start).Milliseconds())
	if elapsed <= 0 {
		elapsed = 1
	}
	recsPerSec := 1000.0 * float64(s.count) / elapsed
	mbPerSec := 1000.0 * float64(s.bytes) / elapsed / (1024.0 * 1024.0)
	sort.Ints(s.latencies)
	pct := func(p float64) int {
		if len(s.latencies) == 0 {
			return 0
		}
		return s.latencies[int(p*float64(len(s.latencies)))]
	}
	fmt.Fprintf(s.w, "%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		s.count, recsPerSec, mbPerSec, float64(s.totalLatency)/float64(max(s.count, 1)), float64(s.maxLatency), pct(0.5), pct(0.95), pct(0.99), pct(0.999))
}

// perfInterval is the reporting window (5 s as Kafka; tests shorten it).
var perfInterval = 5 * time.Second

func runProducerPerf(e *Env, p *Parsed) error {
	if err := p.Require("topic", "num-records", "throughput"); err != nil {
		return err
	}
	if p.Has("record-size") == p.Has("payload-file") {
		return usagef("Either --record-size or --payload-file must be specified but not both.")
	}
	if p.Has("transactional-id") || p.String("transaction-duration-ms") != "0" {
		return fmt.Errorf("transactions are not supported by brokerd; drop --transactional-id and --transaction-duration-ms")
	}
	n, err := p.Int("num-records", 0)
	if err != nil {
		return err
	}
	if n <= 0 {
		return usagef("--num-records must be greater than 0")
	}
	throughput, err := p.Int("throughput", -1)
	if err != nil {
		return err
	}
	props, err := loadProps(p.String("producer.config"))
	if err != nil {
		return err
	}
	for _, kv := range p.Strings("producer-props") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("Invalid property: %s", kv)
		}
		props[k] = v
	}
	if props["bootstrap.servers"] == "" {
		return fmt.Errorf("Missing required configuration \"bootstrap.servers\" which has no default value. (give --producer-props bootstrap.servers=host:port)")
	}
	// Kafka's payloads: one random A-Z record of --record-size, or the
	// --payload-file split at the delimiter, one picked at random per record.
	var payloads [][]byte
	if p.Has("record-size") {
		size, err := p.Int("record-size", 0)
		if err != nil {
			return err
		}
		if size < 0 {
			return usagef("--record-size must not be negative")
		}
		b := make([]byte, size)
		for i := range b {
			b[i] = byte('A' + rand.IntN(26))
		}
		payloads = [][]byte{b}
	} else {
		data, err := os.ReadFile(p.String("payload-file"))
		if err != nil {
			return fmt.Errorf("cannot read --payload-file: %w", err)
		}
		delim := unescape(p.String("payload-delimiter"))
		for _, s := range strings.Split(string(data), delim) {
			if s != "" {
				payloads = append(payloads, []byte(s))
			}
		}
		fmt.Fprintf(e.Stdout, "Reading payloads from: %s\n", p.String("payload-file"))
		if len(payloads) == 0 {
			return fmt.Errorf("File is empty: %s", p.String("payload-file"))
		}
		fmt.Fprintf(e.Stdout, "Number of messages read: %d\n", len(payloads))
	}
	opts, err := producerOpts(props)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.DefaultProduceTopic(p.String("topic")), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(2*e.Timeout), kgo.MaxBufferedRecords(100000))
	cl, _, err := e.kafka(props["bootstrap.servers"], opts...)
	if err != nil {
		return err
	}
	stats := newPerfStats(e.Stdout, n, perfInterval)
	var errMu sync.Mutex
	var firstErr error
	start := time.Now()
	for i := int64(0); i < n && e.Ctx.Err() == nil; i++ {
		payload := payloads[0]
		if len(payloads) > 1 {
			payload = payloads[rand.IntN(len(payloads))]
		}
		sent := time.Now()
		cl.Produce(e.Ctx, &kgo.Record{Value: payload}, func(r *kgo.Record, err error) {
			now := time.Now()
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
				stats.mu.Lock()
				stats.failed++
				stats.mu.Unlock()
				return
			}
			stats.record(now.Sub(sent).Milliseconds(), len(r.Value), now)
		})
		if throughput > 0 {
			// Kafka's ThroughputThrottler: sleep while ahead of the target rate.
			ahead := time.Duration(float64(i+1)/float64(throughput)*float64(time.Second)) - time.Since(start)
			if ahead > 0 {
				select {
				case <-time.After(ahead):
				case <-e.Ctx.Done():
				}
			}
		}
	}
	if err := cl.Flush(e.Ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	stats.printTotal()
	if p.Has("print-metrics") {
		printProducerMetrics(e.Stdout, stats, props["client.id"])
	}
	if firstErr != nil {
		return fmt.Errorf("%d of %d records failed, the first with: %v", n-stats.count, n, firstErr)
	}
	return nil
}

// printProducerMetrics prints, in Kafka's ToolsUtils.printMetrics layout,
// the producer metrics the test measured itself.
func printProducerMetrics(w io.Writer, s *perfStats, clientID string) {
	if clientID == "" {
		clientID = "producer-1"
	}
	elapsed := time.Since(s.start).Seconds()
	tag := "{client-id=" + clientID + "}"
	m := map[string]float64{
		"producer-metrics:record-send-total:" + tag:   float64(s.count),
		"producer-metrics:record-send-rate:" + tag:    float64(s.count) / elapsed,
		"producer-metrics:outgoing-byte-total:" + tag: float64(s.bytes),
		"producer-metrics:request-latency-avg:" + tag: float64(s.totalLatency) / float64(max(s.count, 1)),
		"producer-metrics:request-latency-max:" + tag: float64(s.maxLatency),
		"producer-metrics:record-size-avg:" + tag:     float64(s.bytes) / float64(max(s.count, 1)),
		"producer-metrics:record-error-total:" + tag:  float64(s.failed),
	}
	printMetrics(w, m)
}

// printMetrics is ToolsUtils.printMetrics: a sorted "name : value" table.
func printMetrics(w io.Writer, m map[string]float64) {
	names := make([]string, 0, len(m))
	width := len("Metric Name")
	for k := range m {
		names = append(names, k)
		width = max(width, len(k))
	}
	sort.Strings(names)
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n%-*s   %s\n", width, "Metric Name", "Value")
	for _, k := range names {
		fmt.Fprintf(&b, "%-*s : %.3f\n", width, k, m[k])
	}
	_, _ = w.Write(b.Bytes())
}
