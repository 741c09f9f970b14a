package integration

// Linearizability of a zkd ensemble under faults, checked with porcupine
// (github.com/anishathalye/porcupine).
//
// One proxied 3-server ensemble runs many short randomized schedules, one
// after another. In each schedule six clients (two starting on each server,
// all free to move) read, write and compare-and-set two fresh znodes while
// a nemesis chosen from the seed kills (-9) the leader or a follower,
// SIGSTOPs the leader or a follower for longer than syncLimit, or cuts the
// leader or a follower off (closed connections or a silent black hole),
// sometimes two faults in a row; then everything is healed and restarted
// and the ensemble must settle before the next schedule. Each schedule's
// history is checked on its own (its znodes are its own).
//
// Operations: a read is sync+getData and returns data and Stat.version (a
// plain getData on a follower may be stale by design: ZooKeeper only
// promises sequential consistency for it); a write is setData(-1); a
// compare-and-set is setData with the version the client's previous read
// returned. The model is a register with a version: a write moves it to
// version+1 and the returned Stat must say so, a BADVERSION answer must
// have found another version. An operation whose outcome the client could
// not learn (connection lost, session expired) may or may not have taken
// effect: it gets no return time.
//
// Knobs: LIN_SCHEDULES (default 20) schedules with seeds LIN_FIRST_SEED
// (default 1) onwards, or LIN_SEEDS=3,17 for exactly those seeds.
// LIN_OUT names a directory for the history and porcupine's HTML of a
// violating schedule (default the system temp dir). A summary line
// "linearizability: N schedules, M operations checked, V violations" is
// printed at the end (make chaos runs 200 schedules).

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
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

type linKind int

const (
	linRead linKind = iota
	linWrite
	linCAS
)

type linInput struct {
	kind   linKind
	key    string
	value  string // written value
	expect int32  // linCAS: the version the set requires
}

type linOutput struct {
	value      string // linRead: the data read
	version    int32  // linRead: Stat.version; writes: the new Stat.version
	unknown    bool   // a write whose outcome the client never learned
	badVersion bool   // linCAS answered BADVERSION
}

type linState struct {
	value   string
	version int32
}

var versionedRegister = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(linInput).key
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
	Init: func() interface{} { return linState{} },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		s, in, out := state.(linState), input.(linInput), output.(linOutput)
		next := linState{value: in.value, version: s.version + 1}
		switch in.kind {
		case linRead:
			return out.value == s.value && out.version == s.version, s
		case linWrite:
			if out.unknown {
				return true, next
			}
			return out.version == next.version, next
		default: // linCAS
			if out.unknown {
				// Applied only if the version matched at that point; an
				// operation that never ran is linearized at the end.
				if s.version == in.expect {
					return true, next
				}
				return true, s
			}
			if out.badVersion {
				return s.version != in.expect, s
			}
			return s.version == in.expect && out.version == next.version, next
		}
	},
	Equal: func(a, b interface{}) bool { return a == b },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(linInput), output.(linOutput)
		res := fmt.Sprintf("v%d", out.version)
		switch {
		case out.unknown:
			res = "unknown"
		case out.badVersion:
			res = "BADVERSION"
		}
		switch in.kind {
		case linRead:
			return fmt.Sprintf("get(%s) -> %q v%d", in.key, out.value, out.version)
		case linWrite:
			return fmt.Sprintf("set(%s, %q) -> %s", in.key, in.value, res)
		default:
			return fmt.Sprintf("cas(%s, v%d, %q) -> %s", in.key, in.expect, in.value, res)
		}
	},
}

// linSeeds reads LIN_SEEDS, or LIN_SCHEDULES and LIN_FIRST_SEED.
func linSeeds(t *testing.T) []int64 {
	if v := os.Getenv("LIN_SEEDS"); v != "" {
		var seeds []int64
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			require.NoError(t, err, "LIN_SEEDS is a comma-separated list of numbers, e.g. LIN_SEEDS=3,17")
			seeds = append(seeds, n)
		}
		return seeds
	}
	count, first := int64(20), int64(1)
	if v := os.Getenv("LIN_SCHEDULES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "LIN_SCHEDULES is a number of schedules, e.g. LIN_SCHEDULES=200")
		require.Greater(t, n, int64(0), "LIN_SCHEDULES must be at least 1")
		count = n
	}
	if v := os.Getenv("LIN_FIRST_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "LIN_FIRST_SEED is a number, e.g. LIN_FIRST_SEED=1000")
		first = n
	}
	seeds := make([]int64, 0, count)
	for i := int64(0); i < count; i++ {
		seeds = append(seeds, first+i)
	}
	return seeds
}

type linStats struct {
	reads, writes, cas, unknown int
	result                      porcupine.CheckResult
	faults                      string
}

func (s linStats) ops() int { return s.reads + s.writes + s.cas }

