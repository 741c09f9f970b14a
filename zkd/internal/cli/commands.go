package cli

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-zookeeper/zk"
)

// command is one zkCli.sh command: its usage after the name (as
// ZooKeeperMain's usage() prints it), its options in commons-cli
// PosixParser style, and the minimum number of words including the name.
type command struct {
	usage   string
	flags   string // options without a value
	valued  string // options with a value
	minArgs int
	online  bool // needs a live session (ZooKeeperMain prints "Not connected" otherwise)
	run     func(sh *shell, c *call) error
}

// call is a parsed command line.
type call struct {
	name string
	args []string // positional words, args[0] is the command name
	opts map[byte]string
}

func (c *call) has(o byte) bool { _, ok := c.opts[o]; return ok }

var commands map[string]*command

func init() {
	commands = map[string]*command{
		"addWatch":             {usage: "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE", valued: "m", minArgs: 2, online: true, run: cmdAddWatch},
		"addauth":              {usage: "scheme auth", minArgs: 2, online: true, run: cmdAddAuth},
		"close":                {usage: "", run: cmdClose},
		"connect":              {usage: "host:port", run: cmdConnect},
		"create":               {usage: "[-s] [-e] [-c] [-t ttl] path [data] [acl]", flags: "sec", valued: "t", minArgs: 2, online: true, run: cmdCreate},
		"delete":               {usage: "[-v version] path", valued: "v", minArgs: 2, online: true, run: cmdDelete},
		"deleteall":            {usage: "path [-b batch size]", valued: "b", minArgs: 2, online: true, run: cmdDeleteAll},
		"get":                  {usage: "[-s] [-w] path", flags: "sw", minArgs: 2, online: true, run: cmdGet},
		"getAcl":               {usage: "[-s] path", flags: "s", minArgs: 2, online: true, run: cmdGetACL},
		"getAllChildrenNumber": {usage: "path", minArgs: 2, online: true, run: cmdGetAllChildrenNumber},
		"getEphemerals":        {usage: "path", online: true, run: cmdGetEphemerals},
		"redo":                 {usage: "cmdno", run: cmdRedo},
		"history":              {usage: "", run: cmdHistory},
		"ls":                   {usage: "[-s] [-w] [-R] path", flags: "swR", minArgs: 2, online: true, run: cmdLs},
		"printwatches":         {usage: "on|off", run: cmdPrintWatches},
		"quit":                 {usage: "", run: func(*shell, *call) error { return nil }},
		"set":                  {usage: "[-s] [-v version] path data", flags: "s", valued: "v", minArgs: 3, online: true, run: cmdSet},
		"setAcl":               {usage: "[-s] [-v version] [-R] path acl", flags: "sR", valued: "v", minArgs: 3, online: true, run: cmdSetACL},
		"stat":                 {usage: "[-w] path", flags: "w", minArgs: 2, online: true, run: cmdStat},
		"sync":                 {usage: "path", minArgs: 2, online: true, run: cmdSync},
		"whoami":               {usage: "", online: true, run: cmdWhoAmI},
	}
}

func (sh *shell) usage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("ZooKeeper -server host:port -client-configuration properties-file cmd args\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%s %s\n", n, commands[n].usage)
	}
	fmt.Fprint(sh.err, b.String())
}

// run dispatches one command line (words, the command first).
func (sh *shell) run(words []string) error {
	if len(words) == 0 {
		sh.usage()
		return fail("No command entered")
	}
	name := words[0]
	if name == "help" {
		// Not a zkCli.sh 3.8 command (it prints the usage as for any unknown
		// word); here it prints the usage and succeeds.
		sh.usage()
		return nil
	}
	cmd, ok := commands[name]
	if !ok {
		sh.usage()
		return &cliError{msg: "Command not found: Command not found " + name, code: exitNotFound}
	}
	if cmd.online && !sh.alive() {
		fmt.Fprintln(sh.out, "Not connected")
		return nil
	}
	c, err := parseCall(cmd, words)
	if err != nil {
		return err
	}
	if len(c.args) < cmd.minArgs {
		return fail("%s %s", name, cmd.usage)
	}
	return cmd.run(sh, c)
}

