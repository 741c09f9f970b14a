// Package snapshot reads and writes zkd's fuzzy snapshots in Apache
// ZooKeeper 3.8's FileSnap format, so a data directory moves between zkd and
// Apache ZooKeeper in both directions.
//
// # Files
//
// Snapshots live in <dataDir>/version-2 as
//
//	snapshot.<zxid, lowercase hex, no padding>
//
// where zxid is the last transaction applied when the snapshot was started
// (the log is replayed from zxid+1 on top of it). Write creates
// snapshot.<hex>.tmp, fsyncs it, renames it into place and fsyncs the
// directory, so a crash leaves either the old set of snapshots or the new
// one; readers ignore .tmp files (Apache's AtomicFileOutputStream uses the
// same name).
//
// # Byte layout
//
// All integers are big-endian (jute); a string is an int length then UTF-8
// bytes; a buffer is an int length (-1 for null) then bytes.
//
//	+-----------------------------------------------------------------+
//	| FileHeader {int magic 0x5a4b534e "ZKSN", int version 2,         |
//	|             long dbid 0}                              16 bytes  |
//	+-----------------------------------------------------------------+
//	| int count; count x {long sessionId, int timeoutMs}   sessions   |
//	+-----------------------------------------------------------------+
//	| int size;  size x {long ref, int n, n x ACL}         ACL cache  |
//	|            ACL = {int perms, string scheme, string id}          |
//	|            (never a null vector: Apache rejects it)             |
//	+-----------------------------------------------------------------+
//	| string path ""   DataNode of the root                 nodes in  |
//	| string path "/a" DataNode                             pre-order |
//	| string path "/a/b" DataNode ...                                 |
//	|   DataNode = {buffer data, long aclRef, StatPersisted {long     |
//	|     czxid, mzxid, ctime, mtime; int version, cversion,          |
//	|     aversion; long ephemeralOwner, pzxid}}                      |
//	| string "/"                                            end mark  |
//	+-----------------------------------------------------------------+
//	| long checksum: Adler32 of every byte above             seal     |
//	| string "/"                                                      |
//	+-----------------------------------------------------------------+
//	| optional (Apache 3.6+ with zookeeper.digest.enabled):           |
//	|   ZxidDigest {long zxid, int digestVersion, long digest}        |
//	|   (digestVersion < 2: the digest is a hex string instead)       |
//	|   long checksum: Adler32 of every byte above, seal included     |
//	|   string "/"                                                    |
//	+-----------------------------------------------------------------+
//
// aclRef -1 means world:anyone with all permissions (Apache's
// OPEN_UNSAFE_ACL_ID) and is not stored in the ACL cache.
//
// # Reading
//
// ReadNewest tries the snapshots newest first (at most 100, as Apache's
// findNValidSnapshots). A file that does not end in the "/" seal is an
// unfinished snapshot and is skipped quietly, as Apache's isValidSnapshot
// does. Every other file is decoded completely, checksums and tree order
// included (each node's parent comes before it), BEFORE the Visitor sees
// anything; a file that fails is logged with the reason and the next older
// one is tried. If complete-looking snapshots exist but none is valid,
// ReadNewest returns ErrCorrupt naming every file tried. The snapshot is
// read into memory whole.
//
// # Differences from Apache
//
//   - zkd writes no ZxidDigest trailer (it does not compute Apache's tree
//     digest). Apache reads such files: it treats the missing trailer as an
//     older snapshot and skips the digest check. zkd reads and verifies
//     Apache's trailer (Info.Digest) but does not recompute the digest.
//   - Compressed snapshots (Apache's snapshot.compression.method=gz or
//     snappy, files snapshot.<hex>.gz / .snappy) are not supported. When the
//     newest snapshot is compressed, ReadNewest fails with ErrCompressed and
//     says how to fix it: run Apache with snapshot.compression.method=none
//     until it has written an uncompressed snapshot. Purge counts compressed
//     snapshots by name.
//   - Sessions are written in the order given (Apache writes its HashMap
//     order); readers do not depend on the order.
//
// # Purge
//
// Purge follows Apache's PurgeTxnLog: keep the newest retain (at least 3)
// complete snapshots; with X the zxid of the oldest one kept, delete every
// snapshot.Y and log.Y with Y < X except the newest log file that starts at
// or before X, which may hold transactions after X.
package snapshot
