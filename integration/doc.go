// Package integration runs the built binaries as black boxes with real clients.
// It imports no project package.
//
// # Running
//
//	make build && go test -count=1 ./integration/      # about 3 minutes on 2 CPUs
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
// # Ensembles
//
// ensemble_harness_test.go starts several bin/zkd processes as one ensemble
// on 127.0.0.1: StartEnsemble(t, voters, observers, opts) writes a zoo.cfg
// with server.N lines and a myid per dataDir; StartProxiedEnsemble routes
// every peer connection (quorum and election ports, one proxy per ordered
// pair of servers) through a fault proxy, so Partition(i) closes and refuses
// server i's peer connections, Blackhole(i) swallows its peer traffic
// silently (peers notice only by syncLimit) and Heal(i) undoes either;
// StartEnsembleInOrder leaves each Start(i) to the test. Mode(i) is srvr's
// Mode line, WaitSettled waits for one leader and serving followers,
// SyncedGet syncs then reads on one server. The ensemble tests use
// tickTime=100ms (ensembleOpts), so syncLimit is 500ms.
//
//   - ensemble_test.go: 3 and 5 voters plus an observer; writes forwarded
//     from followers; global sessions (reconnect elsewhere keeps the session
//     and its ephemerals, expiry removes them everywhere); kill -9 of the
//     leader under a steady write load loses no acknowledged write; SIGSTOP
//     of the leader past syncLimit, then SIGCONT, rejoins as follower;
//     follower catch-up by DIFF and by SNAP; a minority refuses writes; an
//     observer does not count for the quorum; five servers started in order
//     (server 3 leads, 4 and 5 follow), the seeds' status loop.
//   - ensemble_partition_test.go: the leader cut off (refused, and black
//     holed) while clients write to it: the majority elects and continues,
//     the old leader rejoins and its uncommitted txns are truncated (TRUNC).
//   - ensemble_linearizability_test.go: TestEnsembleLinearizable runs
//     randomized schedules on one proxied 3-server ensemble: six clients
//     (two starting on each server) do sync+getData, setData and
//     compare-and-set (setData with the version last read) on two fresh
//     znodes while a nemesis kills -9, SIGSTOPs or partitions (refused or
//     black hole) the leader or a follower, once or twice; after each
//     schedule every fault is healed and the ensemble must settle. Each
//     history is checked with porcupine against a versioned register
//     (returned Stat.version included; an outcome the client could not learn
//     may or may not have happened). Knobs: LIN_SCHEDULES=N schedules
//     (default 20, about a minute), LIN_FIRST_SEED (default 1), LIN_SEEDS=3,17
//     to rerun exactly those seeds, LIN_OUT=dir for a violating history (text
//     and porcupine HTML; default the temp dir). It prints
//     "linearizability: N schedules, M operations checked, V violations".
//     `make chaos` runs 200 schedules (LIN_SCHEDULES and LIN_FIRST_SEED pass
//     through) with the full output in var/chaos.log.
//
// The benchmark, cmd/zkbench, is described in docs/benchmarks.md: zkd
// against Apache ZooKeeper standalone, and with -ensemble 3 a 3-server zkd
// ensemble against a 3-server Apache ensemble including the leader
// failover time.
package integration