func (sh *shell) alive() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.conn != nil && !sh.closed
}

// parseCall parses options the way commons-cli's PosixParser does: options
// may come anywhere, "-sw" bursts into -s -w, and a valued option takes the
// rest of its word or the next word.
func parseCall(cmd *command, words []string) (*call, error) {
	c := &call{name: words[0], args: []string{words[0]}, opts: map[byte]string{}}
	for i := 1; i < len(words); i++ {
		w := words[i]
		if len(w) < 2 || w[0] != '-' {
			c.args = append(c.args, w)
			continue
		}
		if w == "--" {
			c.args = append(c.args, words[i+1:]...)
			break
		}
		for j := 1; j < len(w); j++ {
			o := w[j]
			switch {
			case strings.IndexByte(cmd.flags, o) >= 0:
				c.opts[o] = ""
			case strings.IndexByte(cmd.valued, o) >= 0:
				if j+1 < len(w) {
					c.opts[o] = w[j+1:]
				} else if i+1 < len(words) {
					i++
					c.opts[o] = words[i]
				} else {
					return nil, fail("org.apache.commons.cli.MissingArgumentException: Missing argument for option: %c", o)
				}
				j = len(w)
			default:
				if j == 1 {
					return nil, fail("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: %s", w)
				}
				return nil, fail("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -%c", o)
			}
		}
	}
	return c, nil
}

// client waits for the session (commands fail locally before this, so a
// malformed command prints no connection event, as with zkCli.sh) and
// returns it, or ConnectionLoss for path after the session timeout.
// target checks the command's path argument (args[1]) and returns it with a
// connected client: the opening of every single-path command.
func (sh *shell) target(c *call) (string, *zk.Conn, error) {
	p := c.args[1]
	if err := checkPath(p, false); err != nil {
		return "", nil, err
	}
	conn, err := sh.client(p)
	return p, conn, err
}

func (sh *shell) client(path string) (*zk.Conn, error) {
	if !sh.waitConnected() {
		return nil, fail("%s", keeperMessage(zk.ErrNoServer, path))
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.conn == nil {
		return nil, fail("%s", keeperMessage(zk.ErrNoServer, path))
	}
	return sh.conn, nil
}

// checkPath validates a client path like Apache's PathUtils and wraps the
// message as MalformedPathException prints it.
func checkPath(p string, sequential bool) error {
	if err := validatePath(p, sequential); err != nil {
		return fail("%s", err.Error())
	}
	return nil
}

func version(c *call, def int32) (int32, error) {
	v, ok := c.opts['v']
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fail("java.lang.NumberFormatException: For input string: %q", v)
	}
	return int32(n), nil
}

func cmdLs(sh *shell, c *call) error {
	p, conn, err := sh.target(c)
	if err != nil {
		return err
	}
	watch := c.has('w')
	if c.has('R') {
		if _, _, err := sh.getData(conn, p, watch); err != nil {
			return fail("%s", keeperMessage(err, p))
		}
		fmt.Fprintln(sh.out, p)
		return sh.lsRecursive(conn, p, watch)
	}
	var children []string
	var stat *zk.Stat
	if watch {
		children, stat, _, err = conn.ChildrenW(sh.full(p))
	} else {
		children, stat, err = conn.Children(sh.full(p))
	}
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	sorted := append([]string(nil), children...)
	sort.Strings(sorted)
	fmt.Fprintf(sh.out, "[%s]\n", strings.Join(sorted, ", "))
	if c.has('s') {
		printStat(sh.out, stat)
	}
	return nil
}

