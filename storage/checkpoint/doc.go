// Package checkpoint reads and writes the small text files a Kafka broker
// keeps in each log directory, in Kafka's exact formats, so a log directory
// moves between brokerd and Apache Kafka.
//
// # Offset checkpoints
//
// recovery-point-offset-checkpoint, replication-offset-checkpoint and
// log-start-offset-checkpoint (Kafka's OffsetCheckpointFile):
//
//	0                      <- version line, always 0
//	2                      <- number of entries
//	orders 0 1500          <- topic SP partition SP offset
//	orders 1 1432
//
// # Leader epoch checkpoint
//
// <partition dir>/leader-epoch-checkpoint (LeaderEpochCheckpointFile):
//
//	0                      <- version
//	2                      <- number of entries
//	0 0                    <- epoch SP start offset
//	3 1200
//
// # meta.properties
//
// A Java properties file; in ZooKeeper mode version 0 with broker.id and
// cluster.id:
//
//	#
//	#Sat Nov 21 12:00:00 UTC 2026
//	version=0
//	broker.id=1
//	cluster.id=fRZlqeRkQtuEzhM0wtk0zw
//
// # Atomic writes
//
// Every writer does what Kafka's CheckpointFile does: write <file>.tmp,
// fsync it, rename it over <file>, then fsync the directory, so a crash
// leaves either the old or the new content, never a mix. A leftover .tmp
// is ignored by readers and replaced by the next write.
//
// # Reading
//
// Readers reject a malformed file with ErrMalformed naming the file and the
// line (1-based). A missing file reads as empty (ErrNotExist is not
// returned), like Kafka, which creates the file on first use.
package checkpoint
