package segment

import (
	"encoding/binary"
	"fmt"
	"sort"
)

const (
	offsetEntrySize = 8  // relative offset int32, position int32
	timeEntrySize   = 12 // timestamp int64, relative offset int32
)

// offsetEntry maps the last offset of a batch (relative to the segment's
// base offset) to the file position where that batch starts.
type offsetEntry struct {
	RelOffset int32
	Position  int32
}

// timeEntry says that records up to RelOffset have timestamps up to
// Timestamp.
type timeEntry struct {
	Timestamp int64
	RelOffset int32
}

// parseOffsetIndex reads the entries of an .index file. Entries must have
// increasing offsets and positions; reading stops at the first entry that
// does not (the zero padding of a preallocated file ends the list). The
// returned entries are checked against nothing else; see checkOffsetIndex.
func parseOffsetIndex(b []byte) []offsetEntry {
	n := len(b) / offsetEntrySize
	out := make([]offsetEntry, 0, min(n, 1<<16))
	for i := 0; i < n; i++ {
		e := offsetEntry{
			RelOffset: int32(binary.BigEndian.Uint32(b[i*offsetEntrySize:])),
			Position:  int32(binary.BigEndian.Uint32(b[i*offsetEntrySize+4:])),
		}
		if e.RelOffset < 0 || e.Position < 0 {
			break
		}
		if i > 0 && (e.RelOffset <= out[i-1].RelOffset || e.Position <= out[i-1].Position) {
			break
		}
		out = append(out, e)
	}
	return out
}

// parseTimeIndex reads the entries of a .timeindex file, stopping at the
// first entry whose timestamp or offset does not increase.
func parseTimeIndex(b []byte) []timeEntry {
	n := len(b) / timeEntrySize
	out := make([]timeEntry, 0, min(n, 1<<16))
	for i := 0; i < n; i++ {
		e := timeEntry{
			Timestamp: int64(binary.BigEndian.Uint64(b[i*timeEntrySize:])),
			RelOffset: int32(binary.BigEndian.Uint32(b[i*timeEntrySize+8:])),
		}
		if e.RelOffset < 0 {
			break
		}
		if i > 0 && (e.Timestamp <= out[i-1].Timestamp || e.RelOffset < out[i-1].RelOffset) {
			break
		}
		if i == 0 && e.Timestamp == 0 && e.RelOffset == 0 {
			break // zero padding of a preallocated file
		}
		out = append(out, e)
	}
	return out
}

// checkOffsetIndex checks loaded entries against the segment: positions
// inside the log and offsets below limit (the next segment's base offset
// relative to this one, or the log's end).
func checkOffsetIndex(entries []offsetEntry, logSize int64, relLimit int64) error {
	if len(entries) == 0 {
		return nil
	}
	last := entries[len(entries)-1]
	if int64(last.Position) >= logSize {
		return fmt.Errorf("last entry position %d is past the log's %d bytes", last.Position, logSize)
	}
	if int64(last.RelOffset) >= relLimit {
		return fmt.Errorf("last entry relative offset %d is not below %d", last.RelOffset, relLimit)
	}
	return nil
}

func appendOffsetEntry(b []byte, e offsetEntry) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(e.RelOffset))
	return binary.BigEndian.AppendUint32(b, uint32(e.Position))
}

func appendTimeEntry(b []byte, e timeEntry) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(e.Timestamp))
	return binary.BigEndian.AppendUint32(b, uint32(e.RelOffset))
}

// lookupOffset returns the file position to start scanning from for rel:
// the position of the last entry whose offset is <= rel, or 0.
func lookupOffset(entries []offsetEntry, rel int64) int64 {
	i := sort.Search(len(entries), func(i int) bool { return int64(entries[i].RelOffset) > rel })
	if i == 0 {
		return 0
	}
	return int64(entries[i-1].Position)
}

// lookupTime returns the relative offset to start scanning from for
// timestamp ts: the offset after the last entry whose timestamp is < ts
// (records before it are all older than ts), or 0.
func lookupTime(entries []timeEntry, ts int64) int64 {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].Timestamp >= ts })
	if i == 0 {
		return 0
	}
	return int64(entries[i-1].RelOffset) + 1
}