// lsRecursive is ZKUtil.visitSubTreeDFS: a node's children (sorted) are
// printed, then each child's subtree.
func (sh *shell) lsRecursive(conn *zk.Conn, p string, watch bool) error {
	var children []string
	var err error
	if watch {
		children, _, _, err = conn.ChildrenW(sh.full(p))
	} else {
		children, _, err = conn.Children(sh.full(p))
	}
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	sort.Strings(children)
	join := func(child string) string {
		if p == "/" {
			return "/" + child
		}
		return p + "/" + child
	}
	for _, ch := range children {
		fmt.Fprintln(sh.out, join(ch))
	}
	for _, ch := range children {
		if err := sh.lsRecursive(conn, join(ch), watch); err != nil {
			return err
		}
	}
	return nil
}

func (sh *shell) getData(conn *zk.Conn, p string, watch bool) ([]byte, *zk.Stat, error) {
	if watch {
		data, stat, _, err := conn.GetW(sh.full(p))
		return data, stat, err
	}
	return conn.Get(sh.full(p))
}

func cmdGet(sh *shell, c *call) error {
	p, conn, err := sh.target(c)
	if err != nil {
		return err
	}
	data, stat, err := sh.getData(conn, p, c.has('w'))
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	if data == nil {
		fmt.Fprintln(sh.out, "null")
	} else {
		fmt.Fprintln(sh.out, string(data))
	}
	if c.has('s') {
		printStat(sh.out, stat)
	}
	return nil
}

func cmdStat(sh *shell, c *call) error {
	p, conn, err := sh.target(c)
	if err != nil {
		return err
	}
	var ok bool
	var stat *zk.Stat
	if c.has('w') {
		ok, stat, _, err = conn.ExistsW(sh.full(p))
	} else {
		ok, stat, err = conn.Exists(sh.full(p))
	}
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	if !ok {
		return fail("Node does not exist: %s", p)
	}
	printStat(sh.out, stat)
	return nil
}

