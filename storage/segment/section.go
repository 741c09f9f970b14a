package segment

import (
	"fmt"
	"os"
	"syscall"
)

// Section is a byte range of a segment file held open on its own file
// descriptor (a dup of the segment's), so it can be sent with sendfile
// after the log's lock is released: a segment deleted or closed meanwhile
// (retention, compaction, log close) leaves the section readable. The
// caller must Close it.
type Section struct {
	Fd       int // a dup of the segment file's descriptor
	Path     string
	Position int64
	Length   int64
}

// Close releases the descriptor.
func (s *Section) Close() error { return syscall.Close(s.Fd) }

// ReadSection is Read for sending without copying: the batches' bytes as a
// Section of the segment file when the file system is the OS's, or as a
// copy (data) when it is not (vfs.MemFS in tests). Both are nil when there
// is nothing to read.
func (l *Log) ReadSection(offset int64, maxBytes int, maxOffset int64) (sec *Section, data []byte, res ReadResult, err error) {
	return l.ReadSectionCopyBelow(offset, maxBytes, maxOffset, 0)
}

// ReadSectionCopyBelow is ReadSection that copies a range shorter than
// copyBelow bytes (one pread) instead of returning a Section: sending a
// small range by sendfile costs a dup, the sendfile, a close and a second
// write of the frame around it, more than the copy.
func (l *Log) ReadSectionCopyBelow(offset int64, maxBytes int, maxOffset int64, copyBelow int) (sec *Section, data []byte, res ReadResult, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	res, err = l.readLocked(offset, maxBytes, maxOffset)
	if err != nil || res.Length == 0 {
		return nil, nil, res, err
	}
	f, ok := res.File.(*os.File)
	if !ok || res.Length < int64(copyBelow) {
		data, err = l.copyLocked(res)
		return nil, data, res, err
	}
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return nil, nil, res, fmt.Errorf("%w: dup %s: %w", ErrIO, res.Path, err)
	}
	return &Section{Fd: fd, Path: res.Path, Position: res.Position, Length: res.Length}, nil, res, nil
}
