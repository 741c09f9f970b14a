// Package txnlog reads and writes zkd's transaction log in Apache ZooKeeper
// 3.8's FileTxnLog format, byte for byte, so a data directory moves between
// zkd and Apache ZooKeeper in both directions.
//
// # Files
//
// The log lives in <dataLogDir>/version-2 (dataDir when dataLogDir is not
// set) as a series of files named
//
//	log.<zxid of the file's first entry, lowercase hex, no padding>
//
// for example log.1, log.100000001. A new file is started by the first
// Append after Open or Roll; zkd, like Apache, never appends to a file that
// was written before a restart. Files are ordered by the zxid in their
// name (numerically, not as strings).
//
// # Byte layout
//
// All integers are big-endian (jute).
//
//	+--------------------------------------------------------------+
//	| FileHeader                                        (16 bytes) |
//	|   int  magic   0x5a4b4c47 "ZKLG"                             |
//	|   int  version 2                                             |
//	|   long dbid    0                                             |
//	+--------------------------------------------------------------+
//	| entry 1                                                      |
//	|   long  checksum  Adler32 of the entry bytes (in the low     |
//	|                   32 bits)                                   |
//	|   int   length    of the entry bytes (> 0)                   |
//	|   byte  entry[length]:                                       |
//	|           TxnHeader {long clientId, int cxid, long zxid,     |
//	|                      long time, int type}                    |
//	|           txn record for the type (CreateTxn, SetDataTxn,    |
//	|                      MultiTxn, ...; none for some old types) |
//	|           [TxnDigest {int version, long treeDigest}]         |
//	|   byte  0x42 'B'  end of record                              |
//	+--------------------------------------------------------------+
//	| entry 2 ...                                                  |
//	+--------------------------------------------------------------+
//	| zeros: pre-allocated padding up to the file size             |
//	+--------------------------------------------------------------+
//
// The entry bytes are jute.EncodeTxnEntry / jute.DecodeTxnEntry
// (Apache's Util.marshallTxnEntry). A length of zero marks the end of
// the written part of a file: that is where the zero padding starts.
//
// # Pre-allocation
//
// Like Apache's FilePadding, when a Sync leaves the write position within
// 4 KiB of the file's size, the file is grown by Options.PreAllocSize
// (default 64 MiB, Apache's zookeeper.preAllocSize), or, if the position is
// already past the end, to the next multiple of PreAllocSize above it. The
// growth is a truncate-to-extend (a sparse file, as Apache's single zero
// byte at the new end makes one).
//
// # Durability
//
// Append only encodes into a buffer. Sync writes every buffered entry with
// one write, grows the file if needed, fsyncs it and, for a new file, fsyncs
// the directory; an Append is durable once a later Sync returns nil (group
// commit: many Appends, one Sync). A failed write or fsync makes the Log
// refuse all further work (ErrFailed): what reached the disk is unknown, so
// the only safe continuation is to reopen, which repairs the tail.
//
// # Creating a file
//
// A new log.<zxid> is first written as tmp.log.<zxid>: its FileHeader is
// written and fsynced, then the file is renamed (the directory is fsynced
// with the first batch's Sync). A crash therefore never leaves a log.<zxid>
// without a header, which Apache 3.8 refuses to start on; Open removes a
// leftover tmp.log.<zxid>.
//
// # Torn tails and corruption
//
// Open and Replay check every entry: the length fits the file, the byte
// after the entry is 'B', the Adler32 matches, and the entry decodes. At
// the first entry that fails, the rest of the file is searched for any
// valid entry:
//
//   - None found in the newest file: the tail is torn (a crash during a
//     write that was never acknowledged). It is truncated at the offset of
//     the bad entry, and a warning names the file, the offset and the reason.
//   - None found in an older file: the tail is logged and skipped, not
//     modified. Apache does the same (it reads each file until a partial
//     entry), and such a file can exist after Apache was killed and
//     restarted, since Apache starts a new file after a restart.
//   - A valid entry follows: the damage is before the end of the log, so
//     acknowledged transactions are lost. Replay and Open fail with an error
//     wrapping ErrCorrupt that names the file and the byte offset; nothing is
//     modified.
//
// A newest file with no complete header (created, never written) holds no
// entries; Open removes such a file. A header that is present but is not
// "ZKLG" version 2 is ErrCorrupt.
//
// Open and Replay read each file into memory whole (a pre-allocated file is
// 64 MiB by default) and release it before the next one.
//
// # Which files Replay reads
//
// Replay(afterZxid) reads the newest file whose name is at or before
// afterZxid+1 and every later file (Apache's FileTxnIterator), and passes
// on the entries with a zxid above afterZxid.
package txnlog
