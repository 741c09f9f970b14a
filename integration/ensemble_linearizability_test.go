package integration

// Linearizability of a zkd ensemble under faults, checked with porcupine
// (github.com/anishathalye/porcupine): clients set and read a few znodes
// through random servers while the leader is killed, a follower is paused
// or the leader is partitioned. Reads are sync+getData (a plain getData on
// a follower may be stale by design: ZooKeeper only promises sequential
// consistency for it). A set whose outcome the client could not learn
// (connection lost) may or may not have happened: it gets no return time.

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

type regInput struct {
	write bool
	key   string
	value string
}

type regOutput struct {
	value   string
	unknown bool
}

var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(regInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in, out := input.(regInput), output.(regOutput)
		if in.write {
			return true, in.value
		}
		return out.value == state.(string), state
	},
	Equal: func(a, b interface{}) bool { return a == b },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(regInput), output.(regOutput)
		if in.write {
			return fmt.Sprintf("set(%s, %q)", in.key, in.value)
		}
		return fmt.Sprintf("get(%s) -> %q", in.key, out.value)
	},
}

func TestEnsembleLinearizable(t *testing.T) {
	seeds := []int64{1, 2}
	if v := os.Getenv("LIN_SEEDS"); v != "" {
		seeds = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			require.NoError(t, err, "LIN_SEEDS is a comma-separated list of numbers")
			seeds = append(seeds, n)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runLinearizability(t, seed) })
	}
}

func runLinearizability(t *testing.T, seed int64) {
	rnd := rand.New(rand.NewSource(seed))
	e := StartProxiedEnsemble(t, 3, ensembleOpts)
	e.WaitSettled(30 * time.Second)
	keys := []string{"/lin-a", "/lin-b"}
	setup := e.Client(e.Addrs()...)
	for _, k := range keys {
		_, err := setup.Create(k, []byte(""), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}

	var mu sync.Mutex
	var history []porcupine.Operation
	record := func(op porcupine.Operation) {
		mu.Lock()
		history = append(history, op)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const clients = 4
	for cl := 0; cl < clients; cl++ {
		// Each client starts on its own server (all addresses, rotated, so
		// it can move when that one fails).
		addrs := e.Addrs()
		addrs = append(addrs[cl%len(addrs):], addrs[:cl%len(addrs)]...)
		c, events, err := zk.Connect(addrs, 2*time.Second, zk.WithLogger(quietLogger{}))
		require.NoError(t, err)
		t.Cleanup(c.Close)
		go func() {
			for range events {
			}
		}()
		crnd := rand.New(rand.NewSource(seed*100 + int64(cl)))
		wg.Add(1)
		go func(cl int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := keys[crnd.Intn(len(keys))]
				if crnd.Intn(2) == 0 {
					val := fmt.Sprintf("c%d-%d", cl, i)
					call := time.Now().UnixNano()
					_, err := c.Set(key, []byte(val), -1)
					ret := time.Now().UnixNano()
					if err != nil {
						// Outcome unknown: it may take effect at any later time.
						ret = math.MaxInt64
					}
					record(porcupine.Operation{ClientId: cl, Input: regInput{write: true, key: key, value: val},
						Call: call, Output: regOutput{unknown: err != nil}, Return: ret})
					if err != nil {
						time.Sleep(50 * time.Millisecond)
					}
					continue
				}
				call := time.Now().UnixNano()
				if _, err := c.Sync(key); err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				d, _, err := c.Get(key)
				ret := time.Now().UnixNano()
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				record(porcupine.Operation{ClientId: cl, Input: regInput{key: key}, Call: call,
					Output: regOutput{value: string(d)}, Return: ret})
			}
		}(cl)
	}

	time.Sleep(500 * time.Millisecond)
	leader := e.WaitSettled(30 * time.Second)
	fault := rnd.Intn(3)
	switch fault {
	case 0: // kill -9 the leader, restart it later
		t.Logf("seed %d: kill -9 of the leader server.%d", seed, leader+1)
		e.Servers[leader].Kill()
		e.WaitSettled(30*time.Second, leader)
		time.Sleep(500 * time.Millisecond)
		e.Servers[leader].Restart()
	case 1: // pause a follower longer than syncLimit
		f := (leader + 1 + rnd.Intn(2)) % 3
		t.Logf("seed %d: SIGSTOP of follower server.%d for 1.5s", seed, f+1)
		pid := e.Servers[f].PID()
		require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
		time.Sleep(1500 * time.Millisecond)
		require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
	case 2: // silent partition of the leader, then heal
		t.Logf("seed %d: black hole around the leader server.%d for 1.5s", seed, leader+1)
		e.Blackhole(leader)
		time.Sleep(1500 * time.Millisecond)
		e.Heal(leader)
	}
	e.WaitSettled(30 * time.Second)
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	reads, writes := 0, 0
	for _, op := range history {
		if op.Input.(regInput).write {
			writes++
		} else {
			reads++
		}
	}
	require.Greater(t, reads, 10)
	require.Greater(t, writes, 10)
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, 60*time.Second)
	if res == porcupine.Illegal {
		path := fmt.Sprintf("%s/linearizability-seed%d.html", t.TempDir(), seed)
		if err := porcupine.VisualizePath(registerModel, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
	}
	require.NotEqual(t, porcupine.Illegal, res, "history of %d ops (%d reads, %d writes) is not linearizable", len(history), reads, writes)
	t.Logf("seed %d: %d reads, %d writes: %v", seed, reads, writes, res)
}
