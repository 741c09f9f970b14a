// Package segment is brokerd's partition log, in Apache Kafka's on-disk
// format so a log directory moves between brokerd and Kafka. It does no
// networking and reads no wall clock: every time it needs is passed in
// (Options.Clock, and the now arguments of retention and compaction).
//
// # Files
//
//	<log.dir>/
//	  .kafka_cleanshutdown                 present only after a clean Close
//	  recovery-point-offset-checkpoint     storage/checkpoint formats
//	  log-start-offset-checkpoint
//	  replication-offset-checkpoint        high watermarks
//	  <topic>-<partition>/
//	    00000000000000000000.log           record batches v2, as on the wire
//	    00000000000000000000.index         offset index
//	    00000000000000000000.timeindex     time index
//	    00000000000000001200.log           next segment: base offset 1200
//	    ...
//	    leader-epoch-checkpoint
//
// A segment is named after its base offset (the first offset it may hold)
// in 20 digits. The last segment is the active one; only it takes appends.
//
// # .log
//
// Concatenated record batches (see proto/kafka for the 61-byte header and
// the records). Nothing else: no file header, no padding.
//
//	+---------------------+---------------------+-----+
//	| batch (61 + n bytes)| batch               | ... |
//	+---------------------+---------------------+-----+
//
// # .index (offset index)
//
// 8-byte entries, big-endian, sparse: one entry for the first batch of the
// segment and then one for a batch each time more than index.interval.bytes
// (4096) were appended since the previous entry.
//
//	+--------------------------+--------------------------+
//	| relativeOffset int32     | position int32           |
//	| (batch lastOffset - base)| (byte offset in .log)    |
//	+--------------------------+--------------------------+
//
// To find offset o: the last entry with relativeOffset <= o - base gives a
// position to scan batch headers from, up to the first batch whose last
// offset is >= o. The active segment also keeps in memory the positions
// of its last 128 batches (not a file): a read at or near the log end, as
// every follower and consumer of a busy partition does, is answered from
// them without the scan.
//
// # .timeindex
//
// 12-byte entries, big-endian, appended with offset-index entries when the
// segment's largest timestamp grew, and once more when the segment stops
// being active:
//
//	+-------------------------------+-----------------------------+
//	| timestamp int64               | relativeOffset int32        |
//	| (largest timestamp so far)    | (last offset of its batch)  |
//	+-------------------------------+-----------------------------+
//
// The active segment's index files are preallocated to segment.index.bytes
// (zero-filled); when a segment is rolled or the log closed they are cut to
// their entries. Readers stop at the first entry that does not increase,
// which is where the zero padding starts. A full index rolls the segment.
//
// # Appends and rolls
//
// Append validates every batch (CRC-32C, magic 2, sizes; on the leader path
// also every record, decompressing if needed), assigns offsets from the log
// end offset by rewriting baseOffset in place, writes partitionLeaderEpoch
// and, for message.timestamp.type=LogAppendTime, sets the timestamp type and
// maxTimestamp and recomputes the CRC. Before writing, the active segment is
// rolled if the append would take it past segment.bytes, if segment.ms has
// passed since its first batch's timestamp, if an index is full, or if an
// offset would not fit the indexes' 32-bit relative offsets.
//
// # Durability and recovery
//
// Append leaves data in the page cache; Flush fsyncs the segments written
// since the last flush and, when segments were created or deleted, the
// partition directory, and moves the recovery point to the log end offset.
// LogDir.Close writes the checkpoints and then the clean shutdown marker;
// LogDir opening removes the marker once every log is loaded.
//
// Open without the marker (kill -9, power loss) re-validates every batch of
// the segment holding the recovery point and of every later segment: CRC,
// header sanity, and offsets increasing. The indexes of those segments are
// rebuilt. At the first bad byte the segment is truncated and every later
// segment deleted, with a warning log line naming the file, position,
// offset and the number of bytes cut. Segments below the recovery point are
// trusted; if one of them does not match its index, it is re-read and any
// corruption there is an ErrCorrupt error naming the file and position, and
// the log does not open (the operator restores the file or removes the
// recovery point checkpoint to let recovery truncate).
//
// # Retention, DeleteRecords and truncation
//
// DeleteOldSegments(now) deletes, oldest first, segments whose largest
// timestamp is older than retention.ms, then segments while the log exceeds
// retention.bytes (both for cleanup.policy delete), and segments wholly
// below the log start offset; only segments below the high watermark go. If
// all would go, an empty segment is rolled at the log end first.
// DeleteRecordsBefore moves the log start offset (up to the high watermark).
// Truncate(to) cuts the log for a follower at a batch boundary.
//
// # Compaction
//
// Clean(now), for cleanup.policy compact: the segments below the active
// segment and the high watermark are read twice: once to find the last
// offset of each key, once to rewrite each segment keeping only those
// records. Tombstones are also dropped once their segment's largest
// timestamp is older than delete.retention.ms. Offsets never change: a
// rewritten batch keeps its base offset, last offset delta, producer fields
// and codec. A segment is written as <base>.log.cleaned, fsynced, renamed to
// <base>.log.swap (directory fsynced), its old index files removed, and
// renamed over <base>.log. Open deletes .cleaned files and completes a
// .swap, so a crash at any point leaves either the old or the new segment.
//
// # Concurrency
//
// A Log is guarded by one mutex. ReadResult.File is the open segment file:
// it is valid until the segment is deleted or the log closed.
package segment
