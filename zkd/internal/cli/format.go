package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-zookeeper/zk"

	"mqstack/proto/jute"
)

// javaDate is java.util.Date.toString() in the local time zone.
func javaDate(ms int64) string {
	return time.UnixMilli(ms).Format("Mon Jan 02 15:04:05 MST 2006")
}

// printStat is zkCli.sh's StatPrinter.
func printStat(w io.Writer, s *zk.Stat) {
	if s == nil {
		return
	}
	fmt.Fprintf(w, "cZxid = 0x%x\n", uint64(s.Czxid))
	fmt.Fprintf(w, "ctime = %s\n", javaDate(s.Ctime))
	fmt.Fprintf(w, "mZxid = 0x%x\n", uint64(s.Mzxid))
	fmt.Fprintf(w, "mtime = %s\n", javaDate(s.Mtime))
	fmt.Fprintf(w, "pZxid = 0x%x\n", uint64(s.Pzxid))
	fmt.Fprintf(w, "cversion = %d\n", s.Cversion)
	fmt.Fprintf(w, "dataVersion = %d\n", s.Version)
	fmt.Fprintf(w, "aclVersion = %d\n", s.Aversion)
	fmt.Fprintf(w, "ephemeralOwner = 0x%x\n", uint64(s.EphemeralOwner))
	fmt.Fprintf(w, "dataLength = %d\n", s.DataLength)
	fmt.Fprintf(w, "numChildren = %d\n", s.NumChildren)
}

// idString is the jute Id record's toString (CsvOutputArchive): each string
// field as ' plus its escaped text, comma-separated, and a newline.
func idString(scheme, id string) string {
	return csvString(scheme) + "," + csvString(id) + "\n"
}

func csvString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case 0:
			b.WriteString("%00")
		case '\n':
			b.WriteString("%0A")
		case '\r':
			b.WriteString("%0D")
		case ',':
			b.WriteString("%2C")
		case '}':
			b.WriteString("%7D")
		case '%':
			b.WriteString("%25")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// permString is ZKUtil.getPermString.
func permString(perms int32) string {
	var b strings.Builder
	for _, p := range []struct {
		bit int32
		c   byte
	}{{zk.PermCreate, 'c'}, {zk.PermDelete, 'd'}, {zk.PermRead, 'r'}, {zk.PermWrite, 'w'}, {zk.PermAdmin, 'a'}} {
		if perms&p.bit != 0 {
			b.WriteByte(p.c)
		}
	}
	return b.String()
}

// parseACL is zkCli.sh's AclParser: "scheme:id:perm[,scheme:id:perm]";
// malformed entries are reported on stderr and skipped.
func (sh *shell) parseACL(s string) []zk.ACL {
	acl := []zk.ACL{}
	for _, a := range strings.Split(s, ",") {
		first, last := strings.IndexByte(a, ':'), strings.LastIndexByte(a, ':')
		if first < 0 || first == last {
			fmt.Fprintf(sh.err, "%s does not have the form scheme:id:perm\n", a)
			continue
		}
		var perms int32
		for _, c := range a[last+1:] {
			switch c {
			case 'r':
				perms |= zk.PermRead
			case 'w':
				perms |= zk.PermWrite
			case 'c':
				perms |= zk.PermCreate
			case 'd':
				perms |= zk.PermDelete
			case 'a':
				perms |= zk.PermAdmin
			default:
				fmt.Fprintf(sh.err, "Unknown perm type: %c\n", c)
			}
		}
		acl = append(acl, zk.ACL{Perms: perms, Scheme: a[:first], ID: a[first+1 : last]})
	}
	return acl
}

var goZKErrors = map[error]jute.Err{
	zk.ErrAPIError:                jute.ErrAPIError,
	zk.ErrNoNode:                  jute.ErrNoNode,
	zk.ErrNoAuth:                  jute.ErrNoAuth,
	zk.ErrBadVersion:              jute.ErrBadVersion,
	zk.ErrNoChildrenForEphemerals: jute.ErrNoChildrenForEphemerals,
	zk.ErrNodeExists:              jute.ErrNodeExists,
	zk.ErrNotEmpty:                jute.ErrNotEmpty,
	zk.ErrSessionExpired:          jute.ErrSessionExpired,
	zk.ErrInvalidACL:              jute.ErrInvalidACL,
	zk.ErrAuthFailed:              jute.ErrAuthFailed,
	zk.ErrClosing:                 jute.ErrConnectionLoss,
	zk.ErrConnectionClosed:        jute.ErrConnectionLoss,
	zk.ErrNoServer:                jute.ErrConnectionLoss,
	zk.ErrSessionMoved:            jute.ErrSessionMoved,
	zk.ErrReconfigDisabled:        jute.ErrReconfigDisabled,
	zk.ErrBadArguments:            jute.ErrBadArguments,
}

