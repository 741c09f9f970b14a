package tools

// kafka-consumer-perf-test.sh (Kafka 2.8's ConsumerPerformance): consumes
// --messages records in a group and prints Kafka's header and result
// line, or with --show-detailed-stats a line per --reporting-interval.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var _ = register(&Tool{
	Name:    "consumer-perf-test",
	Summary: "This tool helps in performance test for the full zookeeper consumer",
	Opts: []Opt{
		optBootstrap,
		{Name: "broker-list", Arg: "String: broker-list", Help: "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified."},
		{Name: "topic", Arg: "String: topic", Help: "REQUIRED: The topic to consume from."},
		{Name: "group", Arg: "String: gid", Help: "The group id to consume on. (default: perf-consumer-<random>)"},
		{Name: "messages", Arg: "Long: count", Help: "REQUIRED: The number of messages to send or consume"},
		{Name: "fetch-size", Arg: "Integer: size", Default: "1048576", Help: "The amount of data to fetch in a single request."},
		{Name: "from-latest", Help: "If the consumer does not already have an established offset to consume from, start with the latest message present in the log rather than the earliest message."},
		{Name: "socket-buffer-size", Arg: "Integer: size", Default: "2097152", Help: "The size of the tcp RECV size."},
		{Name: "threads", Arg: "Integer: count", Default: "10", Help: "Number of processing threads (accepted; one consumer runs, as in Kafka 2.8)."},
		{Name: "num-fetch-threads", Arg: "Integer: count", Default: "1", Help: "Number of fetcher threads (accepted; one consumer runs, as in Kafka 2.8)."},
		{Name: "consumer.config", Arg: "String: config file", Help: "Consumer config properties file."},
		{Name: "print-metrics", Help: "Print out the metrics."},
		{Name: "show-detailed-stats", Help: "If set, stats are reported for each reporting interval as configured by reporting-interval"},
		{Name: "reporting-interval", Arg: "Integer: interval_ms", Default: "5000", Help: "Interval in milliseconds at which to print progress info."},
		{Name: "date-format", Arg: "String: date format", Default: "yyyy-MM-dd HH:mm:ss:SSS", Help: "The date format to use for formatting the time field. See java.text.SimpleDateFormat for options."},
		{Name: "timeout", Arg: "Long: milliseconds", Default: "10000", Help: "The maximum allowed time in milliseconds between returned records."},
		{Name: "hide-header", Help: "If set, skips printing the header for the stats"},
	},
	Run: runConsumerPerf,
})

// javaDateFormat turns the SimpleDateFormat letters the perf test uses
// into a Go layout.
func javaDateFormat(f string) string {
	return strings.NewReplacer("yyyy", "2006", "yy", "06", "MM", "01", "dd", "02", "HH", "15", "mm", "04", "ss", "05", "SSS", "000", "Z", "-0700").Replace(f)
}

