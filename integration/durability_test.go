package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKill9Durability: every create the client saw acknowledged survives a
// kill -9 in the middle of a stream of writes, round after round.
func TestKill9Durability(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{SnapCount: 100})
			c, _ := connect(t, srv.Addr(), 4*time.Second)
			_, err := c.Create("/dur", nil, 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			c.Close()

			var acked []string
			const rounds = 3
			for round := 0; round < rounds; round++ {
				c, _ := connect(t, srv.Addr(), 4*time.Second)
				var mu sync.Mutex
				stop := make(chan struct{})
				var wg sync.WaitGroup
				// Four pipelined writers; kill -9 lands while they run.
				for w := 0; w < 4; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						for i := 0; ; i++ {
							select {
							case <-stop:
								return
							default:
							}
							p := fmt.Sprintf("/dur/r%d-w%d-%05d", round, w, i)
							if _, err := c.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
								return
							}
							mu.Lock()
							acked = append(acked, p)
							mu.Unlock()
						}
					}(w)
				}
				time.Sleep(700 * time.Millisecond)
				srv.Kill()
				close(stop)
				wg.Wait()
				c.Close()
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				t.Logf("round %d: %d creates acknowledged so far", round, n)
				if err := srv.TryRestart(); err != nil {
					if kind == kindApache && srv.LogsContain("java.io.EOFException") {
						// Apache 3.8.0 sometimes cannot read the transaction
						// log a kill -9 cut short (EOFException at startup).
						// That is Apache's limitation; the zkd subtest still
						// holds zkd to recovering.
						srv.DumpLogs()
						t.Skipf("Apache ZooKeeper did not restart after kill -9 in round %d (%v, EOFException in its log): a known Apache weakness, not a test failure", round, err)
					}
					srv.DumpLogs()
					t.Fatalf("%s did not restart after kill -9 in round %d: %v", kind, round, err)
				}

				v, _ := connect(t, srv.Addr(), 4*time.Second)
				kids, _, err := v.Children("/dur")
				require.NoError(t, err)
				have := map[string]bool{}
				for _, k := range kids {
					have["/dur/"+k] = true
				}
				var missing []string
				for _, p := range acked {
					if !have[p] {
						missing = append(missing, p)
					}
				}
				require.Empty(t, missing, "round %d: acknowledged creates lost by kill -9 (%d of %d)", round, len(missing), len(acked))
				// Spot-check data of a few.
				for _, p := range acked[len(acked)-3:] {
					data, _, err := v.Get(p)
					require.NoError(t, err)
					assert.Equal(t, p, string(data))
				}
				v.Close()
			}
			require.Greater(t, len(acked), 100, "the writers made too little progress to prove anything")
		})
	}
}

// znodeDump is a path -> data/stat map of a whole tree.
type znodeDump map[string]string

func dumpTree(t *testing.T, c *zk.Conn, path string, out znodeDump) {
	t.Helper()
	data, st, err := c.Get(path)
	require.NoError(t, err, "get %s", path)
	out[path] = fmt.Sprintf("data=%q czxid=%d mzxid=%d pzxid=%d version=%d cversion=%d aversion=%d owner=%d ctime=%d mtime=%d n=%d",
		data, st.Czxid, st.Mzxid, st.Pzxid, st.Version, st.Cversion, st.Aversion, st.EphemeralOwner, st.Ctime, st.Mtime, st.NumChildren)
	acl, _, err := c.GetACL(path)
	require.NoError(t, err)
	out[path] += fmt.Sprintf(" acl=%v", acl)
	kids, _, err := c.Children(path)
	require.NoError(t, err)
	sort.Strings(kids)
	for _, k := range kids {
		child := path + "/" + k
		if path == "/" {
			child = "/" + k
		}
		dumpTree(t, c, child, out)
	}
}