func cmdCreate(sh *shell, c *call) error {
	hasE, hasS, hasC, hasT := c.has('e'), c.has('s'), c.has('c'), c.has('t')
	if hasC && (hasE || hasS) {
		return fail("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	}
	var ttl int64
	if hasT {
		n, err := strconv.ParseInt(c.opts['t'], 10, 64)
		if err != nil {
			return fail("-t argument must be a long value")
		}
		ttl = n
	}
	if hasT && hasE {
		return fail("TTLs cannot be used with Ephemeral znodes")
	}
	if hasT && hasC {
		return fail("TTLs cannot be used with Container znodes")
	}
	var flags int32
	switch {
	case hasE && hasS:
		flags = zk.FlagEphemeral | zk.FlagSequence
	case hasE:
		flags = zk.FlagEphemeral
	case hasS && hasT:
		flags = zk.FlagPersistentSequentialWithTTL
	case hasS:
		flags = zk.FlagSequence
	case hasC:
		flags = zk.FlagContainer
	case hasT:
		flags = zk.FlagTTL
	}
	if hasT && (ttl <= 0 || ttl > 0xFFFFFFFFFF) {
		// EphemeralType.TTL.toEphemeralOwner's check.
		return fail("ttl must be positive and cannot be larger than: %d", int64(0xFFFFFFFFFF))
	}
	p := c.args[1]
	if err := checkPath(p, hasS); err != nil {
		return err
	}
	var data []byte
	if len(c.args) > 2 {
		data = []byte(c.args[2])
	}
	acl := zk.WorldACL(zk.PermAll)
	if len(c.args) > 3 {
		acl = sh.parseACL(c.args[3])
	}
	if len(acl) == 0 {
		// The Java client refuses an empty ACL before sending, without a path.
		fmt.Fprintln(sh.err, "KeeperErrorCode = InvalidACL")
		return fail("Acl is not valid : null")
	}
	conn, err := sh.client(p)
	if err != nil {
		return err
	}
	var created string
	switch {
	case hasT:
		created, err = conn.CreateTTL(sh.full(p), data, flags, acl, time.Duration(ttl)*time.Millisecond)
	case hasC:
		created, err = conn.CreateContainer(sh.full(p), data, flags, acl)
	default:
		created, err = conn.Create(sh.full(p), data, flags, acl)
	}
	if err != nil {
		if errors.Is(err, zk.ErrInvalidACL) {
			fmt.Fprintln(sh.err, "KeeperErrorCode = InvalidACL for "+p)
		}
		return fail("%s", keeperMessage(err, p))
	}
	fmt.Fprintf(sh.err, "Created %s\n", sh.strip(created))
	return nil
}

func cmdSet(sh *shell, c *call) error {
	p, data := c.args[1], c.args[2]
	if err := checkPath(p, false); err != nil {
		return err
	}
	v, err := version(c, -1)
	if err != nil {
		return err
	}
	conn, err := sh.client(p)
	if err != nil {
		return err
	}
	stat, err := conn.Set(sh.full(p), []byte(data), v)
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	if c.has('s') {
		printStat(sh.out, stat)
	}
	return nil
}

func cmdDelete(sh *shell, c *call) error {
	p := c.args[1]
	if err := checkPath(p, false); err != nil {
		return err
	}
	v, err := version(c, -1)
	if err != nil {
		return err
	}
	conn, err := sh.client(p)
	if err != nil {
		return err
	}
	if err := conn.Delete(sh.full(p), v); err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	return nil
}

// cmdDeleteAll is ZKUtil.deleteRecursive with batches of multi deletes
// (default 1000), leaves first.
func cmdDeleteAll(sh *shell, c *call) error {
	p := c.args[1]
	if err := checkPath(p, false); err != nil {
		return err
	}
	batch := 1000
	if b, ok := c.opts['b']; ok {
		n, err := strconv.Atoi(b)
		if err != nil {
			return fail("java.lang.NumberFormatException: For input string: %q", b)
		}
		batch = n
	}
	conn, err := sh.client(p)
	if err != nil {
		return err
	}
	tree := []string{p}
	for i := 0; i < len(tree); i++ {
		children, _, err := conn.Children(sh.full(tree[i]))
		if err != nil {
			return fail("%s", keeperMessage(err, tree[i]))
		}
		for _, ch := range children {
			if tree[i] == "/" {
				tree = append(tree, "/"+ch)
			} else {
				tree = append(tree, tree[i]+"/"+ch)
			}
		}
	}
	if batch <= 0 {
		for i := len(tree) - 1; i >= 0; i-- {
			if err := conn.Delete(sh.full(tree[i]), -1); err != nil {
				return fail("%s", keeperMessage(err, tree[i]))
			}
		}
		return nil
	}
	var ops []any
	for i := len(tree) - 1; i >= 0; i-- {
		ops = append(ops, &zk.DeleteRequest{Path: sh.full(tree[i]), Version: -1})
		if len(ops) == batch || i == 0 {
			if _, err := conn.Multi(ops...); err != nil {
				// ZKUtil's batched delete only reports failure; zkCli.sh prints nothing more.
				return &cliError{msg: keeperMessage(err, p), code: exitError}
			}
			ops = nil
		}
	}
	return nil
}

func cmdGetACL(sh *shell, c *call) error {
	p, conn, err := sh.target(c)
	if err != nil {
		return err
	}
	acl, stat, err := conn.GetACL(sh.full(p))
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	for _, a := range acl {
		fmt.Fprintf(sh.out, "%s: %s\n", idString(a.Scheme, a.ID), permString(a.Perms))
	}
	if c.has('s') {
		printStat(sh.out, stat)
	}
	return nil
}

func cmdSetACL(sh *shell, c *call) error {
	p := c.args[1]
	if err := checkPath(p, false); err != nil {
		return err
	}
	acl := sh.parseACL(c.args[2])
	v, err := version(c, -1)
	if err != nil {
		return err
	}
	conn, err := sh.client(p)
	if err != nil {
		return err
	}
	if c.has('R') {
		tree := []string{p}
		for i := 0; i < len(tree); i++ {
			children, _, err := conn.Children(sh.full(tree[i]))
			if err != nil {
				return fail("%s", keeperMessage(err, tree[i]))
			}
			for _, ch := range children {
				if tree[i] == "/" {
					tree = append(tree, "/"+ch)
				} else {
					tree = append(tree, tree[i]+"/"+ch)
				}
			}
		}
		for _, node := range tree {
			if _, err := conn.SetACL(sh.full(node), acl, v); err != nil {
				return fail("%s", keeperMessage(err, node))
			}
		}
		return nil
	}
	stat, err := conn.SetACL(sh.full(p), acl, v)
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	if c.has('s') {
		printStat(sh.out, stat)
	}
	return nil
}

func cmdAddAuth(sh *shell, c *call) error {
	var auth []byte
	if len(c.args) > 2 {
		auth = []byte(c.args[2])
	}
	conn, err := sh.client("")
	if err != nil {
		return err
	}
	if err := conn.AddAuth(c.args[1], auth); err != nil {
		return fail("%s", keeperMessage(err, ""))
	}
	sh.mu.Lock()
	sh.auths = append(sh.auths, authInfo{scheme: c.args[1], auth: auth})
	side := sh.side
	sh.mu.Unlock()
	if side != nil {
		if err := side.addAuth(c.args[1], auth); err != nil {
			return fail("%s", keeperMessage(err, ""))
		}
	}
	return nil
}

func cmdSync(sh *shell, c *call) error {
	p, conn, err := sh.target(c)
	if err != nil {
		return err
	}
	if _, err := conn.Sync(sh.full(p)); err != nil {
		code, ok := errorCode(err)
		if !ok {
			return fail("%s", keeperMessage(err, p))
		}
		fmt.Fprintf(sh.out, "Sync has failed. rc=%d\n", code)
		return nil
	}
	fmt.Fprintln(sh.out, "Sync is OK")
	return nil
}

func cmdAddWatch(sh *shell, c *call) error {
	mode := int32(1) // PERSISTENT_RECURSIVE
	if m, ok := c.opts['m']; ok {
		switch m {
		case "PERSISTENT":
			mode = 0
		case "PERSISTENT_RECURSIVE":
			mode = 1
		default:
			return fail("addWatch %s", commands["addWatch"].usage)
		}
	}
	p := c.args[1]
	if err := checkPath(p, false); err != nil {
		return err
	}
	if _, err := sh.client(p); err != nil {
		return err
	}
	side, err := sh.sideSession()
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	if err := side.addWatch(sh.full(p), mode); err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	return nil
}

func cmdWhoAmI(sh *shell, c *call) error {
	if _, err := sh.client(""); err != nil {
		return err
	}
	side, err := sh.sideSession()
	if err != nil {
		return fail("%s", keeperMessage(err, ""))
	}
	infos, err := side.whoAmI()
	if err != nil {
		return fail("%s", keeperMessage(err, ""))
	}
	fmt.Fprintln(sh.out, "Auth scheme: User")
	for _, in := range infos {
		fmt.Fprintf(sh.out, "%s: %s\n", in.AuthScheme, in.User)
	}
	return nil
}

func cmdClose(sh *shell, c *call) error {
	sh.shutdown(true)
	return nil
}

func cmdConnect(sh *shell, c *call) error {
	host := sh.host
	if len(c.args) > 1 {
		host = c.args[1]
	}
	if err := sh.connect(host); err != nil {
		return fail("%s", err.Error())
	}
	sh.waitConnected()
	return nil
}

func cmdGetAllChildrenNumber(sh *shell, c *call) error {
	p := c.args[1]
	if err := checkPath(p, false); err != nil {
		return err
	}
	if _, err := sh.client(p); err != nil {
		return err
	}
	side, err := sh.sideSession()
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	n, err := side.getAllChildrenNumber(sh.full(p))
	if err != nil {
		return fail("%s", keeperMessage(err, p))
	}
	fmt.Fprintln(sh.out, n)
	return nil
}

// cmdGetEphemerals lists the session's ephemeral nodes whose path starts
// with the prefix (getEphemerals' semantics). go-zookeeper has no
// getEphemerals and a second session would have other ephemerals, so the
// tree is walked and each node's ephemeralOwner compared with our session.
func cmdGetEphemerals(sh *shell, c *call) error {
	prefix := "/"
	if len(c.args) > 1 {
		prefix = c.args[1]
	}
	if err := checkPath(prefix, false); err != nil {
		return err
	}
	conn, err := sh.client(prefix)
	if err != nil {
		return err
	}
	sid := conn.SessionID()
	var found []ephemeral
	queue := []string{"/"}
	for len(queue) > 0 {
		node := queue[0]
		queue = queue[1:]
		children, _, err := conn.Children(sh.full(node))
		if errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrNoAuth) {
			// Gone meanwhile, or not readable by us: ephemerals below a node
			// we may not list are not found (the server's getEphemerals
			// checks no ACL; this walk must).
			continue
		}
		if err != nil {
			return fail("%s", keeperMessage(err, prefix))
		}
		for _, ch := range children {
			p := "/" + ch
			if node != "/" {
				p = node + "/" + ch
			}
			queue = append(queue, p)
			if prefix != "/" && !strings.HasPrefix(p, prefix) {
				continue
			}
			ok, stat, err := conn.Exists(sh.full(p))
			if err != nil {
				return fail("%s", keeperMessage(err, prefix))
			}
			if ok && stat.EphemeralOwner == sid {
				found = append(found, ephemeral{path: p, czxid: stat.Czxid})
			}
		}
	}
	fmt.Fprintf(sh.out, "[%s]\n", strings.Join(javaHashSetOrder(found), ", "))
	return nil
}

type ephemeral struct {
	path  string
	czxid int64
}

// javaHashSetOrder orders paths as Apache's server returns them: the
// iteration order of a java.util.HashSet<String> filled in creation order
// (bucket of String.hashCode spread by HashMap.hash, then insertion order
// within a bucket; the table grows by doubling past 3/4 full).
func javaHashSetOrder(eph []ephemeral) []string {
	capacity := 16
	for len(eph) > capacity*3/4 {
		capacity *= 2
	}
	bucket := func(s string) int {
		var h int32
		for _, u := range utf16.Encode([]rune(s)) {
			h = 31*h + int32(u)
		}
		x := uint32(h)
		return int((x ^ (x >> 16)) & uint32(capacity-1))
	}
	sort.SliceStable(eph, func(i, j int) bool {
		bi, bj := bucket(eph[i].path), bucket(eph[j].path)
		if bi != bj {
			return bi < bj
		}
		return eph[i].czxid < eph[j].czxid
	})
	out := make([]string, len(eph))
	for i, e := range eph {
		out[i] = e.path
	}
	return out
}

// cmdRedo runs history entry cmdno again (ZooKeeperMain's redo).
func cmdRedo(sh *shell, c *call) error {
	if len(c.args) < 2 {
		return nil
	}
	i, err := strconv.Atoi(c.args[1])
	if err != nil {
		return fail("java.lang.NumberFormatException: For input string: %q", c.args[1])
	}
	if sh.commandCount <= i || i < 0 {
		return fail("Command index out of range")
	}
	line := sh.history[i]
	words := splitLine(line)
	if len(words) > 0 && words[0] == "redo" {
		return fail("No redoing redos")
	}
	sh.history[sh.commandCount] = line
	return sh.run(words)
}

func cmdHistory(sh *shell, c *call) error {
	for i := sh.commandCount - 10; i <= sh.commandCount; i++ {
		if i < 0 {
			continue
		}
		fmt.Fprintf(sh.out, "%d - %s\n", i, sh.history[i])
	}
	return nil
}

func cmdPrintWatches(sh *shell, c *call) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(c.args) == 1 {
		state := "off"
		if sh.printWatches {
			state = "on"
		}
		fmt.Fprintf(sh.out, "printwatches is %s\n", state)
		return nil
	}
	sh.printWatches = c.args[1] == "on"
	return nil
}