func TestEnsembleLinearizable(t *testing.T) {
	// Mostly waiting on timeouts: it overlaps with the other parallel tests.
	t.Parallel()
	seeds := linSeeds(t)
	e := StartProxiedEnsemble(t, 3, ensembleOpts)
	e.WaitSettled(30 * time.Second)
	started := time.Now()
	var checked, undecided int
	var violations []string
	for _, seed := range seeds {
		st := runLinSchedule(t, e, seed)
		if t.Failed() && st.result != porcupine.Illegal {
			break // a harness failure (no settle, too few ops): stop here
		}
		switch st.result {
		case porcupine.Ok:
			checked += st.ops()
		case porcupine.Illegal:
			violations = append(violations, fmt.Sprintf("seed %d (%s)", seed, st.faults))
		default:
			undecided++
		}
	}
	summary := fmt.Sprintf("linearizability: %d schedules, %d operations checked, %d violations, %d undecided (porcupine timeout), %v",
		len(seeds), checked, len(violations), undecided, time.Since(started).Round(time.Second))
	if len(violations) > 0 {
		summary += "; violating: " + strings.Join(violations, ", ")
	}
	t.Log(summary)
	fmt.Println(summary)
	require.Empty(t, violations, "linearizability violations")
	require.Zero(t, undecided, "porcupine could not decide some histories within its timeout")
}

// linOutcome sorts a setData error: BADVERSION is a definite "no effect";
// anything else (connection lost, session expired, no server) leaves the
// outcome unknown.
func linOutcome(err error) (unknown, badVersion bool) {
	if err == nil {
		return false, false
	}
	if errors.Is(err, zk.ErrBadVersion) {
		return false, true
	}
	return true, false
}

