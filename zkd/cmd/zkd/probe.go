package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/urfave/cli/v2"

	"mqstack/proto/fourlw"
)

// probe is the health check of scripts, systemd and docker-compose: it asks
// the server `srvr` and succeeds when the server serves clients (a Mode line:
// standalone, leader, follower, observer or read-only), printing
// "host:port Mode: <mode>". A server that is still electing answers
// "not currently serving requests", which fails the probe, unlike `ruok`.
func init() {
	extraCommands = append(extraCommands, &cli.Command{
		Name:      "probe",
		Usage:     "health check: exit 0 when the server at host:port serves clients (prints its Mode)",
		ArgsUsage: "host:port",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after this long"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("zkd: usage: zkd probe [--timeout 5s] host:port", 2)
			}
			addr := c.Args().First()
			mode, err := probeMode(addr, c.Duration("timeout"))
			if err != nil {
				return cli.Exit("zkd probe: "+err.Error(), 1)
			}
			fmt.Fprintf(c.App.Writer, "%s Mode: %s\n", addr, mode)
			return nil
		},
	})
}

// probeMode sends srvr to addr and returns the Mode it reports.
func probeMode(addr string, timeout time.Duration) (string, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", fmt.Errorf("%s: %v (is zkd running there, and is the port its clientPort?)", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte("srvr")); err != nil {
		return "", fmt.Errorf("%s: %v", addr, err)
	}
	reply, err := io.ReadAll(io.LimitReader(conn, 1<<16))
	if err != nil && len(reply) == 0 {
		return "", fmt.Errorf("%s: no srvr reply: %v", addr, err)
	}
	st, err := fourlw.ParseSrvr(string(reply))
	switch {
	case errors.Is(err, fourlw.ErrNotServing):
		return "", fmt.Errorf("%s: not serving requests (no quorum yet, or an election is running)", addr)
	case err != nil:
		return "", fmt.Errorf("%s: %v", addr, err)
	case st.Mode == "":
		return "", fmt.Errorf("%s: the srvr reply has no Mode line", addr)
	}
	return st.Mode, nil
}
