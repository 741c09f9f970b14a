// Package zkd is the ZooKeeper-compatible server; see cmd/zkd and internal/.
package zkd