// healAll undoes every fault: SIGCONT, heal the proxies, restart a killed
// server.
func healAll(e *Ensemble) {
	for i, s := range e.Servers {
		if pid := s.PID(); pid != 0 {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
		e.Heal(i)
		if s.PID() == 0 {
			s.Restart()
		}
	}
}

func runLinSchedule(t *testing.T, e *Ensemble, seed int64) linStats {
	rnd := rand.New(rand.NewSource(seed))
	defer healAll(e)
	keys := []string{fmt.Sprintf("/lin-%d-a", seed), fmt.Sprintf("/lin-%d-b", seed)}
	setup := e.Client(e.Addrs()...)
	for _, k := range keys {
		_, err := setup.Create(k, []byte(""), 0, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			require.NoError(t, err, "create %s", k)
		}
		// A rerun of a seed on the same ensemble starts from version 0 again.
		if err == nil {
			continue
		}
		require.NoError(t, setup.Delete(k, -1))
		_, err = setup.Create(k, []byte(""), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	setup.Close()

	var mu sync.Mutex
	var history []porcupine.Operation
	record := func(op porcupine.Operation) {
		mu.Lock()
		history = append(history, op)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const clients = 6
	var conns []*zk.Conn
	defer func() {
		// Close blocks up to a second on a lost connection: in parallel.
		var cw sync.WaitGroup
		for _, c := range conns {
			cw.Add(1)
			go func(c *zk.Conn) { defer cw.Done(); c.Close() }(c)
		}
		cw.Wait()
	}()
	for cl := 0; cl < clients; cl++ {
		addrs := e.Addrs()
		addrs = append(addrs[cl%len(addrs):], addrs[:cl%len(addrs)]...)
		c, events, err := zk.Connect(addrs, 2*time.Second, zk.WithLogger(quietLogger{}))
		require.NoError(t, err)
		conns = append(conns, c)
		go func() {
			for range events {
			}
		}()
		crnd := rand.New(rand.NewSource(seed*100 + int64(cl)))
		wg.Add(1)
		go func(cl int) {
			defer wg.Done()
			lastVersion := map[string]int32{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := keys[crnd.Intn(len(keys))]
				val := fmt.Sprintf("c%d-%d", cl, i)
				switch r := crnd.Intn(10); {
				case r < 4: // sync + read
					call := time.Now().UnixNano()
					if _, err := c.Sync(key); err != nil {
						time.Sleep(30 * time.Millisecond)
						continue
					}
					d, st, err := c.Get(key)
					ret := time.Now().UnixNano()
					if err != nil {
						time.Sleep(30 * time.Millisecond)
						continue
					}
					lastVersion[key] = st.Version
					record(porcupine.Operation{ClientId: cl, Input: linInput{kind: linRead, key: key},
						Call: call, Output: linOutput{value: string(d), version: st.Version}, Return: ret})
				default: // write (-1) or compare-and-set on the last version read
					in := linInput{kind: linWrite, key: key, value: val}
					version := int32(-1)
					if r >= 7 {
						in.kind, in.expect = linCAS, lastVersion[key]
						version = in.expect
					}
					call := time.Now().UnixNano()
					st, err := c.Set(key, []byte(val), version)
					ret := time.Now().UnixNano()
					out := linOutput{}
					out.unknown, out.badVersion = linOutcome(err)
					if out.unknown {
						ret = math.MaxInt64 // it may take effect at any later time
					} else if err == nil {
						out.version = st.Version
						lastVersion[key] = st.Version
					}
					record(porcupine.Operation{ClientId: cl, Input: in, Call: call, Output: out, Return: ret})
					if out.unknown {
						time.Sleep(30 * time.Millisecond)
					}
				}
			}
		}(cl)
	}

	// The nemesis: one or two faults.
	var faults []string
	time.Sleep(time.Duration(200+rnd.Intn(300)) * time.Millisecond)
	nFaults := 1 + rnd.Intn(3)/2 // one in three schedules gets two faults
	for f := 0; f < nFaults; f++ {
		leader := e.WaitSettled(30 * time.Second)
		follower := (leader + 1 + rnd.Intn(2)) % 3
		hold := time.Duration(600+rnd.Intn(700)) * time.Millisecond
		kind := rnd.Intn(7)
		if f == 0 {
			kind = int(seed % 7) // consecutive seeds cover every fault kind
		}
		switch kind {
		case 0:
			faults = append(faults, fmt.Sprintf("kill -9 leader server.%d, restart after new leader", leader+1))
			e.Servers[leader].Kill()
			e.WaitSettled(30*time.Second, leader)
			time.Sleep(hold / 2)
			e.Servers[leader].Restart()
		case 1:
			faults = append(faults, fmt.Sprintf("kill -9 follower server.%d for %v", follower+1, hold))
			e.Servers[follower].Kill()
			time.Sleep(hold)
			e.Servers[follower].Restart()
		case 2:
			faults = append(faults, fmt.Sprintf("SIGSTOP leader server.%d for %v", leader+1, hold))
			pid := e.Servers[leader].PID()
			require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
			time.Sleep(hold)
			require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
		case 3:
			faults = append(faults, fmt.Sprintf("SIGSTOP follower server.%d for %v", follower+1, hold))
			pid := e.Servers[follower].PID()
			require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
			time.Sleep(hold)
			require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
		case 4:
			faults = append(faults, fmt.Sprintf("black hole around leader server.%d for %v", leader+1, hold))
			e.Blackhole(leader)
			time.Sleep(hold)
			e.Heal(leader)
		case 5:
			faults = append(faults, fmt.Sprintf("partition (refused) of leader server.%d for %v", leader+1, hold))
			e.Partition(leader)
			time.Sleep(hold)
			e.Heal(leader)
		case 6:
			faults = append(faults, fmt.Sprintf("partition (refused) of follower server.%d for %v", follower+1, hold))
			e.Partition(follower)
			time.Sleep(hold)
			e.Heal(follower)
		}
	}
	e.WaitSettled(30 * time.Second)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	st := linStats{faults: strings.Join(faults, "; ")}
	for _, op := range history {
		switch op.Input.(linInput).kind {
		case linRead:
			st.reads++
		case linWrite:
			st.writes++
		default:
			st.cas++
		}
		if op.Output.(linOutput).unknown {
			st.unknown++
		}
	}
	require.Greater(t, st.reads, 10, "seed %d: too few reads (%s)", seed, st.faults)
	require.Greater(t, st.writes+st.cas, 10, "seed %d: too few writes (%s)", seed, st.faults)
	res, info := porcupine.CheckOperationsVerbose(versionedRegister, history, 30*time.Second)
	st.result = res
	t.Logf("seed %d: %s: %d reads, %d writes, %d cas (%d unknown outcomes): %v",
		seed, st.faults, st.reads, st.writes, st.cas, st.unknown, res)
	if res == porcupine.Illegal {
		dir := os.Getenv("LIN_OUT")
		if dir == "" {
			dir = os.TempDir()
		}
		html := filepath.Join(dir, fmt.Sprintf("zkd-linearizability-seed%d.html", seed))
		if err := porcupine.VisualizePath(versionedRegister, info, html); err == nil {
			t.Logf("seed %d: visualization kept at %s", seed, html)
		}
		var b strings.Builder
		for _, op := range history {
			ret := "∞"
			if op.Return != math.MaxInt64 {
				ret = strconv.FormatInt(op.Return, 10)
			}
			fmt.Fprintf(&b, "client %d [%d, %s] %s\n", op.ClientId, op.Call, ret,
				versionedRegister.DescribeOperation(op.Input, op.Output))
		}
		hist := filepath.Join(dir, fmt.Sprintf("zkd-linearizability-seed%d.txt", seed))
		if err := os.WriteFile(hist, []byte(b.String()), 0o644); err == nil {
			t.Logf("seed %d: history kept at %s", seed, hist)
		}
		t.Errorf("seed %d: history of %d ops is NOT linearizable (faults: %s)", seed, len(history), st.faults)
		for _, s := range e.Servers {
			s.DumpLogs()
		}
	}
	return st
}
