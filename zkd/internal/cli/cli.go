// Package cli is a clone of Apache ZooKeeper 3.8's zkCli.sh
// (org.apache.zookeeper.ZooKeeperMain) on top of github.com/go-zookeeper/zk.
//
//	zkd cli [-server host:port[,host:port][/chroot]] [-timeout ms] [command args...]
//
// With a command it connects, runs it, prints what zkCli.sh prints (data and
// listings on stdout; "Created /x" and errors on stderr) and exits with
// zkCli.sh's exit code (0, 1 for a failed command, 127 for an unknown one).
// Without one it reads command lines from stdin, printing the JLine prompt
// "[zk: host:port(CONNECTED) N] " before each, and prints watch events as they
// arrive ("WATCHER::" then "WatchedEvent state:SyncConnected type:... path:...").
//
// go-zookeeper has no chroot, persistent watches or whoAmI; chroot is done
// here by prefixing paths, and addWatch and whoami run on a second session
// spoken directly with mqstack/proto/jute (see side.go).
package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Exit codes of ZooKeeperMain.
const (
	exitOK          = 0
	exitError       = 1
	exitNotFound    = 127
	defaultServer   = "localhost:2181"
	defaultTimeoutM = 30000
)

// lockedWriter serialises writes from the shell and the event goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type shell struct {
	out, err io.Writer
	timeout  time.Duration

	mu           sync.Mutex // guards the fields below (written by event callbacks)
	conn         *zk.Conn
	hasSession   bool
	closed       bool // closed by close/quit; the session's events are no longer printed
	connected    chan struct{}
	gen          int // connection generation; callbacks of older connections are ignored
	printWatches bool

	host         string // as given to -server or connect, with the chroot
	servers      []string
	chroot       string
	commandCount int
	exitCode     int
	history      map[int]string
	auths        []authInfo
	side         *sideSession // persistent watches (addWatch)
}

type authInfo struct {
	scheme string
	auth   []byte
}

// cliError is a failed command: its message goes to stderr and its code
// becomes the exit code.
type cliError struct {
	msg  string
	code int
}

func (e *cliError) Error() string { return e.msg }

func fail(format string, a ...any) error {
	return &cliError{msg: fmt.Sprintf(format, a...), code: exitError}
}

// Main runs zkCli.sh with args (without the program name) and returns the
// exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var mu sync.Mutex
	sh := &shell{
		out:          lockedWriter{&mu, stdout},
		err:          lockedWriter{&mu, stderr},
		timeout:      defaultTimeoutM * time.Millisecond,
		printWatches: true,
		history:      map[int]string{},
	}
	server := defaultServer
	var command []string
	for i := 0; i < len(args); i++ {
		opt := args[i]
		switch opt {
		case "-server", "-timeout", "-client-configuration":
			if i+1 >= len(args) {
				fmt.Fprintf(sh.err, "Error: no argument found for option %s\n", opt)
				return exitError
			}
			i++
			switch opt {
			case "-server":
				server = args[i]
			case "-timeout":
				ms, err := strconv.Atoi(args[i])
				if err != nil || ms <= 0 {
					fmt.Fprintf(sh.err, "Error: -timeout %q is not a positive number of milliseconds\n", args[i])
					return exitError
				}
				sh.timeout = time.Duration(ms) * time.Millisecond
			}
			continue
		}
		if !strings.HasPrefix(opt, "-") {
			command = args[i:]
			break
		}
		// Other options (-r, ...) are accepted and ignored, like ZooKeeperMain.
	}
	fmt.Fprintf(sh.out, "Connecting to %s\n", server)
	if err := sh.connect(server); err != nil {
		fmt.Fprintln(sh.err, err.Error())
		return exitError
	}
	defer sh.shutdown(false)
	if command != nil {
		sh.process(command)
		return sh.exitCode
	}
	fmt.Fprintln(sh.out, "Welcome to ZooKeeper!")
	fmt.Fprintln(sh.out, "JLine support is enabled")
	sh.waitConnected()
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for {
		fmt.Fprint(sh.out, sh.prompt())
		if !sc.Scan() {
			break
		}
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		sh.history[sh.commandCount] = line
		args := splitLine(line)
		if len(args) > 0 && args[0] == "quit" {
			sh.shutdown(true)
			return sh.exitCode
		}
		sh.process(args)
		sh.commandCount++
	}
	return sh.exitCode
}

// splitLine breaks a command line the way ZooKeeperMain.MyCommandOptions
// does: blank-separated words, and '...' or "..." quoted words (quotes removed).
func splitLine(line string) []string {
	var out []string
	i := 0
	for i < len(line) {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			break
		}
		start := i
		if q := line[i]; q == '"' || q == '\'' {
			if end := strings.IndexByte(line[i+1:], q); end >= 0 {
				out = append(out, line[i+1:i+1+end])
				i += end + 2
				continue
			}
		}
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		out = append(out, line[start:i])
	}
	return out
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// nopLogger silences go-zookeeper's connection logging; zkCli.sh's stdout
// and stderr carry only its own messages.
type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// connect opens a session to host ("h:p[,h:p][/chroot]").
func (sh *shell) connect(host string) error {
	sh.closeConn()
	servers, chroot := host, ""
	if i := strings.IndexByte(host, '/'); i >= 0 {
		servers, chroot = host[:i], host[i:]
		if chroot == "/" {
			chroot = ""
		} else if err := validatePath(chroot, false); err != nil {
			return fmt.Errorf("Invalid chroot path %q in %s: %v", chroot, host, err)
		}
	}
	var list []string
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, ":") {
			s += ":2181"
		}
		list = append(list, s)
	}
	if len(list) == 0 {
		return fmt.Errorf("Invalid server %q: use -server host:port[,host:port][/chroot]", host)
	}
	sh.mu.Lock()
	sh.gen++
	gen := sh.gen
	sh.host, sh.servers, sh.chroot = host, list, chroot
	sh.hasSession, sh.closed = false, false
	sh.connected = make(chan struct{})
	sh.mu.Unlock()
	conn, _, err := zk.Connect(list, sh.timeout,
		zk.WithLogger(nopLogger{}),
		zk.WithEventCallback(func(ev zk.Event) { sh.onEvent(gen, ev) }))
	if err != nil {
		return fmt.Errorf("Cannot connect to %s: %v", host, err)
	}
	sh.mu.Lock()
	sh.conn = conn
	sh.mu.Unlock()
	return nil
}

