// Command brokerbench measures a real bin/brokerd (on a real bin/zkd) with
// franz-go, as issue 4 asks:
//
//   - one producer, 100-byte records, acks=1, 1 MiB batches, 10 ms linger,
//     5 requests in flight, the sticky partitioner (target: 1,000,000 records/s;
//     Kafka's 2014 reference run did 821,557/s on six cores);
//
//   - one producer, 1 KiB records, acks=1, against the sequential write
//     bandwidth of the disk under the log dir measured in the same run
//     (target: 80%): the same volume written in 1 MiB blocks and fsynced,
//     just before and just after the produce run, and written with
//     O_DIRECT (bypassing the page cache, as fio --direct=1 and dd
//     oflag=direct measure a disk) after it; the ratio is taken against
//     the highest of the three. Also against the buffered writer's rate
//     into the page cache (what the broker's appends are: Kafka does not
//     fsync per produce either);
//
//   - one consumer reading the 100-byte records from the start (target:
//     2,000,000 records/s);
//
//   - the broker's resident memory (VmHWM peak and VmRSS after, from
//     /proc/<pid>/status), and the CPU the broker and the client used in
//     each run (percent of one CPU over the run's wall time).
//
//     go run ./integration/cmd/brokerbench -zkd bin/zkd -brokerd bin/brokerd
//
// The topic has -partitions partitions (6, as Kafka's reference run), no
// compression, no idempotence (franz-go needs acks=all for it). Set
// BROKERD_PPROF_ADDR to profile the broker while it runs.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type options struct {
	zkdBin, brokerdBin string
	dir                string
	records100         int
	records1k          int
	partitions         int
	diskMiB            int
	markdown           string
	linger             time.Duration
	inflight           int
	roundRobin         bool
	cpuProfile         string
	idempotent         bool
}

func main() {
	var o options
	flag.StringVar(&o.zkdBin, "zkd", "bin/zkd", "zkd binary")
	flag.StringVar(&o.brokerdBin, "brokerd", "bin/brokerd", "brokerd binary")
	flag.StringVar(&o.dir, "dir", "", "directory for the data (default: a temporary directory); the disk measured is this one's")
	flag.IntVar(&o.records100, "records", 5_000_000, "100-byte records to produce (and consume)")
	flag.IntVar(&o.records1k, "records-1k", 500_000, "1 KiB records to produce")
	flag.IntVar(&o.partitions, "partitions", 6, "partitions of each topic")
	flag.IntVar(&o.diskMiB, "disk-mib", 0, "MiB written for each measure of the disk's sequential write bandwidth (default: the 1 KiB run's volume)")
	flag.StringVar(&o.markdown, "markdown", "", "append the results as markdown to this file")
	flag.DurationVar(&o.linger, "linger", 10*time.Millisecond, "producer linger")
	flag.IntVar(&o.inflight, "inflight", 5, "produce requests in flight (Kafka's producer default is 5)")
	flag.BoolVar(&o.roundRobin, "round-robin", false, "round-robin partitioner instead of franz-go's default sticky one (Kafka's default since 2.4)")
	flag.BoolVar(&o.idempotent, "idempotent", false, "idempotent producers with acks=all (franz-go's and Kafka 3's default) instead of acks=1 without idempotence")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the client side (this process) of the 1 KiB run to this file")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startReady runs a binary and waits for its ready line on stdout.
func startReady(bin string, args []string, logPath, prefix string) (*proc, string, error) {
	logF, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logF
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("brokerbench: start %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				ready <- a
			}
		}
	}()
	go func() { _ = cmd.Wait(); logF.Close(); close(p.done) }()
	select {
	case a := <-ready:
		return p, a, nil
	case <-p.done:
		return nil, "", fmt.Errorf("brokerbench: %s exited before it was ready; see %s", bin, logPath)
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, "", fmt.Errorf("brokerbench: %s not ready within 60s; see %s", bin, logPath)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "brokerbench: "+format+"\n", args...)
}

