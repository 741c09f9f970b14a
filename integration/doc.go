// Package integration runs the built binaries as black boxes with real clients.
// It imports no project package.
//
// # Running
//
//	make build && go test -count=1 ./integration/      # about a minute on 2 CPUs
//	make interop                                        # the Interop/ZkCli/Kazoo tests, tools required
//
// The zkd binary is $ZKD_BIN or ../bin/zkd; a test that needs it and does not
// find it fails and says to run `make build`. Apache ZooKeeper 3.8 (Debian
// package zookeeper, run with java), kazoo (python3-kazoo, run with
// /usr/bin/python3) and zkCli.sh (/usr/share/zookeeper/bin/zkCli.sh) are used
// when installed; when one is missing its tests skip with the package to
// install, and with REQUIRE_INTEROP=1 they fail instead. APACHE_ZK_CLASSPATH
// overrides the Apache classpath.
//
// # Harness (harness_test.go)
//
// StartServer(t, kind, opts) starts zkd (`zkd start-foreground zoo.cfg`,
// clientPort=0, ready when it prints `ZKD READY client=host:port`) or Apache
// ZooKeeper (QuorumPeerMain on a free port, -Xmx256m, ready when ruok answers
// imok and srvr reports a Mode) with a temporary dataDir and tickTime=200ms
// (session timeouts 0.4-4s), every four-letter word allowed, TTL nodes on,
// a super digest user, and container checks every 500ms. Stop sends SIGTERM,
// Kill sends SIGKILL, Restart starts again on the same dataDir and port.
// Each process' stdout and stderr are kept in the test's temp dir and printed
// when the test fails.
//
// # Suites
//
//   - scenario_test.go: TestScenarios runs the same go-zookeeper scenarios
//     (create modes, Stat fields, errors, invalid paths, watches, persistent
//     watches, multi, ACLs, sessions, containers/TTL, getAllChildrenNumber,
//     getEphemerals, whoAmI, sync, multiRead, removeWatches, setWatches2,
//     edge cases) as zkd/<name> and apache/<name>. Each records a trace with
//     zxids replaced by their rank, and compare/<name> asserts the two traces
//     are equal, so relations between zxids, versions and error codes must
//     match Apache's exactly.
//   - protocol_test.go: raw-socket handshake (readOnly byte mirrored,
//     16-byte password, timeouts clamped, wrong password and unknown session
//     get timeOut 0 and a close), bad input (garbage, truncated frames,
//     2 GiB and negative length prefixes, oversized fields, unknown opcode,
//     silent and stalled clients) while another client is served, limits
//     (jute.maxbuffer, a client from the future, maxClientCnxns), pipelined
//     order and read-your-writes.
//   - sessions_test.go: sessions survive a server stop and kill -9, silent
//     sessions expire, watch fan-out and cleanup.
//   - durability_test.go: acknowledged writes survive kill -9 mid-stream,
//     round after round; dataDirs move between Apache and zkd both ways, after
//     a clean stop (full tree, Stat and ACL compare) and after kill -9.
//   - fourlw_test.go, metrics_test.go: four-letter words, the whitelist
//     message, mntr counts, zkd's Prometheus endpoint.
//   - interop_test.go: kazoo (testdata/kazoo_recipes.py: CRUD, watches, Lock,
//     Election, Counter, Queue, Barrier), Apache's zkCli.sh, and `zkd cli`
//     compared line by line with zkCli.sh.
//   - differential_test.go: seeded random operation sequences (creates with
//     every deterministic mode and several ACLs, versioned sets and deletes,
//     setACL, multi, watches from an unauthenticated second session,
//     session turnover, two restarts) run on both servers; the rank-normalised
//     traces must be identical. DIFF_SEEDS=N runs seeds 1..N, DIFF_DUMP=1
//     prints Apache's trace up to a difference, DIFF_READER_AUTH=1 removes
//     the ACL lock-outs to look past ACL-related differences.
//   - scripts_test.go: deploy/bin/zkServer.sh against Debian's zkServer.sh.
//   - lifecycle_test.go: zkd --version, bad-config errors, SIGTERM.
//
// The benchmark, cmd/zkbench, is described in docs/benchmarks.md.
package integration
