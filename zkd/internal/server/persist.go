package server

import (
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"mqstack/proto/jute"
	"mqstack/storage/snapshot"
	"mqstack/storage/txnlog"
	"mqstack/storage/vfs"
	"mqstack/zkd/internal/config"
	"mqstack/zkd/internal/tree"
)

// store is the server's dataDir/dataLogDir: the txn log and snapshots.
type store struct {
	fsys    vfs.FS
	snapDir string
	logDir  string
	log     *txnlog.Log
	logger  zerolog.Logger

	// Ensemble mode: the newest snapshot's zxid at open, and the logged
	// txns after it (the last maxTail, jute-encoded TxnEntries), which a
	// leader offers as its history; tailBase is the zxid before tail[0].
	snapZxid int64
	tail     []loggedTxn
	tailBase int64

	// The newest snapshot read at open or written since (the AdminServer's
	// last_snapshot): its zxid, and its time in seconds since the epoch.
	lastSnapMu   sync.Mutex
	lastSnapZxid int64
	lastSnapTime int64
	haveLastSnap bool
}

// noteSnapshot records the newest snapshot for last_snapshot.
func (st *store) noteSnapshot(zxid, unixSec int64) {
	st.lastSnapMu.Lock()
	st.lastSnapZxid, st.lastSnapTime, st.haveLastSnap = zxid, unixSec, true
	st.lastSnapMu.Unlock()
}

// lastSnapshot is the newest snapshot's zxid and time; ok false when none
// was read or written since start.
func (st *store) lastSnapshot() (zxid, unixSec int64, ok bool) {
	st.lastSnapMu.Lock()
	defer st.lastSnapMu.Unlock()
	return st.lastSnapZxid, st.lastSnapTime, st.haveLastSnap
}

// loggedTxn is one txn of the log, encoded as in the log.
type loggedTxn struct {
	zxid int64
	data []byte
}

// maxTail is how many logged txns a server keeps for DIFF (Apache's
// zookeeper.commitLogCount).
const maxTail = 500

func (st *store) addTail(zxid int64, data []byte) {
	st.tail = append(st.tail, loggedTxn{zxid: zxid, data: data})
	if over := len(st.tail) - maxTail; over > 0 {
		st.tailBase = st.tail[over-1].zxid
		st.tail = append([]loggedTxn(nil), st.tail[over:]...)
	}
}

type recoverVisitor struct {
	l        *tree.Loader
	sessions map[int64]int32
}

func (v *recoverVisitor) Session(id int64, timeout int32) { v.sessions[id] = timeout }
func (v *recoverVisitor) ACL(ref int64, acl []jute.ACL)   { v.l.ACL(ref, acl) }
func (v *recoverVisitor) Node(path string, n *jute.DataNode) error {
	return v.l.Node(path, n)
}

