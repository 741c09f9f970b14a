package broker

import (
	"errors"
	"io"
	"net"
	"syscall"

	"mqstack/storage/segment"
)

// sendSection sends a file section to a TCP connection with sendfile(2)
// at an explicit offset (the shared descriptor's position is not used, so
// concurrent fetches of one segment do not interfere), waiting on the
// runtime poller when the socket buffer is full. Other connections get the
// bytes copied (zeroCopy false).
func sendSection(nc net.Conn, s *segment.Section) (zeroCopy bool, err error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return false, copySection(nc, s)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false, err
	}
	off, remain := s.Position, s.Length
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for remain > 0 {
			n, err := syscall.Sendfile(int(fd), s.Fd, &off, int(min(remain, 1<<30)))
			if n > 0 {
				remain -= int64(n)
			}
			switch {
			case errors.Is(err, syscall.EAGAIN):
				return false // wait until writable
			case errors.Is(err, syscall.EINTR):
				continue
			case err != nil:
				serr = err
				return true
			case n == 0:
				serr = io.ErrUnexpectedEOF // the file is shorter than the section
				return true
			}
		}
		return true
	})
	if err != nil {
		return false, err
	}
	return serr == nil, serr
}