// writeWorkload fills /interop with nested znodes, updates, deletes and ACLs.
func writeWorkload(t *testing.T, c *zk.Conn, n int) {
	t.Helper()
	acl := zk.WorldACL(zk.PermAll)
	_, err := c.Create("/interop", []byte("root"), 0, acl)
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("/interop/n%03d", i)
		_, err := c.Create(p, []byte(fmt.Sprintf("v%d", i)), 0, acl)
		require.NoError(t, err)
		if i%3 == 0 {
			_, err = c.Create(p+"/kid", []byte{0, 1, 2, 255}, 0, acl)
			require.NoError(t, err)
		}
		if i%5 == 0 {
			_, err = c.Set(p, []byte(fmt.Sprintf("v%d-updated", i)), -1)
			require.NoError(t, err)
		}
		if i%7 == 0 && i > 0 {
			prev := fmt.Sprintf("/interop/n%03d", i-1)
			if (i-1)%3 == 0 {
				require.NoError(t, c.Delete(prev+"/kid", -1))
			}
			require.NoError(t, c.Delete(prev, -1))
		}
	}
	_, err = c.Create("/interop/seq-", nil, zk.FlagSequence, acl)
	require.NoError(t, err)
	_, err = c.Create("/interop/locked", []byte("secret"), 0, zk.DigestACL(zk.PermAll, superUser, superSecret))
	require.NoError(t, err)
	_, err = c.SetACL("/interop/n001", zk.WorldACL(zk.PermRead|zk.PermWrite|zk.PermAdmin), -1)
	require.NoError(t, err)
	_, err = c.CreateContainer("/interop/box", nil, zk.FlagContainer, acl)
	require.NoError(t, err)
	_, err = c.Create("/interop/box/item", nil, 0, acl)
	require.NoError(t, err)
	_, err = c.CreateTTL("/interop/ttl", nil, zk.FlagTTL, acl, time.Hour)
	require.NoError(t, err)
}

func dataDirFiles(t *testing.T, dataDir string) (snaps, logs []string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dataDir, "version-2"))
	require.NoError(t, err, "dataDir has no version-2 directory")
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "snapshot."):
			snaps = append(snaps, e.Name())
		case strings.HasPrefix(e.Name(), "log."):
			logs = append(logs, e.Name())
		}
	}
	return snaps, logs
}