func runConsumerPerf(e *Env, p *Parsed) error {
	bootstrap, err := bootstrapOf(p)
	if err != nil {
		return err
	}
	if err := p.Require("topic", "messages"); err != nil {
		return err
	}
	want, err := p.Int("messages", 0)
	if err != nil {
		return err
	}
	timeoutMs, err := p.Int("timeout", 10000)
	if err != nil {
		return err
	}
	intervalMs, err := p.Int("reporting-interval", 5000)
	if err != nil {
		return err
	}
	if intervalMs <= 0 {
		return usagef("--reporting-interval must be greater than 0")
	}
	fetchSize, err := p.Int("fetch-size", 1048576)
	if err != nil {
		return err
	}
	props, err := loadProps(p.String("consumer.config"))
	if err != nil {
		return err
	}
	opts, err := consumerOpts(props)
	if err != nil {
		return err
	}
	group := p.String("group")
	if group == "" {
		group = fmt.Sprintf("perf-consumer-%d", rand.IntN(100000))
	}
	reset := kgo.NewOffset().AtStart()
	if p.Has("from-latest") {
		reset = kgo.NewOffset().AtEnd()
	}
	layout := javaDateFormat(p.String("date-format"))
	detailed := p.Has("show-detailed-stats")

	// Join time: from the start until partitions are assigned, as Kafka's
	// rebalance listener measures it.
	var mu sync.Mutex
	var joinStart time.Time
	var joinMs, joinMsRound int64
	opts = append(opts, kgo.ConsumerGroup(group), kgo.ConsumeTopics(p.String("topic")), kgo.ConsumeResetOffset(reset),
		kgo.FetchMaxPartitionBytes(int32(min(fetchSize, 1<<30))),
		kgo.OnPartitionsRevoked(func(context.Context, *kgo.Client, map[string][]int32) {
			mu.Lock()
			joinStart = time.Now()
			mu.Unlock()
		}),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			mu.Lock()
			d := time.Since(joinStart).Milliseconds()
			joinMs += d
			joinMsRound += d
			mu.Unlock()
		}))
	if !p.Has("hide-header") {
		extra := ", rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
		if detailed {
			fmt.Fprintln(e.Stdout, "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec"+extra)
		} else {
			fmt.Fprintln(e.Stdout, "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec"+extra)
		}
	}
	startT := time.Now()
	joinStart = startT
	cl, _, err := e.kafka(bootstrap, opts...)
	if err != nil {
		return err
	}
	var msgs, bytesRead, lastMsgs, lastBytes int64
	lastReport, lastConsumed := startT, startT
	mb := func(b int64) float64 { return float64(b) / (1024 * 1024) }
	for msgs < want && e.Ctx.Err() == nil && time.Since(lastConsumed) <= time.Duration(timeoutMs)*time.Millisecond {
		ctx, cancel := context.WithTimeout(e.Ctx, 100*time.Millisecond)
		fs := cl.PollRecords(ctx, int(min(want-msgs, 100000)))
		cancel()
		now := time.Now()
		for _, r := range fs.Records() {
			msgs++
			bytesRead += int64(len(r.Key) + len(r.Value))
			lastConsumed = now
		}
		if detailed && now.Sub(lastReport) >= time.Duration(intervalMs)*time.Millisecond {
			mu.Lock()
			round := joinMsRound
			joinMsRound = 0
			mu.Unlock()
			elapsed := float64(now.Sub(lastReport).Milliseconds())
			fetchMs := now.Sub(lastReport).Milliseconds() - round
			fetchMB, fetchN := 0.0, 0.0
			if fetchMs > 0 {
				fetchMB, fetchN = 1000*mb(bytesRead-lastBytes)/float64(fetchMs), 1000*float64(msgs-lastMsgs)/float64(fetchMs)
			}
			fmt.Fprintf(e.Stdout, "%s, %d, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f\n", now.Format(layout), 0, mb(bytesRead),
				1000*mb(bytesRead-lastBytes)/elapsed, msgs, 1000*float64(msgs-lastMsgs)/elapsed, round, fetchMs, fetchMB, fetchN)
			lastReport, lastMsgs, lastBytes = now, msgs, bytesRead
		}
	}
	endT := time.Now()
	if msgs < want && e.Ctx.Err() == nil {
		fmt.Fprintf(e.Stdout, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. You can use the --timeout option to increase the timeout.\n", timeoutMs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = cl.CommitUncommittedOffsets(ctx)
	cancel()
	if !detailed {
		mu.Lock()
		join := joinMs
		mu.Unlock()
		elapsedS := float64(endT.Sub(startT).Milliseconds()) / 1000
		fetchMs := endT.Sub(startT).Milliseconds() - join
		fmt.Fprintf(e.Stdout, "%s, %s, %s, %s, %d, %s, %d, %d, %s, %s\n", startT.Format(layout), endT.Format(layout),
			f4(mb(bytesRead)), f4(mb(bytesRead)/elapsedS), msgs, f4(float64(msgs)/elapsedS), join, fetchMs,
			f4(mb(bytesRead)/(float64(fetchMs)/1000)), f4(float64(msgs)/(float64(fetchMs)/1000)))
	}
	if p.Has("print-metrics") {
		mu.Lock()
		join := joinMs
		mu.Unlock()
		elapsed := endT.Sub(startT).Seconds()
		tag := "{client-id=consumer-" + group + "-1}"
		printMetrics(e.Stdout, map[string]float64{
			"consumer-fetch-manager-metrics:records-consumed-total:" + tag: float64(msgs),
			"consumer-fetch-manager-metrics:records-consumed-rate:" + tag:  float64(msgs) / elapsed,
			"consumer-fetch-manager-metrics:bytes-consumed-total:" + tag:   float64(bytesRead),
			"consumer-fetch-manager-metrics:bytes-consumed-rate:" + tag:    float64(bytesRead) / elapsed,
			"consumer-coordinator-metrics:rebalance-latency-total:" + tag:  float64(join),
		})
	}
	return nil
}

// f4 is Java's "%.4f", which prints a division by zero as Infinity or NaN.
func f4(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
