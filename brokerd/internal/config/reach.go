package config

import (
	"fmt"
	"net"
	"strings"
)

// Resolver looks a host name up (net.Resolver.LookupHost in the broker, a
// table in tests).
type Resolver func(host string) ([]string, error)

// CheckReachable refuses the classic "nobody else can reach this broker"
// mistake: an advertised listener whose host is a loopback address (or a
// name, such as localhost or a Debian host name in /etc/hosts, that
// resolves only to loopback addresses) while zookeeper.connect names a
// ZooKeeper on another machine, so the other brokers and the clients
// there, which find this broker through ZooKeeper, would connect to
// themselves. With no advertised.listeners the listener's host is
// advertised, and an empty one means hostname. Hosts that do not resolve
// are not judged (ZooKeeper's own connect reports them).
func (c Config) CheckReachable(lookup Resolver, hostname string) error {
	servers := c.ZookeeperConnect
	if i := strings.IndexByte(servers, '/'); i >= 0 {
		servers = servers[:i]
	}
	remoteZK, remoteAddr := "", ""
	for _, s := range strings.Split(servers, ",") {
		host := strings.TrimSpace(s)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			continue
		}
		if loop, addr, known := loopback(lookup, host); known && !loop {
			remoteZK, remoteAddr = host, addr
			break
		}
	}
	if remoteZK == "" {
		return nil
	}
	key, ls := "advertised.listeners", c.AdvertisedListeners
	if len(ls) == 0 {
		key, ls = "listeners", c.Listeners
	}
	for _, l := range ls {
		host := l.Host
		if host == "" {
			host = hostname
		}
		if loop, addr, known := loopback(lookup, host); known && loop {
			how := ""
			if host != addr {
				how = fmt.Sprintf(" (%s resolves to the loopback address %s)", host, addr)
			}
			if l.Host == "" {
				how = fmt.Sprintf(" (an empty host advertises this machine's name, %s, which resolves to the loopback address %s)", host, addr)
			}
			return fmt.Errorf("%w: %s: %s=%s advertises a loopback address%s, but zookeeper.connect=%s names %s (%s), another machine: other brokers and clients find this broker through ZooKeeper and could not reach it; set advertised.listeners=%s://<a name or IP of this machine reachable from %s>:%d",
				ErrConfig, c.Path, key, l, how, c.ZookeeperConnect, remoteZK, remoteAddr, l.Name, remoteZK, l.Port)
		}
	}
	return nil
}

// loopback says whether host is (or resolves only to) loopback addresses;
// known is false when it does not resolve.
func loopback(lookup Resolver, host string) (loop bool, addr string, known bool) {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), host, true
	}
	addrs, err := lookup(host)
	if err != nil || len(addrs) == 0 {
		return false, "", false
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return false, a, true
		}
	}
	return true, addrs[0], true
}
