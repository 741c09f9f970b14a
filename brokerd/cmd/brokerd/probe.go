package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/urfave/cli/v2"
)

// probeCommand is the health check of scripts, systemd and docker-compose:
// one ApiVersions (v0) request to host:port; success is an answer without an
// error code. It prints "host:port ApiVersions ok: N APIs".
var probeCommand = &cli.Command{
	Name:      "probe",
	Usage:     "health check: exit 0 when the broker at host:port answers ApiVersions",
	ArgsUsage: "host:port",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after this long"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() != 1 {
			return cli.Exit("brokerd: usage: brokerd probe [--timeout 5s] host:port", 2)
		}
		addr := c.Args().First()
		n, err := probeAPIVersions(addr, c.Duration("timeout"))
		if err != nil {
			return cli.Exit("brokerd probe: "+err.Error(), 1)
		}
		fmt.Fprintf(c.App.Writer, "%s ApiVersions ok: %d APIs\n", addr, n)
		return nil
	},
}

// probeAPIVersions sends ApiVersions v0 and returns how many APIs the broker lists.
func probeAPIVersions(addr string, timeout time.Duration) (int, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return 0, fmt.Errorf("%q is not host:port", addr)
	}
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, fmt.Errorf("%s: %v (is brokerd running there, and is the port in its listeners?)", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))

	req := kmsg.NewApiVersionsRequest()
	const correlationID = 0x6d71
	// Request header v1: api key, version, correlation id, client id; then the body.
	msg := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	msg = binary.BigEndian.AppendUint16(msg, 0)
	msg = binary.BigEndian.AppendUint32(msg, correlationID)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len("brokerd-probe")))
	msg = append(msg, "brokerd-probe"...)
	msg = req.AppendTo(msg)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	if _, err := conn.Write(append(frame, msg...)); err != nil {
		return 0, fmt.Errorf("%s: %v", addr, err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return 0, fmt.Errorf("%s: no ApiVersions answer: %v (is this a Kafka listener?)", addr, err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return 0, fmt.Errorf("%s: answer of %d bytes is not a Kafka response (is this a Kafka listener?)", addr, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		return 0, fmt.Errorf("%s: short ApiVersions answer: %v", addr, err)
	}
	if got := binary.BigEndian.Uint32(body); got != correlationID {
		return 0, fmt.Errorf("%s: answer has correlation id %d, want %d (is this a Kafka listener?)", addr, got, correlationID)
	}
	resp := kmsg.NewApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body[4:]); err != nil {
		return 0, fmt.Errorf("%s: bad ApiVersions answer: %v", addr, err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, fmt.Errorf("%s: ApiVersions answered %v", addr, err)
	}
	return len(resp.ApiKeys), nil
}
