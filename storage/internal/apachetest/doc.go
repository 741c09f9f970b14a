// Package apachetest holds the interoperability tests of the storage
// formats against Apache ZooKeeper 3.8 from the Debian package: files
// written by txnlog and snapshot are read by Apache's SnapshotFormatter,
// TxnLogToolkit and server, and a data directory written by an Apache server
// is read back with txnlog.Replay and snapshot.ReadNewest.
//
// The tests skip when java or the jars are missing, and fail instead when
// REQUIRE_INTEROP=1.
package apachetest