// onEvent runs on go-zookeeper's receive goroutine: it prints session
// changes and watch notifications as ZooKeeperMain's MyWatcher does.
func (sh *shell) onEvent(gen int, ev zk.Event) {
	sh.mu.Lock()
	if gen != sh.gen || sh.closed {
		sh.mu.Unlock()
		return
	}
	var line string
	switch {
	case ev.Type == zk.EventSession && ev.State == zk.StateHasSession:
		if !sh.hasSession {
			sh.hasSession = true
			line = "WatchedEvent state:SyncConnected type:None path:null"
			defer close(sh.connected)
		}
	case ev.Type == zk.EventSession && ev.State == zk.StateDisconnected:
		if sh.hasSession {
			sh.hasSession = false
			sh.connected = make(chan struct{})
			line = "WatchedEvent state:Disconnected type:None path:null"
		}
	case ev.Type == zk.EventSession && ev.State == zk.StateExpired:
		sh.hasSession = false
		line = "WatchedEvent state:Expired type:None path:null"
	case ev.Type == zk.EventSession && ev.State == zk.StateAuthFailed:
		line = "WatchedEvent state:AuthFailed type:None path:null"
	case ev.Type != zk.EventSession && ev.Type != zk.EventNotWatching:
		line = watchedEvent(int32(ev.State), int32(ev.Type), sh.strip(ev.Path))
	}
	print := sh.printWatches
	sh.mu.Unlock()
	if line != "" && print {
		fmt.Fprintf(sh.out, "\nWATCHER::\n\n%s\n", line)
	}
}

var keeperStates = map[int32]string{
	0: "Disconnected", 3: "SyncConnected", 4: "AuthFailed", 5: "ConnectedReadOnly",
	6: "SaslAuthenticated", -112: "Expired", 7: "Closed",
}

var eventTypes = map[int32]string{
	-1: "None", 1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged", 4: "NodeChildrenChanged",
	5: "DataWatchRemoved", 6: "ChildWatchRemoved", 7: "PersistentWatchRemoved",
}

// watchedEvent is WatchedEvent.toString().
func watchedEvent(state, typ int32, path string) string {
	s, ok := keeperStates[state]
	if !ok {
		s = "Unknown"
	}
	t, ok := eventTypes[typ]
	if !ok {
		t = "None"
	}
	if path == "" {
		path = "null"
	}
	return fmt.Sprintf("WatchedEvent state:%s type:%s path:%s", s, t, path)
}

// waitConnected waits up to the session timeout for a session.
func (sh *shell) waitConnected() bool {
	sh.mu.Lock()
	ch, closed := sh.connected, sh.closed || sh.conn == nil
	sh.mu.Unlock()
	if closed {
		return false
	}
	select {
	case <-ch:
		return true
	case <-time.After(sh.timeout):
		return false
	}
}

// state is ZooKeeper.States as the prompt prints it.
func (sh *shell) state() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	switch {
	case sh.conn == nil || sh.closed:
		return "CLOSED"
	case sh.hasSession:
		return "CONNECTED"
	default:
		return "CONNECTING"
	}
}

func (sh *shell) prompt() string {
	return fmt.Sprintf("[zk: %s(%s) %d] ", sh.host, sh.state(), sh.commandCount)
}

// closeConn closes the current session (if any) without printing.
func (sh *shell) closeConn() {
	sh.mu.Lock()
	conn, side := sh.conn, sh.side
	sh.conn, sh.side = nil, nil
	sh.closed = true
	sh.hasSession = false
	sh.mu.Unlock()
	if side != nil {
		side.close()
	}
	if conn != nil {
		conn.Close()
	}
}

// shutdown closes the session; announce prints the Closed event like
// zkCli.sh's close and quit.
func (sh *shell) shutdown(announce bool) {
	sh.mu.Lock()
	alive := sh.conn != nil && !sh.closed
	print := sh.printWatches
	sh.mu.Unlock()
	sh.closeConn()
	if alive && announce && print {
		fmt.Fprintf(sh.out, "\nWATCHER::\n\n%s\n", "WatchedEvent state:Closed type:None path:null")
	}
}

// full adds the chroot to a client path; strip removes it from a server path.
func (sh *shell) full(p string) string {
	if sh.chroot == "" {
		return p
	}
	if p == "/" {
		return sh.chroot
	}
	return sh.chroot + p
}

func (sh *shell) strip(p string) string {
	if sh.chroot == "" || p == "" {
		return p
	}
	if p == sh.chroot {
		return "/"
	}
	if strings.HasPrefix(p, sh.chroot+"/") {
		return p[len(sh.chroot):]
	}
	return p
}

// process runs one command and records its exit code, printing failures.
func (sh *shell) process(args []string) {
	err := sh.run(args)
	if err == nil {
		sh.exitCode = exitOK
		return
	}
	var ce *cliError
	if errors.As(err, &ce) {
		sh.exitCode = ce.code
		fmt.Fprintln(sh.err, ce.msg)
		return
	}
	sh.exitCode = exitError
	fmt.Fprintln(sh.err, err.Error())
}
