package integration

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// eagleBinary locates bin/eagle: $EAGLE_BIN, else ../bin/eagle.
func eagleBinary(t testing.TB) string {
	t.Helper()
	p := os.Getenv("EAGLE_BIN")
	if p == "" {
		abs, err := filepath.Abs(filepath.Join("..", "bin", "eagle"))
		require.NoError(t, err)
		p = abs
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("eagle binary not found at %s: run `make build` in the repository root (or set EAGLE_BIN)", p)
	}
	return p
}

// eagleProc is a bin/eagle process started by a test.
type eagleProc struct {
	URL  string // http://127.0.0.1:port
	Dir  string
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

// startEagle writes props (efak.webui.port=0 and the store under the test's
// directory are added) and runs `eagle start` until its ready line. At
// cleanup it sends SIGTERM and requires a clean exit.
func startEagle(t *testing.T, props string) *eagleProc {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "system-config.properties")
	text := props + "\nefak.webui.port=0\neagle.webui.host=127.0.0.1\nefak.url=jdbc:sqlite:" + filepath.Join(dir, "db", "ke.db") + "\n"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	e := &eagleProc{Dir: dir, done: make(chan struct{})}
	e.cmd = exec.Command(eagleBinary(t), "start", path)
	e.cmd.Dir = dir
	e.cmd.Stderr = lockedWriter{&e.mu, &e.logs}
	out, err := e.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, e.cmd.Start())
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			e.mu.Lock()
			e.logs.WriteString(sc.Text() + "\n")
			e.mu.Unlock()
			if a, ok := strings.CutPrefix(sc.Text(), "EAGLE READY http="); ok {
				ready <- a
			}
		}
	}()
	var exitErr error
	go func() { exitErr = e.cmd.Wait(); close(e.done) }()
	t.Cleanup(func() {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.done:
		case <-time.After(20 * time.Second):
			_ = e.cmd.Process.Kill()
			<-e.done
			t.Errorf("eagle did not exit within 20 s of SIGTERM")
		}
		if exitErr != nil {
			t.Errorf("eagle exited with %v after SIGTERM", exitErr)
		}
		if t.Failed() {
			t.Logf("eagle log:\n%s", e.Logs())
		}
	})
	select {
	case a := <-ready:
		e.URL = "http://" + a
	case <-e.done:
		t.Fatalf("eagle exited before its ready line:\n%s", e.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("eagle not ready in 30 s:\n%s", e.Logs())
	}
	return e
}

func (e *eagleProc) Logs() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

// eagleSession is a logged-in browser-like client (cookie jar, no redirects
// followed so tests see them).
type eagleSession struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func eagleLogin(t *testing.T, base, user, password string) *eagleSession {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	s := &eagleSession{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := s.hc.PostForm(base+"/login", url.Values{"user": {user}, "password": {password}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "login as %s", user)
	return s
}

func (s *eagleSession) get(path string, hdr ...string) (int, string, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	require.NoError(s.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.hc.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), resp.Header
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the session's form token from a page.
func (s *eagleSession) csrf() string {
	s.t.Helper()
	code, body, _ := s.get("/alerts")
	require.Equal(s.t, http.StatusOK, code)
	m := csrfRe.FindStringSubmatch(body)
	require.NotNil(s.t, m, "no csrf token on /alerts")
	return m[1]
}

func (s *eagleSession) post(path string, form url.Values) (int, string, http.Header) {
	s.t.Helper()
	resp, err := s.hc.PostForm(s.base+path, form)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), resp.Header
}
