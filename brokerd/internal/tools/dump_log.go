package tools

// kafka-dump-log.sh (Kafka 2.8's DumpLogSegments) over brokerd's segment
// files: .log batches (and records with --deep-iteration or
// --print-data-log), .index and .timeindex entries.

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mqstack/proto/kafka"
)

var _ = register(&Tool{
	Name:    "dump-log",
	Summary: "This tool helps to parse a log file and dump its contents to the console, useful for debugging a seemingly corrupt log segment.",
	Opts: []Opt{
		{Name: "files", Arg: "String: file1, file2, ...", Help: "REQUIRED: The comma separated list of data and index log files to be dumped."},
		{Name: "print-data-log", Help: "if set, printing the messages content when dumping data logs. Automatically set if any decoder option is specified."},
		{Name: "deep-iteration", Help: "if set, uses deep instead of shallow iteration. Automatically set if print-data-log is enabled."},
		{Name: "verify-index-only", Help: "if set, just verify the index log without printing its content."},
		{Name: "index-sanity-check", Help: "if set, just checks the index sanity without printing its content."},
		{Name: "max-message-size", Arg: "Integer: size", Default: "5242880", Help: "Size of largest message."},
		{Name: "key-decoder-class", Arg: "String", Help: "Accepted for compatibility; keys are printed as UTF-8 text."},
		{Name: "value-decoder-class", Arg: "String", Help: "Accepted for compatibility; values are printed as UTF-8 text."},
	},
	Run: runDumpLog,
})

func runDumpLog(e *Env, p *Parsed) error {
	if err := p.Require("files"); err != nil {
		return err
	}
	maxSize, err := p.Int("max-message-size", 5242880)
	if err != nil {
		return err
	}
	printData := p.Has("print-data-log") || p.Has("key-decoder-class") || p.Has("value-decoder-class")
	deep := printData || p.Has("deep-iteration")
	for _, f := range strings.Split(p.String("files"), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		fmt.Fprintf(e.Stdout, "Dumping %s\n", f)
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", f, err)
		}
		base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), 10, 64)
		if err != nil && filepath.Ext(f) != ".log" {
			return fmt.Errorf("%s: the file name must be a 20-digit base offset, as Kafka names segment files", f)
		}
		switch filepath.Ext(f) {
		case ".log":
			dumpLogFile(e.Stdout, data, base, deep, printData, int(maxSize))
		case ".index":
			if p.Has("verify-index-only") || p.Has("index-sanity-check") {
				if len(data)%8 != 0 {
					fmt.Fprintf(e.Stdout, "%s has a size of %d, not a multiple of 8: the index is corrupt\n", f, len(data))
				} else {
					fmt.Fprintf(e.Stdout, "%s passed sanity check.\n", f)
				}
				continue
			}
			for i := 0; i+8 <= len(data); i += 8 {
				rel := binary.BigEndian.Uint32(data[i:])
				pos := binary.BigEndian.Uint32(data[i+4:])
				if i > 0 && rel == 0 && pos == 0 {
					break // preallocated, unused tail
				}
				fmt.Fprintf(e.Stdout, "offset: %d position: %d\n", base+int64(rel), pos)
			}
		case ".timeindex":
			if p.Has("verify-index-only") || p.Has("index-sanity-check") {
				if len(data)%12 != 0 {
					fmt.Fprintf(e.Stdout, "%s has a size of %d, not a multiple of 12: the time index is corrupt\n", f, len(data))
				} else {
					fmt.Fprintf(e.Stdout, "%s passed sanity check.\n", f)
				}
				continue
			}
			for i := 0; i+12 <= len(data); i += 12 {
				ts := int64(binary.BigEndian.Uint64(data[i:]))
				rel := binary.BigEndian.Uint32(data[i+8:])
				if i > 0 && ts == 0 && rel == 0 {
					break
				}
				fmt.Fprintf(e.Stdout, "timestamp: %d offset: %d\n", ts, base+int64(rel))
			}
		default:
			fmt.Fprintf(e.Stdout, "Ignoring unknown file %s\n", f)
		}
	}
	return nil
}

func dumpLogFile(w io.Writer, data []byte, base int64, deep, printData bool, maxSize int) {
	fmt.Fprintf(w, "Starting offset: %d\n", base)
	pos := 0
	for pos < len(data) {
		b, n, err := kafka.DecodeBatchLimit(data[pos:], max(maxSize, kafka.MaxDecompressedBytes))
		if err != nil {
			fmt.Fprintf(w, "Found %d invalid bytes at the end of %s (position %d: %v)\n", len(data)-pos, "the segment", pos, err)
			return
		}
		h := b.BatchHeader
		tsType := "CreateTime"
		if h.LogAppendTime() {
			tsType = "LogAppendTime"
		}
		lastSeq := int32(-1)
		if h.BaseSequence >= 0 {
			lastSeq = h.BaseSequence + h.LastOffsetDelta
		}
		fmt.Fprintf(w, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: true\n",
			h.BaseOffset, h.LastOffset(), h.RecordCount, h.BaseSequence, lastSeq, h.ProducerID, h.ProducerEpoch,
			h.PartitionLeaderEpoch, h.Transactional(), h.Control(), pos, tsType, h.MaxTimestamp, n, h.Magic,
			compressionName(h.Compression()), h.CRC)
		if deep {
			for _, r := range b.Records {
				seq := int32(-1)
				if h.BaseSequence >= 0 {
					seq = h.BaseSequence + int32(r.Offset-h.BaseOffset)
				}
				keys := make([]string, len(r.Headers))
				for i, hd := range r.Headers {
					keys[i] = hd.Key
				}
				fmt.Fprintf(w, "| offset: %d %s: %d keysize: %d valuesize: %d sequence: %d headerKeys: [%s]",
					r.Offset, tsType, r.Timestamp, sizeOrNull(r.Key), sizeOrNull(r.Value), seq, strings.Join(keys, ","))
				if printData {
					if r.Key != nil {
						fmt.Fprintf(w, " key: %s", r.Key)
					}
					if r.Value != nil {
						fmt.Fprintf(w, " payload: %s", r.Value)
					}
				}
				fmt.Fprintln(w)
			}
		}
		pos += n
	}
}

func sizeOrNull(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

// compressionName is Java's CompressionType enum name.
func compressionName(c kafka.Compression) string {
	switch c {
	case 0:
		return "NONE"
	case 1:
		return "GZIP"
	case 2:
		return "SNAPPY"
	case 3:
		return "LZ4"
	case 4:
		return "ZSTD"
	}
	return "UNKNOWN"
}
