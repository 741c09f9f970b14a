//go:build !linux

package broker

import (
	"net"

	"mqstack/storage/segment"
)

// sendSection copies: sendfile is used on Linux only.
func sendSection(nc net.Conn, s *segment.Section) (zeroCopy bool, err error) {
	return false, copySection(nc, s)
}
