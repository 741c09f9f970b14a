package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

func TestSplitLine(t *testing.T) {
	for in, want := range map[string][]string{
		"ls /":                      {"ls", "/"},
		"  create   /a  b  ":        {"create", "/a", "b"},
		`create /q "a b c"`:         {"create", "/q", "a b c"},
		`create /q 'x "y" z' acl`:   {"create", "/q", `x "y" z`, "acl"},
		`create /q "unterminated x`: {"create", "/q", `"unterminated`, "x"},
		"":                          nil,
	} {
		assert.Equal(t, want, splitLine(in), in)
	}
}

func TestParseCall(t *testing.T) {
	create := commands["create"]
	c, err := parseCall(create, []string{"create", "-es", "/a", "-t", "100", "data"})
	require.NoError(t, err)
	assert.Equal(t, []string{"create", "/a", "data"}, c.args)
	assert.True(t, c.has('e'))
	assert.True(t, c.has('s'))
	assert.Equal(t, "100", c.opts['t'])

	c, err = parseCall(commands["set"], []string{"set", "/a", "x", "-v5"})
	require.NoError(t, err)
	assert.Equal(t, "5", c.opts['v'])

	_, err = parseCall(commands["get"], []string{"get", "-x", "/a"})
	assert.EqualError(t, err, "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x")
	_, err = parseCall(commands["delete"], []string{"delete", "/a", "-v"})
	assert.EqualError(t, err, "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v")
}

func TestValidatePath(t *testing.T) {
	for p, want := range map[string]string{
		"/":      "",
		"/a/b":   "",
		"":       "Path length must be > 0",
		"a":      "Path must start with / character",
		"/a/":    "Path must not end with / character",
		"/a//b":  `Invalid path string "/a//b" caused by empty node name specified @3`,
		"/a/./b": `Invalid path string "/a/./b" caused by relative paths not allowed @3`,
		"/a/..":  `Invalid path string "/a/.." caused by relative paths not allowed @4`,
		"/a\x01": `Invalid path string "/a` + "\x01" + `" caused by invalid character @2`,
		"/a\x00": `Invalid path string "/a` + "\x00" + `" caused by null character not allowed @2`,
		"/..a":   "",
	} {
		err := validatePath(p, false)
		if want == "" {
			assert.NoError(t, err, p)
		} else {
			assert.EqualError(t, err, want, p)
		}
	}
	assert.NoError(t, validatePath("/a/", true), "sequential creates validate path+\"1\"")
}

func TestACLFormatting(t *testing.T) {
	assert.Equal(t, "'world,'anyone\n", idString("world", "anyone"))
	assert.Equal(t, "'digest,'u:a%2Cb%25\n", idString("digest", "u:a,b%"))
	assert.Equal(t, "cdrwa", permString(zk.PermAll))
	assert.Equal(t, "rw", permString(zk.PermRead|zk.PermWrite))
	assert.Equal(t, "", permString(0))

	var errb bytes.Buffer
	sh := &shell{err: &errb}
	acl := sh.parseACL("world:anyone:rxw,nocolon,digest:u:pw:cd")
	assert.Equal(t, []zk.ACL{
		{Perms: zk.PermRead | zk.PermWrite, Scheme: "world", ID: "anyone"},
		{Perms: zk.PermCreate | zk.PermDelete, Scheme: "digest", ID: "u:pw"},
	}, acl)
	assert.Equal(t, "Unknown perm type: x\nnocolon does not have the form scheme:id:perm\n", errb.String())
}

func TestKeeperMessage(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{zk.ErrNoNode, "Node does not exist: /p"},
		{zk.ErrNodeExists, "Node already exists: /p"},
		{zk.ErrNotEmpty, "Node not empty: /p"},
		{zk.ErrBadVersion, "version No is not valid : /p"},
		{zk.ErrNoAuth, "Insufficient permission : /p"},
		{zk.ErrInvalidACL, "Acl is not valid : /p"},
		{zk.ErrNoChildrenForEphemerals, "Ephemerals cannot have children: /p"},
		{zk.ErrBadArguments, "Arguments are not valid : /p"},
		{zk.ErrNoServer, "KeeperErrorCode = ConnectionLoss for /p"},
		{fmt.Errorf("unknown error: %d", -6), "KeeperErrorCode = Unimplemented for /p"},
		{jute.ErrSessionExpired, "KeeperErrorCode = Session expired for /p"},
		{fmt.Errorf("wrapped: %w", jute.Err(-999)), "KeeperErrorCode = Unknown error -999 for /p"},
		{errors.New("plain"), "plain"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, keeperMessage(tc.err, "/p"), tc.err.Error())
	}
	assert.Equal(t, "KeeperErrorCode = AuthFailed", keeperMessage(zk.ErrAuthFailed, ""))
}

