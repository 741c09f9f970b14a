package integration

// Network partitions between zkd peers, through TCP proxies on every peer
// connection (StartProxiedEnsemble).

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// The leader is cut off from both followers while clients write to it: the
// majority elects a new leader and keeps accepting writes, the old leader
// stops serving (a minority never accepts a write), and after the heal it
// rejoins as a follower; the txns it logged but could not commit are
// truncated (TRUNC), and every acknowledged write survives on every server.
func TestEnsemblePartitionedLeaderIsTruncated(t *testing.T) {
	e := StartProxiedEnsemble(t, 3, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	majority := e.Addrs(leader)
	_, err := e.Client(majority...).Create("/p", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)

	var mu sync.Mutex
	acked := map[string]bool{}
	failed := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		c := e.Client(e.Servers[leader].Addr())
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/p/old-leader-w%d-%05d", w, i)
				_, err := c.Create(p, []byte("x"), 0, zk.WorldACL(zk.PermAll))
				mu.Lock()
				if err == nil {
					acked[p] = true
				} else {
					failed[p] = true
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}(w)
	}
	time.Sleep(500 * time.Millisecond)
	e.Partition(leader)
	newLeader := e.WaitSettled(30*time.Second, leader)
	require.NotEqual(t, leader, newLeader)
	require.Eventually(t, func() bool { return e.Mode(leader) == "" }, 10*time.Second, 100*time.Millisecond,
		"the partitioned leader must stop serving")
	cm := e.Client(majority...)
	_, err = cm.Create("/p/during-partition", []byte("m"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	close(stop)
	wg.Wait()

	e.Heal(leader)
	e.WaitSettled(30 * time.Second)
	require.Equal(t, "follower", e.Mode(leader))
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, acked)
	for i := range e.Servers {
		c := e.Client(e.Servers[i].Addr())
		_, err := c.Sync("/p")
		require.NoError(t, err)
		kids, _, err := c.Children("/p")
		require.NoError(t, err)
		have := map[string]bool{}
		for _, k := range kids {
			have["/p/"+k] = true
		}
		require.True(t, have["/p/during-partition"], "server.%d", i+1)
		for p := range acked {
			require.True(t, have[p], "server.%d lost acknowledged %s", i+1, p)
		}
		for p := range have {
			require.True(t, acked[p] || failed[p] || p == "/p/during-partition", "server.%d has %s, which nobody wrote", i+1, p)
		}
	}
	// The old leader's uncommitted tail was cut by TRUNC (or, when its
	// last txn had reached the new leader, replaced by the new history).
	truncated := e.Servers[leader].LogsContain("TRUNC from the leader") || e.Servers[leader].LogsContain("installed SNAP")
	t.Logf("old leader truncated: %v (acked %d, failed %d)", truncated, len(acked), len(failed))
}

// A silent partition (black hole) of the leader while a client writes to
// it: the leader logs the proposal, cannot commit it, steps down after
// syncLimit; the majority elects a new leader; after the heal the old
// leader's uncommitted txn is cut by TRUNC and the write exists nowhere.
func TestEnsembleBlackholedLeaderTruncatesUncommittedTxn(t *testing.T) {
	e := StartProxiedEnsemble(t, 3, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	cm := e.Client(e.Addrs(leader)...)
	_, err := cm.Create("/committed", []byte("c"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	cl := e.Client(e.Servers[leader].Addr())
	_, err = cl.Sync("/")
	require.NoError(t, err)

	e.Blackhole(leader)
	_, err = cl.Create("/never-committed", []byte("x"), 0, zk.WorldACL(zk.PermAll))
	require.Error(t, err, "a leader cut off from its quorum acknowledged a write")
	newLeader := e.WaitSettled(30*time.Second, leader)
	require.NotEqual(t, leader, newLeader)
	_, err = cm.Create("/after", []byte("a"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)

	e.Heal(leader)
	e.WaitSettled(30 * time.Second)
	require.Equal(t, "follower", e.Mode(leader))
	require.True(t, e.Servers[leader].LogsContain("truncated the txn log (TRUNC from the leader)"),
		"the old leader should have been told to TRUNC its uncommitted txn")
	for i := range e.Servers {
		_, ok := e.SyncedGet(i, "/never-committed")
		require.False(t, ok, "server.%d has a write no quorum accepted", i+1)
		d, ok := e.SyncedGet(i, "/after")
		require.True(t, ok, "server.%d", i+1)
		require.Equal(t, "a", string(d))
	}
}