// diskBandwidth writes mib MiB in 1 MiB blocks and fsyncs, in dir; it
// returns the rate of the writes alone (into the page cache, what the
// broker's appends do) and of the writes plus the fsync (the disk).
func diskBandwidth(dir string, mib int) (cached, synced float64, err error) {
	path := filepath.Join(dir, "disk-bandwidth.tmp")
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i * 31)
	}
	start := time.Now()
	for range mib {
		if _, err := f.Write(block); err != nil {
			return 0, 0, err
		}
	}
	written := time.Since(start)
	if err := f.Sync(); err != nil {
		return 0, 0, err
	}
	return float64(mib) / written.Seconds(), float64(mib) / time.Since(start).Seconds(), nil
}

// directBandwidth writes mib MiB in 1 MiB blocks with O_DIRECT (no page
// cache: the device's own rate), then fsyncs, in dir.
func directBandwidth(dir string, mib int) (float64, error) {
	path := filepath.Join(dir, "disk-bandwidth-direct.tmp")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|syscall.O_DIRECT, 0o644)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	// O_DIRECT wants the buffer aligned to the logical block size; 4096
	// covers every disk.
	raw := make([]byte, 1<<20+4096)
	off := 0
	if rem := int(uintptr(unsafe.Pointer(&raw[0])) & 4095); rem != 0 {
		off = 4096 - rem
	}
	block := raw[off : off+1<<20]
	for i := range block {
		block[i] = byte(i * 31)
	}
	start := time.Now()
	for range mib {
		if _, err := f.Write(block); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return float64(mib) / time.Since(start).Seconds(), nil
}

func procStatusKiB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key+":") {
			if f := strings.Fields(line); len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

type result struct {
	name    string
	records int
	bytes   int64
	elapsed time.Duration
	// CPU time the broker and this process (the franz-go client) used
	// during the run.
	brokerCPU, clientCPU time.Duration
}

// procCPU is a process' user+system CPU time from /proc/<pid>/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// measured runs fn and fills in the CPU both processes used.
func measured(brokerPID int, fn func() (result, error)) (result, error) {
	b0, c0 := procCPU(brokerPID), procCPU(os.Getpid())
	r, err := fn()
	r.brokerCPU, r.clientCPU = procCPU(brokerPID)-b0, procCPU(os.Getpid())-c0
	return r, err
}

func (r result) rate() float64 { return float64(r.records) / r.elapsed.Seconds() }
func (r result) mibs() float64 { return float64(r.bytes) / (1 << 20) / r.elapsed.Seconds() }

func produce(ctx context.Context, o options, addr, topic string, n, size int) (result, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(1 << 20),
		kgo.MaxBufferedRecords(1 << 20), kgo.ProducerLinger(o.linger)}
	if o.roundRobin {
		opts = append(opts, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	}
	if !o.idempotent {
		// franz-go keeps an idempotent producer's requests in flight itself
		// (at most 5, as Kafka requires).
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(o.inflight))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	value := make([]byte, size)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
		return result{}, fmt.Errorf("brokerbench: warm-up produce: %w", err)
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	cb := func(_ *kgo.Record, err error) {
		if err != nil && failed.Add(1) == 1 {
			firstErr.Store(err)
		}
	}
	start := time.Now()
	for range n {
		cl.Produce(ctx, &kgo.Record{Value: value}, cb)
	}
	if err := cl.Flush(ctx); err != nil {
		return result{}, err
	}
	r := result{name: fmt.Sprintf("produce %d B", size), records: n, bytes: int64(n) * int64(size), elapsed: time.Since(start)}
	if f := failed.Load(); f > 0 {
		return r, fmt.Errorf("brokerbench: %d records failed: %v", f, firstErr.Load())
	}
	return r, nil
}

func consume(ctx context.Context, addr, topic string, n int) (result, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(16<<20))
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	start := time.Now()
	got := 0
	var bytes int64
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return result{}, fmt.Errorf("brokerbench: consumed %d of %d records: %w", got, n, err)
		}
		fs.EachError(func(t string, p int32, err error) {
			progress("fetch error %s/%d: %v", t, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			got++
			bytes += int64(len(r.Value))
		})
	}
	return result{name: "consume 100 B", records: got, bytes: bytes, elapsed: time.Since(start)}, nil
}

