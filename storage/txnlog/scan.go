package txnlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"os"

	"github.com/rs/zerolog"

	"mqstack/proto/jute"
	"mqstack/storage/vfs"
)

// badSpot is the first invalid byte range of a log file.
type badSpot struct {
	off        int64  // where the invalid entry (or header) starts
	reason     string // why it is invalid
	validAfter int64  // offset of a valid entry after off, or -1
}

// scanResult summarizes the valid prefix of a log file.
type scanResult struct {
	entries  int
	lastZxid int64
	validEnd int64 // offset just past the last valid entry (or the header)
}

// DecodeFile parses the bytes of a whole log file, calling fn with each
// valid entry and its offset. It stops at the end marker (a zero length,
// normally the start of the zero padding) or at the first invalid entry. It
// returns the number of entries and the offset just past the last valid
// one; tornAt is -1 when the file ends cleanly, else the offset of the
// first invalid byte range (a torn tail when no valid entry follows it).
// Errors: ErrCorrupt for a file that is not a version 2 log, or for an
// invalid entry followed by a valid one; or fn's error.
func DecodeFile(data []byte, fn func(e *jute.TxnEntry, off int64) error) (entries int, validEnd, tornAt int64, err error) {
	res, bad, err := decodeLog(data, fn)
	if err != nil {
		return res.entries, res.validEnd, -1, err
	}
	if bad == nil {
		return res.entries, res.validEnd, -1, nil
	}
	if bad.validAfter >= 0 {
		return res.entries, res.validEnd, bad.off, fmt.Errorf("%w: invalid entry at offset %d (%s) followed by a valid entry at offset %d",
			ErrCorrupt, bad.off, bad.reason, bad.validAfter)
	}
	return res.entries, res.validEnd, bad.off, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// decodeLog parses a log file. A hard error is returned only for a header
// that is present but not a version 2 log header, or for fn's error; invalid
// entries are reported as a badSpot.
func decodeLog(data []byte, fn func(e *jute.TxnEntry, off int64) error) (scanResult, *badSpot, error) {
	var res scanResult
	if len(data) < HeaderSize || allZero(data[:HeaderSize]) {
		bad := &badSpot{off: 0, reason: "missing file header", validAfter: -1}
		if len(data) >= HeaderSize {
			bad.validAfter = findValidEntry(data, 1)
		} else if allZero(data) {
			bad.reason = "empty file"
		}
		return res, bad, nil
	}
	var h jute.FileHeader
	if err := jute.Unmarshal(data[:HeaderSize], &h); err != nil {
		return res, nil, fmt.Errorf("%w: file header: %w", ErrCorrupt, err)
	}
	if h.Magic != Magic {
		return res, nil, fmt.Errorf("%w: bad magic %#08x (want %#08x \"ZKLG\"): not a ZooKeeper transaction log", ErrCorrupt, uint32(h.Magic), uint32(Magic))
	}
	if h.Version != Version {
		return res, nil, fmt.Errorf("%w: unsupported log format version %d (want %d)", ErrCorrupt, h.Version, Version)
	}
	off := int64(HeaderSize)
	res.validEnd = off
	for {
		e, next, reason := entryAt(data, off)
		if reason == "end" {
			return res, nil, nil
		}
		if reason != "" {
			return res, &badSpot{off: off, reason: reason, validAfter: findValidEntry(data, off+1)}, nil
		}
		if err := fn(e, off); err != nil {
			return res, nil, err
		}
		res.entries++
		res.lastZxid = e.Header.Zxid
		off = next
		res.validEnd = off
	}
}

// entryAt decodes the entry at off. reason is "" for a valid entry, "end"
// for the clean end of the log (a zero length followed only by zeros), else
// why the bytes at off are not a valid entry.
func entryAt(data []byte, off int64) (*jute.TxnEntry, int64, string) {
	rest := data[off:]
	if len(rest) < 12 {
		if allZero(rest) {
			return nil, 0, "end"
		}
		return nil, 0, fmt.Sprintf("%d bytes left, too short for an entry header", len(rest))
	}
	crc := binary.BigEndian.Uint64(rest)
	length := int32(binary.BigEndian.Uint32(rest[8:]))
	if length == 0 {
		if allZero(rest) {
			return nil, 0, "end"
		}
		return nil, 0, "zero length followed by non-zero bytes"
	}
	if length < 0 {
		return nil, 0, fmt.Sprintf("negative length %d", length)
	}
	if int64(length)+entryOverhead > int64(len(rest)) {
		return nil, 0, fmt.Sprintf("length %d runs past the end of the file", length)
	}
	body := rest[12 : 12+length]
	if rest[12+length] != EOR {
		return nil, 0, fmt.Sprintf("end-of-record byte is %#02x, want 0x42", rest[12+length])
	}
	if sum := adler32.Checksum(body); uint64(sum) != crc {
		return nil, 0, fmt.Sprintf("checksum %#x does not match the stored %#x", sum, crc)
	}
	e, err := jute.DecodeTxnEntry(body)
	if err != nil {
		return nil, 0, fmt.Sprintf("checksum matches but the entry does not decode: %v", err)
	}
	return e, off + int64(length) + entryOverhead, ""
}

// findValidEntry returns the offset of the first valid entry starting at or
// after from, or -1. Runs of zeros are skipped quickly: a valid entry has a
// non-zero length field.
func findValidEntry(data []byte, from int64) int64 {
	n := int64(len(data))
	for y := from; y+entryOverhead+1 <= n; y++ {
		if allZero(data[y+8 : y+12]) {
			// Jump to the first non-zero byte at or after y+8; the length
			// field of a valid entry there starts at least 11 bytes before.
			nz := int64(-1)
			for i := y + 8; i < n; i++ {
				if data[i] != 0 {
					nz = i
					break
				}
			}
			if nz < 0 {
				return -1
			}
			if nz-11 > y {
				y = nz - 11 - 1
			}
			continue
		}
		length := int64(int32(binary.BigEndian.Uint32(data[y+8:])))
		if length <= 0 || y+length+entryOverhead > n || data[y+12+length] != EOR {
			continue
		}
		if _, _, reason := entryAt(data, y); reason == "" {
			return y
		}
	}
	return -1
}

// readFile reads a whole file.
func readFile(fsys vfs.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("txnlog: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("txnlog: stat %s: %w", path, err)
	}
	data := make([]byte, st.Size())
	n, err := f.ReadAt(data, 0)
	if err != nil && !(err == io.EOF && int64(n) == st.Size()) {
		return nil, fmt.Errorf("txnlog: read %s: %w", path, err)
	}
	return data[:n], nil
}

// scanFile reads and checks one log file, calling fn for each valid entry.
// A torn tail of the last file is truncated; of an earlier file, logged.
func scanFile(fsys vfs.FS, path string, isLast bool, logger zerolog.Logger, fn func(*jute.TxnEntry, int64) error) (scanResult, error) {
	data, err := readFile(fsys, path)
	if err != nil {
		return scanResult{}, err
	}
	res, bad, err := decodeLog(data, fn)
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return res, fmt.Errorf("txnlog: %s: %w", path, err)
		}
		return res, err
	}
	if bad == nil {
		return res, nil
	}
	if bad.validAfter >= 0 {
		return res, fmt.Errorf("%w: %s: invalid entry at byte offset %d (%s) but a valid entry follows at offset %d: "+
			"the file is damaged before its end; restore the data directory from a healthy server (or move this file and the later ones away, losing their transactions)",
			ErrCorrupt, path, bad.off, bad.reason, bad.validAfter)
	}
	if !isLast {
		logger.Warn().Str("file", path).Int64("offset", bad.off).Str("reason", bad.reason).
			Msg("log file that is not the newest ends in a partial entry; ignoring its tail as Apache ZooKeeper does")
		return res, nil
	}
	if bad.off < HeaderSize {
		// No header: the file was created but its first write never landed.
		logger.Warn().Str("file", path).Str("reason", bad.reason).Msg("newest log file has no header; it holds no entry")
		return res, nil
	}
	logger.Warn().Str("file", path).Int64("offset", bad.off).Int64("dropped_bytes", int64(len(data))-bad.off).
		Str("reason", bad.reason).Msg("truncating torn tail of the newest log file")
	if err := truncateFile(fsys, path, bad.off); err != nil {
		return res, err
	}
	return res, nil
}

func truncateFile(fsys vfs.FS, path string, size int64) error {
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("txnlog: open %s to truncate its torn tail: %w", path, err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return fmt.Errorf("txnlog: truncate %s at offset %d: %w", path, size, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("txnlog: fsync %s after truncating at offset %d: %w", path, size, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("txnlog: close %s: %w", path, err)
	}
	return nil
}
