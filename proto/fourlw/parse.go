package fourlw

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Parser errors. Every error wraps one of these.
var (
	// ErrFormat: the reply does not have the word's format.
	ErrFormat = errors.New("fourlw: malformed reply")
	// ErrNotServing: the server answered NotServing (election running, or
	// shutting down).
	ErrNotServing = errors.New("fourlw: server is not serving requests")
	// ErrNotInWhitelist: the server refused the word (4lw.commands.whitelist).
	ErrNotInWhitelist = errors.New("fourlw: word not in the server's 4lw.commands.whitelist")
)

func checkRefusal(reply string) error {
	t := strings.TrimSpace(reply)
	if t == NotServing {
		return ErrNotServing
	}
	if strings.HasSuffix(t, NotInWhitelist) {
		return fmt.Errorf("%w: %q (add the word to 4lw.commands.whitelist in zoo.cfg)", ErrNotInWhitelist, t)
	}
	return nil
}

// ParseSrvr parses a srvr or stat reply (the "Clients:" block of stat is
// skipped; ParseCons reads it).
func ParseSrvr(reply string) (ServerStats, error) {
	var s ServerStats
	if err := checkRefusal(reply); err != nil {
		return s, err
	}
	sawVersion, sawMode := false, false
	for n, line := range strings.Split(reply, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line == "Clients:" || strings.HasPrefix(line, " /") {
			continue
		}
		if line == ReadOnlyBanner {
			s.ReadOnly = true
			continue
		}
		key, value, ok := strings.Cut(line, ": ")
		if !ok {
			return s, fmt.Errorf("%w: srvr line %d %q has no \": \"", ErrFormat, n+1, line)
		}
		var err error
		switch key {
		case "Zookeeper version":
			s.Version, sawVersion = value, true
		case "Latency min/avg/max":
			parts := strings.Split(value, "/")
			if len(parts) != 3 {
				return s, fmt.Errorf("%w: srvr latency %q is not min/avg/max", ErrFormat, value)
			}
			if s.MinLatency, err = strconv.ParseInt(parts[0], 10, 64); err == nil {
				if s.AvgLatency, err = strconv.ParseFloat(parts[1], 64); err == nil {
					s.MaxLatency, err = strconv.ParseInt(parts[2], 10, 64)
				}
			}
		case "Received":
			s.Received, err = strconv.ParseInt(value, 10, 64)
		case "Sent":
			s.Sent, err = strconv.ParseInt(value, 10, 64)
		case "Connections":
			s.Connections, err = strconv.Atoi(value)
		case "Outstanding":
			s.Outstanding, err = strconv.Atoi(value)
		case "Zxid":
			s.Zxid, err = parseHex(value)
		case "Mode":
			s.Mode, sawMode = value, true
		case "Node count":
			s.NodeCount, err = strconv.Atoi(value)
		case "Proposal sizes last/min/max":
			parts := strings.Split(value, "/")
			if len(parts) != 3 {
				return s, fmt.Errorf("%w: srvr proposal sizes %q is not last/min/max", ErrFormat, value)
			}
			if s.ProposalSizeLast, err = strconv.ParseInt(parts[0], 10, 64); err == nil {
				if s.ProposalSizeMin, err = strconv.ParseInt(parts[1], 10, 64); err == nil {
					s.ProposalSizeMax, err = strconv.ParseInt(parts[2], 10, 64)
				}
			}
		default:
			// Newer servers may add lines; keep going.
		}
		if err != nil {
			return s, fmt.Errorf("%w: srvr %s: %q: %v", ErrFormat, key, value, err)
		}
	}
	if !sawVersion || !sawMode {
		return s, fmt.Errorf("%w: srvr reply lacks the \"Zookeeper version:\" or \"Mode:\" line", ErrFormat)
	}
	return s, nil
}