func run(o options) error {
	dir := o.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "brokerbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	zkPort, err := freePort()
	if err != nil {
		return err
	}
	zkCfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(zkCfg, []byte(fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmetricsProvider.httpPort=-1\n",
		filepath.Join(dir, "zk"), zkPort)), 0o644); err != nil {
		return err
	}
	zkd, _, err := startReady(o.zkdBin, []string{"start-foreground", zkCfg}, filepath.Join(dir, "zkd.log"), "ZKD READY client=")
	if err != nil {
		return err
	}
	defer zkd.stop()
	props := filepath.Join(dir, "server.properties")
	logDir := filepath.Join(dir, "kafka-logs")
	if err := os.WriteFile(props, []byte(fmt.Sprintf("broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s\nzookeeper.connect=127.0.0.1:%d/bench\nmetrics.port=-1\noffsets.topic.replication.factor=1\nnum.partitions=%d\n",
		logDir, zkPort, o.partitions)), 0o644); err != nil {
		return err
	}
	broker, addr, err := startReady(o.brokerdBin, []string{"start", props}, filepath.Join(dir, "brokerd.log"), "BROKERD READY listener=")
	if err != nil {
		return err
	}
	defer broker.stop()
	pid := broker.cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	adminCl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	adm := kadm.NewClient(adminCl)
	for _, t := range []string{"b100", "b1k"} {
		res, err := adm.CreateTopic(ctx, int32(o.partitions), 1, nil, t)
		if err != nil || res.Err != nil {
			return fmt.Errorf("brokerbench: create %s: %v %v", t, err, res.Err)
		}
	}
	adminCl.Close()
	startRSS := procStatusKiB(pid, "VmRSS")

	diskMiB := o.diskMiB
	if diskMiB <= 0 {
		diskMiB = max(64, (o.records1k*1024+(1<<20)-1)>>20)
	}
	progress("producing %d records of 100 B", o.records100)
	p100, err := measured(pid, func() (result, error) { return produce(ctx, o, addr, "b100", o.records100, 100) })
	if err != nil {
		return err
	}
	progress("%.0f records/s", p100.rate())
	progress("disk: writing %d MiB in 1 MiB blocks + fsync under %s", diskMiB, dir)
	cached, diskBefore, err := diskBandwidth(dir, diskMiB)
	if err != nil {
		return fmt.Errorf("brokerbench: disk bandwidth: %w", err)
	}
	progress("disk: %.0f MiB/s with fsync, %.0f MiB/s into the page cache", diskBefore, cached)
	progress("producing %d records of 1 KiB", o.records1k)
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	p1k, err := measured(pid, func() (result, error) { return produce(ctx, o, addr, "b1k", o.records1k, 1024) })
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	progress("%.0f MiB/s", p1k.mibs())
	progress("disk: writing %d MiB again, then with O_DIRECT", diskMiB)
	cachedAfter, diskAfter, err := diskBandwidth(dir, diskMiB)
	if err != nil {
		return fmt.Errorf("brokerbench: disk bandwidth: %w", err)
	}
	direct, err := directBandwidth(dir, diskMiB)
	if err != nil {
		return fmt.Errorf("brokerbench: disk bandwidth with O_DIRECT (a file system without O_DIRECT: pass -dir elsewhere): %w", err)
	}
	progress("disk: %.0f MiB/s with fsync, %.0f MiB/s with O_DIRECT", diskAfter, direct)
	disk := max(diskBefore, diskAfter, direct)
	cached = max(cached, cachedAfter)
	progress("consuming %d records of 100 B", o.records100+1)
	c100, err := measured(pid, func() (result, error) { return consume(ctx, addr, "b100", o.records100+1) })
	if err != nil {
		return err
	}
	progress("%.0f records/s", c100.rate())
	peak, after := procStatusKiB(pid, "VmHWM"), procStatusKiB(pid, "VmRSS")

	load, _ := os.ReadFile("/proc/loadavg")
	var b strings.Builder
	acks := "acks=1"
	if o.idempotent {
		acks = "acks=all, idempotent"
	}
	fmt.Fprintf(&b, "\nbrokerbench, %s, %d CPUs, load average %s, %d partitions, no compression, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "), o.partitions, acks)
	fmt.Fprintf(&b, "| %-26s | %10s | %14s | %8s | %20s | %10s | %10s | %16s |\n", "run", "records", "records/s", "MiB/s", "target", "broker CPU", "client CPU", "rec/broker CPU-s")
	fmt.Fprintf(&b, "|----------------------------|-----------:|---------------:|---------:|----------------------|-----------:|-----------:|-----------------:|\n")
	row := func(r result, target string) {
		perCPU := 0.0
		if r.brokerCPU > 0 {
			perCPU = float64(r.records) / r.brokerCPU.Seconds()
		}
		fmt.Fprintf(&b, "| %-26s | %10d | %14.0f | %8.1f | %20s | %9.0f%% | %9.0f%% | %16.0f |\n", r.name, r.records, r.rate(), r.mibs(), target,
			100*r.brokerCPU.Seconds()/r.elapsed.Seconds(), 100*r.clientCPU.Seconds()/r.elapsed.Seconds(), perCPU)
	}
	row(p100, ">= 1,000,000 rec/s")
	row(p1k, fmt.Sprintf(">= %.0f MiB/s (80%%)", 0.8*disk))
	row(c100, ">= 2,000,000 rec/s")
	fmt.Fprintf(&b, "\n| %-44s | %10s |\n", "measure", "value")
	fmt.Fprintf(&b, "|----------------------------------------------|-----------:|\n")
	fmt.Fprintf(&b, "| %-44s | %10.0f |\n", fmt.Sprintf("disk MiB/s, %d MiB + fsync, before", diskMiB), diskBefore)
	fmt.Fprintf(&b, "| %-44s | %10.0f |\n", fmt.Sprintf("disk MiB/s, %d MiB + fsync, after", diskMiB), diskAfter)
	fmt.Fprintf(&b, "| %-44s | %10.0f |\n", fmt.Sprintf("disk MiB/s, %d MiB O_DIRECT, after", diskMiB), direct)
	fmt.Fprintf(&b, "| %-44s | %10.0f |\n", "disk sequential write MiB/s (highest)", disk)
	fmt.Fprintf(&b, "| %-44s | %9.0f%% |\n", "1 KiB produce / disk bandwidth", 100*p1k.mibs()/disk)
	fmt.Fprintf(&b, "| %-44s | %10.0f |\n", "page-cache write MiB/s (1 MiB, no fsync)", cached)
	fmt.Fprintf(&b, "| %-44s | %9.0f%% |\n", "1 KiB produce / page-cache write rate", 100*p1k.mibs()/cached)
	fmt.Fprintf(&b, "| %-44s | %10.1f |\n", "broker RSS after start MiB", float64(startRSS)/1024)
	fmt.Fprintf(&b, "| %-44s | %10.1f |\n", "broker peak RSS MiB (VmHWM)", float64(peak)/1024)
	fmt.Fprintf(&b, "| %-44s | %10.1f |\n", "broker RSS after the runs MiB", float64(after)/1024)
	fmt.Print(b.String())
	if o.markdown != "" {
		f, err := os.OpenFile(o.markdown, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.WriteString(b.String()); err != nil {
			return err
		}
	}
	if p100.records == 0 {
		return errors.New("brokerbench: nothing produced")
	}
	return nil
}