// errorCode finds the ZooKeeper error code behind a go-zookeeper error.
func errorCode(err error) (int32, bool) {
	var je jute.Err
	if errors.As(err, &je) {
		return int32(je), true
	}
	for e, code := range goZKErrors {
		if errors.Is(err, e) {
			return int32(code), true
		}
	}
	// go-zookeeper reports codes it has no variable for as "unknown error: N".
	if rest, ok := strings.CutPrefix(err.Error(), "unknown error: "); ok {
		if n, err := strconv.Atoi(rest); err == nil {
			return int32(n), true
		}
	}
	return 0, false
}

// codeMessages is KeeperException.Code's getCodeMessage.
var codeMessages = map[jute.Err]string{
	jute.ErrSystemError: "SystemError", jute.ErrRuntimeInconsistency: "RuntimeInconsistency",
	jute.ErrDataInconsistency: "DataInconsistency", jute.ErrConnectionLoss: "ConnectionLoss",
	jute.ErrMarshallingError: "MarshallingError", jute.ErrUnimplemented: "Unimplemented",
	jute.ErrOperationTimeout: "OperationTimeout", jute.ErrBadArguments: "BadArguments",
	jute.ErrNewConfigNoQuorum: "NewConfigNoQuorum", jute.ErrReconfigInProgress: "ReconfigInProgress",
	jute.ErrAPIError: "APIError", jute.ErrNoNode: "NoNode", jute.ErrNoAuth: "NoAuth",
	jute.ErrBadVersion: "BadVersion", jute.ErrNoChildrenForEphemerals: "NoChildrenForEphemerals",
	jute.ErrNodeExists: "NodeExists", jute.ErrNotEmpty: "Directory not empty",
	jute.ErrSessionExpired: "Session expired", jute.ErrInvalidCallback: "Invalid callback",
	jute.ErrInvalidACL: "InvalidACL", jute.ErrAuthFailed: "AuthFailed",
	jute.ErrSessionMoved: "Session moved", jute.ErrNotReadOnly: "Not a read-only call",
	jute.ErrEphemeralOnLocalSession: "Ephemeral node on local session",
	jute.ErrNoWatcher:               "No such watcher", jute.ErrReconfigDisabled: "Reconfig is disabled",
	jute.ErrSessionClosedRequireSASL: "Session closed because client failed to authenticate",
	jute.ErrQuotaExceeded:            "Quota has exceeded", jute.ErrThrottled: "Op throttled due to high load",
	jute.ErrRequestTimeout: "Request timeout", jute.ErrUnknownSession: "Unknown session",
}

// keeperMessage is what zkCli.sh 3.8 prints for a failed operation on path
// (CliWrapperException.getMessage).
func keeperMessage(err error, path string) string {
	code, ok := errorCode(err)
	if !ok {
		return err.Error()
	}
	switch jute.Err(code) {
	case jute.ErrNoNode:
		return "Node does not exist: " + path
	case jute.ErrNoChildrenForEphemerals:
		return "Ephemerals cannot have children: " + path
	case jute.ErrNodeExists:
		return "Node already exists: " + path
	case jute.ErrNotEmpty:
		return "Node not empty: " + path
	case jute.ErrNotReadOnly:
		return "Not a read-only call: " + path
	case jute.ErrInvalidACL:
		return "Acl is not valid : " + path
	case jute.ErrNoAuth:
		return "Insufficient permission : " + path
	case jute.ErrBadArguments:
		return "Arguments are not valid : " + path
	case jute.ErrBadVersion:
		return "version No is not valid : " + path
	case jute.ErrReconfigInProgress:
		return "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
	case jute.ErrNewConfigNoQuorum:
		return "No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced"
	}
	msg, ok := codeMessages[jute.Err(code)]
	if !ok {
		msg = fmt.Sprintf("Unknown error %d", code)
	}
	if path == "" {
		return "KeeperErrorCode = " + msg
	}
	return "KeeperErrorCode = " + msg + " for " + path
}

// validatePath is Apache's PathUtils.validatePath (with "1" appended for a
// sequential create).
func validatePath(p string, sequential bool) error {
	if sequential {
		p += "1"
	}
	if p == "" {
		return errors.New("Path length must be > 0")
	}
	if p[0] != '/' {
		return errors.New("Path must start with / character")
	}
	if len(p) == 1 {
		return nil
	}
	if p[len(p)-1] == '/' {
		return errors.New("Path must not end with / character")
	}
	reason := ""
	var last rune = '/'
	chars := []rune(p)
	for i := 1; i < len(chars); i++ {
		c := chars[i]
		switch {
		case c == 0:
			reason = fmt.Sprintf("null character not allowed @%d", i)
		case c == '/' && last == '/':
			reason = fmt.Sprintf("empty node name specified @%d", i)
		case c == '.' && last == '.':
			if chars[i-2] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c == '.':
			if chars[i-1] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c > 0 && c <= 0x1f || c >= 0x7f && c <= 0x9f || c >= 0xd800 && c <= 0xf8ff || c >= 0xfff0 && c <= 0xffff || c == utf8.RuneError:
			reason = fmt.Sprintf("invalid character @%d", i)
		}
		if reason != "" {
			break
		}
		last = c
	}
	if reason != "" {
		return fmt.Errorf("Invalid path string \"%s\" caused by %s", p, reason)
	}
	return nil
}