func TestWatchedEventString(t *testing.T) {
	assert.Equal(t, "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x", watchedEvent(3, 3, "/x"))
	assert.Equal(t, "WatchedEvent state:SyncConnected type:None path:null", watchedEvent(3, -1, ""))
	assert.Equal(t, "WatchedEvent state:Expired type:None path:null", watchedEvent(-112, -1, ""))
}

func TestJavaDate(t *testing.T) {
	t.Setenv("TZ", "UTC")
	assert.Equal(t, 28, len(javaDate(0)))
	assert.True(t, strings.HasSuffix(javaDate(0), " 1970"))
}

func TestUsageErrorsWithoutServer(t *testing.T) {
	// Local failures need no server: they are reported before connecting.
	for _, tc := range []struct {
		args []string
		err  string
		code int
	}{
		{[]string{"ls"}, "ls [-s] [-w] [-R] path\n", 1},
		{[]string{"create", "-c", "-e", "/c"}, "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.\n", 1},
		{[]string{"create", "-t", "x", "/c"}, "-t argument must be a long value\n", 1},
		{[]string{"create", "-t", "10", "-e", "/c"}, "TTLs cannot be used with Ephemeral znodes\n", 1},
		{[]string{"get", "nope"}, "Path must start with / character\n", 1},
		{[]string{"addWatch", "-m", "ONCE", "/a"}, "addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE\n", 1},
	} {
		var out, errb bytes.Buffer
		code := Main(append([]string{"-server", "127.0.0.1:1", "-timeout", "200"}, tc.args...), strings.NewReader(""), &out, &errb)
		assert.Equal(t, tc.code, code, "%v", tc.args)
		assert.Equal(t, tc.err, errb.String(), "%v", tc.args)
		assert.Equal(t, "Connecting to 127.0.0.1:1\n", out.String(), "%v", tc.args)
	}
	var out, errb bytes.Buffer
	code := Main([]string{"-server", "127.0.0.1:1", "nosuch"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, 127, code)
	assert.True(t, strings.HasSuffix(errb.String(), "\tsync path\n\twhoami \nCommand not found: Command not found nosuch\n"), errb.String())
	code = Main([]string{"-server"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, 1, code)
	assert.Contains(t, errb.String(), "Error: no argument found for option -server")
}

func FuzzParseReply(f *testing.F) {
	var e jute.Encoder
	(&jute.ReplyHeader{Xid: -1, Zxid: -1}).Encode(&e)
	e.Int(3)
	e.Int(3)
	e.String("/x")
	f.Add(e.Buf)
	f.Add([]byte{})
	f.Add(e.Buf[:10])
	f.Add(jute.Marshal(&jute.ReplyHeader{Xid: 5, Zxid: 9}))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseReply(body)
		if err == nil {
			assert.LessOrEqual(t, len(r.rest), len(body))
		}
		_, _ = decodeClientInfos(body)
	})
}

func TestParseReplyAndClientInfos(t *testing.T) {
	var e jute.Encoder
	(&jute.ReplyHeader{Xid: -1, Zxid: -1}).Encode(&e)
	e.Int(2)
	e.Int(3)
	e.String("/app/x")
	r, err := parseReply(e.Buf)
	require.NoError(t, err)
	assert.Equal(t, int32(2), r.typ)
	assert.Equal(t, int32(3), r.state)
	assert.Equal(t, "/app/x", r.path)
	_, err = parseReply(e.Buf[:14])
	assert.ErrorIs(t, err, zk.ErrConnectionClosed)

	e = jute.Encoder{}
	e.Int(2)
	(&jute.ClientInfo{AuthScheme: "ip", User: "127.0.0.1"}).Encode(&e)
	(&jute.ClientInfo{AuthScheme: "digest", User: "u"}).Encode(&e)
	infos, err := decodeClientInfos(e.Buf)
	require.NoError(t, err)
	assert.Equal(t, []jute.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "u"}}, infos)
	_, err = decodeClientInfos(e.Buf[:9])
	assert.Error(t, err)
}

func TestJavaHashSetOrder(t *testing.T) {
	// "/eph1".hashCode() = 46525283 -> bucket 6 of 16, "/eph2" = 46525284 -> bucket 1:
	// Apache lists [/eph2, /eph1] (seen in TestZkCliInteractiveAgainstApache).
	assert.Equal(t, []string{"/eph2", "/eph1"}, javaHashSetOrder([]ephemeral{{"/eph1", 1}, {"/eph2", 2}}))
	assert.Equal(t, []string{}, javaHashSetOrder(nil))
}