// parseHex reads "0x1a" (Java's Long.toHexString, so negative numbers come
// as 16 hex digits).
func parseHex(v string) (int64, error) {
	h, ok := strings.CutPrefix(v, "0x")
	if !ok {
		return 0, fmt.Errorf("%q lacks 0x", v)
	}
	u, err := strconv.ParseUint(h, 16, 64)
	return int64(u), err
}

// ParseMntr parses mntr's "key\tvalue" lines, keeping their order.
func ParseMntr(reply string) ([]KV, error) {
	if err := checkRefusal(reply); err != nil {
		return nil, err
	}
	var out []KV
	for n, line := range strings.Split(reply, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: mntr line %d %q is not key<TAB>value", ErrFormat, n+1, line)
		}
		out = append(out, KV{Key: k, Value: v})
	}
	return out, nil
}

// ParseCons parses the connection lines of cons (full) or stat (brief).
// Lines that are not connection lines are ignored, so a whole stat reply
// can be given.
func ParseCons(reply string) ([]Conn, error) {
	if err := checkRefusal(reply); err != nil {
		return nil, err
	}
	var out []Conn
	for n, line := range strings.Split(reply, "\n") {
		line = strings.TrimRight(line, "\r")
		if !strings.HasPrefix(line, " /") {
			continue
		}
		c, err := parseConn(line)
		if err != nil {
			return nil, fmt.Errorf("%w: cons line %d %q: %v", ErrFormat, n+1, line, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseConn(line string) (Conn, error) {
	c := Conn{LastCxid: -1}
	body := line[2:]
	mid := strings.Index(body, "](")
	if mid < 0 || !strings.HasSuffix(body, ")") {
		return c, errors.New("expected addr[ops](fields)")
	}
	open := strings.LastIndex(body[:mid], "[")
	if open < 0 {
		return c, errors.New("expected [ before the interest ops")
	}
	c.Addr = body[:open]
	ops, err := strconv.ParseUint(body[open+1:mid], 16, 32)
	if err != nil {
		return c, fmt.Errorf("interest ops %q: %v", body[open+1:mid], err)
	}
	c.InterestOps = int(ops)
	fields := body[mid+2 : len(body)-1]
	for _, f := range strings.Split(fields, ",") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return c, fmt.Errorf("field %q is not key=value", f)
		}
		var err error
		switch k {
		case "queued":
			c.Queued, err = strconv.ParseInt(v, 10, 64)
		case "recved":
			c.Received, err = strconv.ParseInt(v, 10, 64)
		case "sent":
			c.Sent, err = strconv.ParseInt(v, 10, 64)
		case "sid":
			c.SessionID, err = parseHex(v)
		case "lop":
			c.LastOp = v
		case "est":
			c.Established, err = strconv.ParseInt(v, 10, 64)
		case "to":
			var t int64
			t, err = strconv.ParseInt(v, 10, 32)
			c.Timeout = int32(t)
		case "lcxid":
			c.LastCxid, err = parseHex(v)
		case "lzxid":
			c.LastZxid, err = parseHex(v)
		case "lresp":
			c.LastResponseTime, err = strconv.ParseInt(v, 10, 64)
		case "llat":
			c.LastLatency, err = strconv.ParseInt(v, 10, 64)
		case "minlat":
			c.MinLatency, err = strconv.ParseInt(v, 10, 64)
		case "avglat":
			c.AvgLatency, err = strconv.ParseFloat(v, 64)
		case "maxlat":
			c.MaxLatency, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return c, fmt.Errorf("%s=%q: %v", k, v, err)
		}
	}
	return c, nil
}

// ParseKV parses conf and envi replies ("key=value" lines; envi's
// "Environment:" header and conf's "membership: " block are skipped).
func ParseKV(reply string) ([]KV, error) {
	if err := checkRefusal(reply); err != nil {
		return nil, err
	}
	var out []KV
	for n, line := range strings.Split(reply, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line == "Environment:" {
			continue
		}
		if line == "membership: " {
			break
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%w: line %d %q is not key=value", ErrFormat, n+1, line)
		}
		out = append(out, KV{Key: k, Value: v})
	}
	return out, nil
}
