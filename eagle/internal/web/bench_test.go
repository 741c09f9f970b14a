package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/rs/zerolog"

	"mqstack/eagle/internal/config"
)

// Scale benchmark (the target): 1,000 topics of 10 partitions and
// 200 consumer groups on a real bin/zkd + bin/brokerd (built by `make
// build`), then
//
//	collect   one full collection pass (eagle's whole ZooKeeper + Kafka read)
//	overview  rendering the overview page from the latest pass
//
// and the resident memory of this process (which holds the collector, the
// snapshot and the web server) after the passes. Run with
//
//	go test -run '^$' -bench Scale -benchtime 5x ./eagle/internal/web/
//
// Setting up the cluster takes a while (10,000 partitions); it is done once.
func BenchmarkScale(b *testing.B) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	for _, bin := range []string{"zkd", "brokerd"} {
		if _, err := os.Stat(filepath.Join(root, "bin", bin)); err != nil {
			b.Skipf("bin/%s missing: run `make build` first", bin)
		}
	}
	topics, parts, groups := 1000, 10, 200
	if v, err := strconv.Atoi(os.Getenv("EAGLE_BENCH_TOPICS")); err == nil {
		topics = v
	}
	dir := b.TempDir()
	zkAddr := startProc(b, filepath.Join(root, "bin", "zkd"), "ZKD READY client=", dir, "zk",
		fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=0\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmetricsProvider.httpPort=-1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n", filepath.Join(dir, "zkdata")),
		"start-foreground")
	connect := zkAddr + "/bench"
	brokerAddr := startProc(b, filepath.Join(root, "bin", "brokerd"), "BROKERD READY listener=", dir, "broker",
		fmt.Sprintf("broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s\nzookeeper.connect=%s\nmetrics.port=-1\noffsets.topic.replication.factor=1\noffsets.topic.num.partitions=10\ngroup.initial.rebalance.delay.ms=0\nlog.segment.bytes=1048576\n",
			filepath.Join(dir, "logs"), connect), "start")

	setupStart := time.Now()
	scfg := sarama.NewConfig()
	scfg.Version = sarama.V2_8_0_0
	scfg.Admin.Timeout = 5 * time.Minute
	scfg.Net.ReadTimeout = 5 * time.Minute
	admin, err := sarama.NewClusterAdmin([]string{brokerAddr}, scfg)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	client, err := sarama.NewClient([]string{brokerAddr}, scfg)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	controller, err := client.Controller()
	if err != nil {
		b.Fatal(err)
	}
	// 100 topics per CreateTopics request: the broker writes them together.
	create := func(from, to int) {
		for i := from; i < to; i += 100 {
			req := &sarama.CreateTopicsRequest{Version: 2, Timeout: 5 * time.Minute, TopicDetails: map[string]*sarama.TopicDetail{}}
			for j := i; j < min(i+100, to); j++ {
				req.TopicDetails[fmt.Sprintf("bench-%04d", j)] = &sarama.TopicDetail{NumPartitions: int32(parts), ReplicationFactor: 1}
			}
			resp, err := controller.CreateTopics(req)
			if err != nil {
				b.Fatal(err)
			}
			for name, terr := range resp.TopicErrors {
				if terr.Err != sarama.ErrNoError {
					b.Fatalf("create %s: %v", name, terr.Err)
				}
			}
			b.Logf("%d topics created after %s", min(i+100, to), time.Since(setupStart).Round(time.Second))
		}
	}
	// The groups' topics first, then the groups (while the broker is still
	// quick to elect the offsets topic's leaders), then the rest.
	first := min(groups, topics)
	create(0, first)
	// 200 groups, each with committed offsets on the 10 partitions of one
	// topic; the coordinator may need a moment after the offsets topic is
	// created (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS): retried.
	for g := range groups {
		topic := fmt.Sprintf("bench-%04d", g%first)
		offs := map[string]map[int32]sarama.OffsetAndMetadata{topic: {}}
		for p := range parts {
			offs[topic][int32(p)] = sarama.OffsetAndMetadata{Offset: 0, LeaderEpoch: -1}
		}
		deadline := time.Now().Add(3 * time.Minute)
		for {
			_, err := admin.AlterConsumerGroupOffsets(fmt.Sprintf("group-%03d", g), offs, nil)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal(err)
			}
			_ = client.RefreshCoordinator(fmt.Sprintf("group-%03d", g))
			time.Sleep(500 * time.Millisecond)
		}
	}
	b.Logf("%d groups committed after %s", groups, time.Since(setupStart).Round(time.Second))
	create(first, topics)
	b.Logf("cluster ready in %s: %d topics x %d partitions, %d groups", time.Since(setupStart).Round(time.Second), topics, parts, groups)

	cfg, err := config.Parse("bench.properties", fmt.Sprintf("efak.zk.cluster.alias=bench\nbench.zk.list=%s\nefak.webui.port=0\neagle.webui.host=127.0.0.1\nefak.url=jdbc:sqlite:%s\neagle.collect.interval=1h\neagle.admin.password=bench-password\n",
		connect, filepath.Join(dir, "ke.db")))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := s.clusters[0]
	s.ctx, s.stop = context.WithCancel(context.Background())
	defer s.stop()

	b.Run("collect", func(b *testing.B) {
		for b.Loop() {
			s.pass(c)
		}
		v := c.view()
		if len(v.Snap.Topics) < topics || len(v.Snap.Groups) != groups || v.Snap.KafkaError != "" {
			b.Fatalf("pass saw %d topics, %d groups, kafka error %q", len(v.Snap.Topics), len(v.Snap.Groups), v.Snap.KafkaError)
		}
		b.ReportMetric(float64(len(v.Snap.Topics)), "topics")
		b.ReportMetric(rssMB(), "RSS-MB")
	})
	h := s.auth(RoleViewer, s.overview)
	b.Run("overview", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth("admin", "bench-password")
		// bcrypt on every request would dominate: log in once, reuse the session.
		u, err := s.store.GetUser(context.Background(), "admin")
		if err != nil {
			b.Fatal(err)
		}
		id, _ := s.sessions.create(u)
		req = httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
		for b.Loop() {
			w := httptest.NewRecorder()
			h(w, req)
			if w.Code != 200 {
				b.Fatalf("overview: %d %s", w.Code, w.Body.String())
			}
		}
		b.ReportMetric(rssMB(), "RSS-MB")
	})
	b.Run("topics-page", func(b *testing.B) {
		u, _ := s.store.GetUser(context.Background(), "admin")
		id, _ := s.sessions.create(u)
		req := httptest.NewRequest(http.MethodGet, "/topics", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
		h := s.auth(RoleViewer, s.topics)
		for b.Loop() {
			w := httptest.NewRecorder()
			h(w, req)
			if w.Code != 200 {
				b.Fatalf("topics: %d", w.Code)
			}
		}
	})
}

// rssMB is this process's resident set (VmRSS) in MiB.
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// startProc writes cfg, runs bin <verb> cfg, waits for the ready prefix and
// returns what follows it; the process is stopped at cleanup.
func startProc(b *testing.B, bin, ready, dir, name, cfg, verb string) string {
	path := filepath.Join(dir, name+".cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, verb, path)
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), ready); ok {
				got <- a
			}
		}
	}()
	select {
	case a := <-got:
		return a
	case <-time.After(60 * time.Second):
		log, _ := os.ReadFile(filepath.Join(dir, name+".log"))
		b.Fatalf("%s not ready in 60 s:\n%s", name, log)
		return ""
	}
}