// TestDataDirInterop moves a dataDir between Apache ZooKeeper and zkd, both
// ways, with a small snapCount so it holds snapshots and logs, and checks
// every znode, its data, stat and ACL made it across.
func TestDataDirInterop(t *testing.T) {
	for _, dir := range []struct{ from, to string }{{kindApache, kindZkd}, {kindZkd, kindApache}} {
		t.Run(dir.from+"_to_"+dir.to, func(t *testing.T) {
			t.Parallel()
			dataDir := filepath.Join(t.TempDir(), "data")
			writer := StartServer(t, dir.from, ServerOptions{DataDir: dataDir, SnapCount: 20})
			c, _ := connect(t, writer.Addr(), 4*time.Second)
			writeWorkload(t, c, 120)
			require.NoError(t, c.AddAuth("digest", []byte(superUser+":"+superSecret)))
			before := znodeDump{}
			dumpTree(t, c, "/interop", before)
			c.Close()
			writer.Stop()
			snaps, logs := dataDirFiles(t, dataDir)
			t.Logf("%s left snapshots %v and logs %v", dir.from, snaps, logs)
			require.NotEmpty(t, snaps, "%s wrote no snapshot with snapCount=20", dir.from)
			require.NotEmpty(t, logs, "%s wrote no transaction log", dir.from)

			reader := StartServer(t, dir.to, ServerOptions{DataDir: dataDir})
			r, _ := connect(t, reader.Addr(), 4*time.Second)
			require.NoError(t, r.AddAuth("digest", []byte(superUser+":"+superSecret)))
			after := znodeDump{}
			dumpTree(t, r, "/interop", after)
			assert.Equal(t, before, after, "%s does not see %s's dataDir as it was", dir.to, dir.from)
			// And it keeps working on it: new writes go after the old zxids.
			_, err := r.Create("/interop/after", nil, 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			_, st, err := r.Exists("/interop/after")
			require.NoError(t, err)
			_, rootSt, err := r.Exists("/interop")
			require.NoError(t, err)
			assert.Equal(t, st.Czxid, rootSt.Pzxid)
			var maxZxid int64
			for _, v := range before {
				var cz, mz int64
				_, _ = fmt.Sscanf(v[strings.Index(v, "czxid="):], "czxid=%d mzxid=%d", &cz, &mz)
				maxZxid = max(maxZxid, cz, mz)
			}
			assert.Greater(t, st.Czxid, maxZxid, "a new write must get a zxid after every imported one")
		})
	}
}

// TestDataDirInteropAfterKill9: the dataDir one server leaves after kill -9
// in the middle of a write stream (preallocated log tail, maybe a snapshot
// being written) opens in the other server with every acknowledged write.
func TestDataDirInteropAfterKill9(t *testing.T) {
	for _, dir := range []struct{ from, to string }{{kindApache, kindZkd}, {kindZkd, kindApache}} {
		t.Run(dir.from+"_to_"+dir.to, func(t *testing.T) {
			t.Parallel()
			dataDir := filepath.Join(t.TempDir(), "data")
			writer := StartServer(t, dir.from, ServerOptions{DataDir: dataDir, SnapCount: 50})
			c, _ := connect(t, writer.Addr(), 4*time.Second)
			_, err := c.Create("/k9", nil, 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			var mu sync.Mutex
			var acked []string
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						p := fmt.Sprintf("/k9/w%d-%05d", w, i)
						if _, err := c.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
							return
						}
						mu.Lock()
						acked = append(acked, p)
						mu.Unlock()
					}
				}(w)
			}
			time.Sleep(800 * time.Millisecond)
			writer.Kill()
			close(stop)
			wg.Wait()
			c.Close()
			require.Greater(t, len(acked), 50, "too few writes before the kill to prove anything")
			listing := describeDataDir(dataDir)
			t.Logf("%s left after kill -9:\n%s", dir.from, listing)

			reader, err := StartServerSoft(t, dir.to, ServerOptions{DataDir: dataDir})
			if err != nil {
				reader.DumpLogs()
				if empty := emptyLogs(dataDir); len(empty) > 0 {
					t.Fatalf("%s cannot open the dataDir %s left after kill -9: %v.\n%s left transaction log(s) %v with no file header (0 bytes); "+
						"%s recovers from that, Apache 3.8.0 stops with EOFException in FileHeader.deserialize. "+
						"Creating each new log under a temporary name with its header written and synced, then renaming it, would avoid this.",
						dir.to, dir.from, err, dir.from, empty, dir.from)
				}
				t.Fatalf("%s cannot open the dataDir %s left after kill -9: %v", dir.to, dir.from, err)
			}
			r, _ := connect(t, reader.Addr(), 4*time.Second)
			kids, _, err := r.Children("/k9")
			require.NoError(t, err)
			have := map[string]bool{}
			for _, k := range kids {
				have["/k9/"+k] = true
			}
			var missing []string
			for _, p := range acked {
				if !have[p] {
					missing = append(missing, p)
				}
			}
			assert.Empty(t, missing, "%s lost %d of %d writes %s acknowledged before kill -9", dir.to, len(missing), len(acked), dir.from)
			t.Logf("%d acknowledged, %d present", len(acked), len(kids))
		})
	}
}

// describeDataDir lists version-2 with sizes and the first bytes of each
// file (log header "ZKLG", snapshot header "ZKSN"), for crash diagnostics.
func describeDataDir(dataDir string) string {
	dir := filepath.Join(dataDir, "version-2")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue
		}
		head := make([]byte, 16)
		if f, err := os.Open(filepath.Join(dir, e.Name())); err == nil {
			n, _ := f.Read(head)
			head = head[:n]
			f.Close()
		}
		fmt.Fprintf(&b, "  %-22s %10d bytes  head % x\n", e.Name(), info.Size(), head)
	}
	return b.String()
}

// emptyLogs lists transaction logs shorter than a file header (16 bytes).
func emptyLogs(dataDir string) []string {
	entries, _ := os.ReadDir(filepath.Join(dataDir, "version-2"))
	var out []string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), "log.") && info.Size() < 16 {
			out = append(out, fmt.Sprintf("%s (%d bytes)", e.Name(), info.Size()))
		}
	}
	return out
}
