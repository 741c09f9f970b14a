package broker

// Zero-copy Fetch responses, as Kafka serves them: the record batches go
// from the segment file to the socket with sendfile(2), never through user
// space.
//
// The response is still built and encoded by kmsg; each partition served
// from a file gets a 16-byte marker as its RecordBatches (unique to the
// connection and the partition). After encoding, each marker and its
// length prefix are found in the frame, the prefix is rewritten for the
// real length, the frame's size is corrected, and the frame is written as
// pieces: encoded bytes through the connection's buffered writer, file
// sections with sendfile (segment.Section holds a dup of the segment's
// descriptor, so retention deleting the segment meanwhile is harmless). A
// log on another file system (vfs.MemFS in tests) is read into memory
// instead, and a connection that is not TCP gets the bytes copied.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"

	"mqstack/storage/segment"
)

const markerSize = 16

// fetchSection is one partition's records to send from a file.
type fetchSection struct {
	marker []byte
	sec    *segment.Section
}

// piece is part of a response frame: bytes, or a file section.
type piece struct {
	data []byte
	sec  *segment.Section
}

// newMarker returns a marker for the n-th section of a response.
func (c *conn) newMarker(n int) []byte {
	if c.markerBase == nil {
		c.markerBase = make([]byte, markerSize-4)
		for i := range c.markerBase {
			c.markerBase[i] = byte(rand.Uint32())
		}
	}
	return binary.BigEndian.AppendUint32(append([]byte(nil), c.markerBase...), uint32(n))
}

func closeSections(secs []fetchSection) {
	for _, s := range secs {
		_ = s.sec.Close()
	}
}

// appendLen appends a RecordBatches length prefix: int32, or a compact
// (length+1) uvarint in flexible versions.
func appendLen(dst []byte, n int64, compact bool) []byte {
	if compact {
		return binary.AppendUvarint(dst, uint64(n)+1)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// spliceFrame cuts an encoded response frame at its markers. The frame's
// size field is rewritten for the real lengths.
func spliceFrame(frame []byte, compact bool, secs []fetchSection) ([]piece, error) {
	var pieces []piece
	cursor := 0
	size := int64(len(frame) - 4)
	for _, s := range secs {
		needle := appendLen(nil, markerSize, compact)
		needle = append(needle, s.marker...)
		i := bytes.Index(frame[cursor:], needle)
		if i < 0 {
			return nil, fmt.Errorf("broker: fetch response marker not found in the encoded frame")
		}
		i += cursor
		prefix := appendLen(nil, s.sec.Length, compact)
		pieces = append(pieces, piece{data: frame[cursor:i]}, piece{data: prefix}, piece{sec: s.sec})
		size += int64(len(prefix)) + s.sec.Length - int64(len(needle))
		cursor = i + len(needle)
	}
	pieces = append(pieces, piece{data: frame[cursor:]})
	if size > 1<<31-1 {
		return nil, fmt.Errorf("broker: fetch response of %d bytes is too large", size)
	}
	binary.BigEndian.PutUint32(frame, uint32(size))
	return pieces, nil
}

// writePieces writes a spliced frame: bytes buffered, sections with
// sendfile after a flush.
func writePieces(w *bufio.Writer, nc net.Conn, pieces []piece, sent func(int64)) error {
	for _, p := range pieces {
		if p.sec == nil {
			if _, err := w.Write(p.data); err != nil {
				return err
			}
			continue
		}
		if err := w.Flush(); err != nil {
			return err
		}
		zeroCopy, err := sendSection(nc, p.sec)
		if err != nil {
			return fmt.Errorf("broker: send %d bytes of %s at %d: %w", p.sec.Length, p.sec.Path, p.sec.Position, err)
		}
		if zeroCopy {
			sent(p.sec.Length)
		}
	}
	return w.Flush()
}