// openStore recovers the tree and sessions from the newest valid snapshot
// plus the txn log, as Apache's FileTxnSnapLog.restore does, then opens the
// log for appending and takes a clean snapshot.
func openStore(fsys vfs.FS, cfg *config.Config, logger zerolog.Logger, nowMs int64) (*store, *tree.Tree, *tree.Sessions, error) {
	st := &store{
		fsys:    fsys,
		snapDir: filepath.Join(cfg.DataDir, "version-2"),
		logDir:  filepath.Join(cfg.DataLogDir, "version-2"),
		logger:  logger,
	}
	// Durable: a crash right after start must not lose the directories.
	if err := vfs.MkdirAllDurable(st.fsys, st.snapDir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("server: create snapshot directory %s (dataDir in %s): %w", st.snapDir, cfg.Path, err)
	}
	v := &recoverVisitor{l: tree.NewLoader(), sessions: map[int64]int32{}}
	snapZxid, found, err := snapshot.ReadNewest(st.fsys, st.snapDir, logger, v)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: load snapshot from %s: %w (move the bad file away to start from an older one)", st.snapDir, err)
	}
	var t *tree.Tree
	if found {
		if t, err = v.l.Tree(); err != nil {
			return nil, nil, nil, fmt.Errorf("server: snapshot in %s: %w", st.snapDir, err)
		}
		t.SetLastZxid(snapZxid)
		if fi, err := st.fsys.Stat(filepath.Join(st.snapDir, snapshot.FileName(snapZxid))); err == nil {
			st.noteSnapshot(snapZxid, fi.ModTime().Unix())
		}
	} else {
		t = tree.New()
		snapZxid = 0
	}
	st.snapZxid, st.tailBase = snapZxid, snapZxid
	distributed := cfg.Distributed()
	last, err := txnlog.Replay(st.fsys, st.logDir, snapZxid, logger, func(e *jute.TxnEntry) error {
		if distributed {
			enc := &jute.Encoder{}
			jute.EncodeTxnEntry(enc, e)
			st.addTail(e.Header.Zxid, enc.Buf)
		}
		t.Apply(e)
		t.TakeEvents()
		switch x := e.Txn.(type) {
		case *jute.CreateSessionTxn:
			v.sessions[e.Header.ClientID] = x.TimeOut
		case *jute.CloseSessionTxn:
			delete(v.sessions, e.Header.ClientID)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: replay txn log in %s: %w", st.logDir, err)
	}
	if last > t.LastZxid() {
		t.SetLastZxid(last)
	}
	// Ephemerals of sessions that are not in the session table are dead
	// (ZooKeeperServer.loadData kills them without a txn).
	for owner := range t.EphemeralsBySession() {
		if _, ok := v.sessions[owner]; !ok {
			t.Apply(&jute.TxnEntry{Header: jute.TxnHeader{ClientID: owner, Zxid: t.LastZxid(), Type: jute.OpCloseSession},
				Txn: &jute.CloseSessionTxn{}})
			t.TakeEvents()
		}
	}
	// A standalone Apache server creates its session tracker with server id
	// 1 (ZooKeeperServer.createSessionTrackerServerId), so ids start 0x01...
	myid := cfg.MyID
	if !cfg.Distributed() {
		myid = 1
	}
	sessions := tree.NewSessions(int64(cfg.TickTime.Milliseconds()), nowMs, myid)
	for id, to := range v.sessions {
		sessions.Add(id, to, nowMs)
	}
	l, err := txnlog.Open(st.fsys, st.logDir, txnlog.Options{PreAllocSize: cfg.PreAllocSize, Logger: logger})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: open txn log in %s (dataLogDir in %s): %w", st.logDir, cfg.Path, err)
	}
	st.log = l
	logger.Info().Int64("snapshotZxid", snapZxid).Int64("lastZxid", t.LastZxid()).Int("sessions", len(v.sessions)).
		Int("znodes", t.NodeCount()).Msg("recovered data directory")
	if distributed {
		// A quorum member keeps its log as it is: its tail may hold txns
		// that a new leader truncates (TRUNC), which a snapshot taken now
		// would freeze (Apache does not snapshot a quorum peer's load either).
		return st, t, sessions, nil
	}
	if err := st.snapshot(t, sessions); err != nil {
		_ = l.Close()
		return nil, nil, nil, err
	}
	st.snapZxid = t.LastZxid()
	return st, t, sessions, nil
}

func (st *store) append(e *jute.TxnEntry) error { return st.log.Append(e) }
func (st *store) sync() error                   { return st.log.Sync() }

// snapshot rolls the log and writes snapshot.<lastZxid>.
func (st *store) snapshot(t *tree.Tree, sessions *tree.Sessions) error {
	if err := st.log.Roll(); err != nil {
		return fmt.Errorf("server: roll txn log before snapshot: %w", err)
	}
	return st.writeSnapshot(t, sessions.All())
}

// writeSnapshot writes snapshot.<t.LastZxid()>; safe on any goroutine when t
// is a Clone.
func (st *store) writeSnapshot(t *tree.Tree, sessions []tree.Session) error {
	snap := &snapshot.Snapshot{Nodes: t.WalkNodes}
	for _, ss := range sessions {
		snap.Sessions = append(snap.Sessions, snapshot.Session{ID: ss.ID, Timeout: ss.Timeout})
	}
	t.ACLEntries(func(ref int64, acl []jute.ACL) {
		snap.ACLs = append(snap.ACLs, snapshot.ACLEntry{Ref: ref, ACL: acl})
	})
	name, err := snapshot.Write(st.fsys, st.snapDir, t.LastZxid(), snap)
	if err != nil {
		return fmt.Errorf("server: write snapshot in %s: %w", st.snapDir, err)
	}
	st.noteSnapshot(t.LastZxid(), time.Now().Unix())
	st.logger.Info().Str("file", name).Msg("snapshot written")
	return nil
}

func (st *store) purge(retain int) error {
	return snapshot.Purge(st.fsys, st.snapDir, st.logDir, retain)
}

func (st *store) close() error {
	if st.log == nil {
		return nil
	}
	return st.log.Close()
}

// dirSize sums the sizes of the files in dir (dirs 4lw).
func (st *store) dirSize(dir string) int64 {
	names, err := st.fsys.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, name := range names {
		if fi, err := st.fsys.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() {
			n += fi.Size()
		}
	}
	return n
}
