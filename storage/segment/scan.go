package segment

import (
	"errors"
	"fmt"
	"io"
	"os"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

// BatchInfo describes one batch of a .log file, as kafka-dump-log.sh
// prints it.
type BatchInfo struct {
	Position int64
	kafka.BatchHeader
}

// ScanFile reads the batch headers of a .log file (for dump-log and
// diagnostics), checking each batch's CRC. It stops at the first invalid
// batch and returns the batches before it with an error naming the file
// and position; the file is only read.
func ScanFile(fsys vfs.FS, path string, fn func(BatchInfo) error) error {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrIO, path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: stat %s: %w", ErrIO, path, err)
	}
	size := st.Size()
	var buf []byte
	for pos := int64(0); pos < size; {
		var hdr [kafka.HeaderSize]byte
		n, err := f.ReadAt(hdr[:], pos)
		if n < len(hdr) {
			if err == nil || errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: %s at position %d: %d bytes left, a batch header needs %d", ErrCorrupt, path, pos, size-pos, kafka.HeaderSize)
			}
			return fmt.Errorf("%w: read %s at %d: %w", ErrIO, path, pos, err)
		}
		h, err := kafka.ParseHeader(hdr[:])
		if err != nil {
			return fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, path, pos, err)
		}
		if pos+h.Size() > size {
			return fmt.Errorf("%w: %s at position %d: batch of %d bytes, %d left", ErrCorrupt, path, pos, h.Size(), size-pos)
		}
		if int64(cap(buf)) < h.Size() {
			buf = make([]byte, h.Size())
		}
		b := buf[:h.Size()]
		if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: read %s at %d: %w", ErrIO, path, pos, err)
		}
		if _, _, err := kafka.CheckBatch(b); err != nil {
			return fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, path, pos, err)
		}
		if err := fn(BatchInfo{Position: pos, BatchHeader: h}); err != nil {
			return err
		}
		pos += h.Size()
	}
	return nil
}
