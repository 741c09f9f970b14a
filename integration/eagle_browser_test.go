package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func needChromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	skipOrFail(t, "chromium is not installed (apt-get install chromium)")
	return ""
}

// screenshotDir is $EAGLE_SCREENSHOT_DIR (kept after the run) or a
// temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("EAGLE_SCREENSHOT_DIR"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// A real browser (Debian's chromium driven by chromedp) on eagle: the
// generated first admin password, the forced change at first login, the
// overview, creating a topic through the form and its confirmation, the
// message browser, and a group's lag.
func TestEagleBrowser(t *testing.T) {
	chromium := needChromium(t)
	zks := StartServer(t, kindZkd, ServerOptions{})
	connect := zks.Addr() + "/browser"
	b1 := startBrokerd(t, 1, connect, "num.partitions=3")
	e := startEagle(t, fmt.Sprintf("efak.zk.cluster.alias=prod\nprod.zk.list=%s\neagle.collect.interval=1s\n", connect))
	m := regexp.MustCompile(`EAGLE ADMIN user=admin password=(\S+)`).FindStringSubmatch(e.Logs())
	require.NotNil(t, m, "eagle printed no first admin password:\n%s", e.Logs())
	firstPassword := m[1]

	// Data for the pages: records and a group that read part of them.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr), kgo.AllowAutoTopicCreation())
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i := range 60 {
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "payments", Key: []byte(fmt.Sprintf("p%d", i)),
			Value: []byte(fmt.Sprintf(`{"id":%d,"amount":%d}`, i, 10*i))}).FirstErr())
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr), kgo.ConsumerGroup("ledger"), kgo.ConsumeTopics("payments"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	require.NoError(t, err)
	for read := 0; read < 25; {
		fs := consumer.PollRecords(ctx, 25-read)
		require.NoError(t, fs.Err())
		read += fs.NumRecords()
		require.NoError(t, consumer.CommitUncommittedOffsets(ctx))
	}
	consumer.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// The browser lives as long as the context of the first action: start
	// it on bctx itself, not on a per-step timeout context.
	require.NoError(t, chromedp.Do(bctx))
	dir := screenshotDir(t)
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		})
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(c, steps...), what)
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		c, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Text(sel))
		require.NoError(t, err, "text of %s", sel)
		return strings.TrimSpace(v)
	}

	// Log in with the generated password; eagle demands a new one.
	do("login", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.ID("user")), shot("eagle-login"),
		chromedp.SendKeys(chromedp.ID("user"), "admin"), chromedp.SendKeys(chromedp.ID("password"), firstPassword),
		chromedp.Click(chromedp.ID("login")), chromedp.WaitVisible(chromedp.CSS(`input[name="new"]`)))
	require.Equal(t, "Change password", text("h1"))
	do("password change", chromedp.SendKeys(chromedp.CSS(`input[name="old"]`), firstPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name="new"]`), "browser-pass-1"),
		chromedp.SendKeys(chromedp.CSS(`input[name="again"]`), "browser-pass-1"), chromedp.Submit(chromedp.CSS(`input[name="again"]`)),
		chromedp.WaitVisible(chromedp.ID("verdict")))

	// Overview: wait for the group's window to fill so the verdict has its reason.
	var verdict, reasons string
	deadline := time.Now().Add(40 * time.Second)
	for {
		do("overview", chromedp.Navigate(e.URL+"/?cluster=prod"), chromedp.WaitVisible(chromedp.ID("verdict")))
		verdict, reasons = text("#verdict"), text("#reasons")
		if strings.Contains(reasons, "group ledger is STOP") || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	require.Equal(t, "yellow", strings.ToLower(verdict), reasons)
	require.Contains(t, reasons, "group ledger is STOP")
	do("overview screenshot", shot("eagle-overview"))

	// Create a topic through the form; the confirmation page comes first.
	do("create topic", chromedp.Navigate(e.URL+"/topics?cluster=prod"), chromedp.WaitVisible(chromedp.ID("topic-name")),
		chromedp.SendKeys(chromedp.ID("topic-name"), "browser-orders"), chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(chromedp.ID("confirm")), shot("eagle-confirm"), chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("partitions")))
	require.Equal(t, "Topic browser-orders", text("h1"))
	topics, err := kadm.NewClient(cl).ListTopics(ctx, "browser-orders")
	require.NoError(t, err)
	require.True(t, topics.Has("browser-orders"))

	// The message browser finds a record by its value.
	do("browse", chromedp.Navigate(e.URL+"/topics/payments/messages?cluster=prod&seek=earliest&value=%22amount%22%3A420"),
		chromedp.WaitVisible(chromedp.ID("messages")), shot("eagle-messages"))
	require.Contains(t, text("#messages tbody"), `{"id":42,"amount":420}`)

	// The group's lag, as kadm computes it over the partitions with commits.
	lags, err := kadm.NewClient(cl).Lag(ctx, "ledger")
	require.NoError(t, err)
	var want int64
	for _, l := range lags["ledger"].Lag.Sorted() {
		if l.Commit.At >= 0 {
			want += l.Lag
		}
	}
	require.Positive(t, want)
	do("group", chromedp.Navigate(e.URL+"/groups/ledger?cluster=prod"), chromedp.WaitVisible(chromedp.ID("group-lag")), shot("eagle-group"))
	require.Equal(t, fmt.Sprint(want), text("#group-lag"))
	do("topic page", chromedp.Navigate(e.URL+"/topics/payments?cluster=prod"), chromedp.WaitVisible(chromedp.ID("partitions")), shot("eagle-topic"))
	do("zookeeper", chromedp.Navigate(e.URL+"/zookeeper?cluster=prod"), chromedp.WaitVisible(chromedp.ID("zk")), shot("eagle-zookeeper"))
	do("history", chromedp.Navigate(e.URL+"/history?cluster=prod"), chromedp.WaitVisible(chromedp.CSS("svg.chart")), shot("eagle-history"))
	t.Logf("screenshots in %s", dir)
}
