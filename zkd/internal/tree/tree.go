// Package tree is zkd's data tree: znodes, ACLs, ephemerals, watches, sessions
// and the preparation of client requests into transactions. It is pure: no
// sockets, files, goroutines or wall clock; time is passed in by the caller
// (milliseconds since the epoch). One goroutine owns a Tree.
//
// The rules follow Apache ZooKeeper 3.8's DataTree, PrepRequestProcessor,
// FinalRequestProcessor, WatchManager and SessionTrackerImpl:
//   - create: parent cversion = the txn's parentCVersion (cversion+1), parent
//     pzxid = zxid, sequential suffix %010d of the parent's cversion before
//     the create; the new node has czxid = mzxid = pzxid = zxid.
//   - delete: parent pzxid = zxid when larger; the persisted cversion is not
//     changed (DataTree.deleteNode), but clients see 2*cversion - numChildren
//     (DataNode.copyStat), so a delete raises the reported cversion by one.
//   - setData: version+1, mzxid, mtime; setACL: aversion+1.
package tree

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"mqstack/proto/jute"
)

// Ephemeral owner encodings (EphemeralType).
const (
	ContainerOwner int64 = math.MinInt64      // CONTAINER_EPHEMERAL_OWNER
	ttlMask        int64 = -72057594037927936 // 0xFF00000000000000
	MaxTTL         int64 = 0xFFFFFFFFFF       // 40 bits
	ttlValueMask   int64 = 0x00FFFFFFFFFFFFFF
)

// TTLOwner encodes a TTL in an ephemeralOwner (0xFF<<56 | ttl).
func TTLOwner(ttl int64) int64 { return ttlMask | ttl }

// OwnerTTL returns the TTL encoded in an ephemeralOwner and whether it is one.
func OwnerTTL(owner int64) (int64, bool) {
	if owner != ContainerOwner && owner&ttlMask == ttlMask {
		return owner & ttlValueMask & 0xFFFFFFFFFF, true
	}
	return 0, false
}

// IsSessionOwner reports whether owner is a real session (a normal ephemeral).
func IsSessionOwner(owner int64) bool {
	if owner == 0 || owner == ContainerOwner {
		return false
	}
	_, ttl := OwnerTTL(owner)
	return !ttl
}

// Well-known paths.
const (
	ZookeeperPath = "/zookeeper"
	QuotaPath     = "/zookeeper/quota"
	ConfigPath    = "/zookeeper/config"
)

// ErrNodeExists etc. are internal failures of applying a txn.
var ErrApply = errors.New("tree: cannot apply txn")

// Node is one znode.
type Node struct {
	Data     []byte
	ACL      int64
	Stat     jute.StatPersisted
	children childSet
}

// Children returns the child names in Apache's order (Java HashSet
// iteration order, see childSet).
func (n *Node) Children() []string { return n.children.list() }

// NumChildren is the child count.
func (n *Node) NumChildren() int { return n.children.size }

// Tree is the data tree plus watches. Not safe for concurrent use.
type Tree struct {
	nodes      map[string]*Node
	acls       *aclCache
	ephemerals map[int64]*childSet // per session, a Java HashSet (DataTree.ephemerals)
	containers map[string]struct{}
	ttls       map[string]struct{}

	Watches *WatchManager

	lastZxid int64
	triggers []trigger
	undo     []func()
	record   bool
}

type trigger struct {
	kind int // 0 created, 1 deleted, 2 data changed
	path string
	// acl is the changed node's ACL and parentACL its parent's, read when
	// the change is applied: DataTree passes them to triggerWatch and
	// ServerCnxn.process delivers an event only to a watcher that may READ
	// (the parent's ACL for NodeChildrenChanged of the parent).
	acl, parentACL []jute.ACL
}

// New returns a tree with the root and the /zookeeper subtree.
func New() *Tree {
	t := &Tree{
		nodes:      map[string]*Node{},
		acls:       newACLCache(),
		ephemerals: map[int64]*childSet{},
		containers: map[string]struct{}{},
		ttls:       map[string]struct{}{},
		Watches:    NewWatchManager(),
	}
	t.nodes["/"] = &Node{Data: []byte{}, ACL: -1}
	t.addSystemNodes()
	return t
}

// addSystemNodes creates /zookeeper, /zookeeper/quota and /zookeeper/config
// when missing (they carry zero stats, as Apache's do).
func (t *Tree) addSystemNodes() {
	for _, p := range []string{ZookeeperPath, QuotaPath, ConfigPath} {
		if _, ok := t.nodes[p]; ok {
			continue
		}
		parent, name := Split(p)
		pn := t.nodes[parent]
		if pn == nil {
			continue
		}
		acl := int64(-1)
		if p == ConfigPath {
			acl = t.acls.convert(jute.ReadACLUnsafe)
		}
		pn.children.add(name)
		n := &Node{Data: []byte{}, ACL: acl}
		if p == ConfigPath {
			n.Stat.Aversion = -1 // Apache sets READ_ACL_UNSAFE with setACL(path, acl, -1)
		}
		t.nodes[p] = n
	}
}

// LastZxid is the zxid of the last applied txn.
func (t *Tree) LastZxid() int64 { return t.lastZxid }

// SetLastZxid sets it after loading a snapshot.
func (t *Tree) SetLastZxid(z int64) { t.lastZxid = z }

// Get returns the node at path or nil.
func (t *Tree) Get(path string) *Node {
	if path == "" {
		path = "/"
	}
	return t.nodes[path]
}

// NodeCount is Apache's DataTree.getNodeCount: its node map holds the root
// twice (as "" and "/"), so a fresh server reports 5.
func (t *Tree) NodeCount() int { return len(t.nodes) + 1 }

// ApproximateDataSize sums path and data lengths (Apache's approximate_data_size).
func (t *Tree) ApproximateDataSize() int64 {
	var n int64
	for p, nd := range t.nodes {
		n += int64(len(p) + len(nd.Data))
	}
	return n
}

// ACL returns the ACL list of a node.
func (t *Tree) ACL(n *Node) []jute.ACL { return t.acls.get(n.ACL) }

// StatOf builds the client Stat of a node as DataNode.copyStat does: the
// persisted cversion counts child creates, clients see the count of child
// changes (2*creates - children still present); container and TTL nodes
// report ephemeralOwner 0 (their marker stays in the persisted stat).
func StatOf(n *Node) jute.Stat {
	s := n.Stat
	owner := s.EphemeralOwner
	if !IsSessionOwner(owner) {
		owner = 0
	}
	kids := int32(n.children.size)
	return jute.Stat{
		Czxid: s.Czxid, Mzxid: s.Mzxid, Ctime: s.Ctime, Mtime: s.Mtime,
		Version: s.Version, Cversion: s.Cversion*2 - kids, Aversion: s.Aversion,
		EphemeralOwner: owner, DataLength: int32(len(n.Data)),
		NumChildren: kids, Pzxid: s.Pzxid,
	}
}

// Ephemerals returns the ephemeral paths owned by session in the order
// Apache's getEphemerals gives them (a clone of the session's HashSet),
// which is also the order a closeSession txn lists and deletes them in.
func (t *Tree) Ephemerals(session int64) []string {
	m := t.ephemerals[session]
	if m == nil {
		return []string{}
	}
	return m.javaCloneList()
}

// EphemeralsBySession returns every session's ephemeral paths.
func (t *Tree) EphemeralsBySession() map[int64][]string {
	out := map[int64][]string{}
	for s := range t.ephemerals {
		out[s] = t.Ephemerals(s)
	}
	return out
}

// EphemeralCount is the number of ephemeral nodes.
func (t *Tree) EphemeralCount() int {
	n := 0
	for _, m := range t.ephemerals {
		n += m.size
	}
	return n
}

// AllChildrenNumber counts every descendant of path (Apache's getAllChildrenNumber).
func (t *Tree) AllChildrenNumber(path string) int {
	if path == "/" {
		return len(t.nodes) - 1
	}
	prefix := path + "/"
	n := 0
	for p := range t.nodes {
		if strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

// --- mutation primitives (each records an undo step when recording) ---

func (t *Tree) pushUndo(f func()) {
	if t.record {
		t.undo = append(t.undo, f)
	}
}

func (t *Tree) createNode(path string, data []byte, acl []jute.ACL, owner int64, parentCVersion int32, zxid, time int64) (*Node, error) {
	parentPath, name := Split(path)
	parent := t.nodes[parentPath]
	if parent == nil {
		return nil, jute.ErrNoNode
	}
	if parent.children.has(name) {
		return nil, jute.ErrNodeExists
	}
	oldPS := parent.Stat
	if parentCVersion == -1 {
		parentCVersion = parent.Stat.Cversion + 1
	}
	if parentCVersion > parent.Stat.Cversion {
		parent.Stat.Cversion = parentCVersion
		parent.Stat.Pzxid = zxid
	}
	// Data is kept as sent: a null buffer stays null (getData answers -1).
	n := &Node{
		Data: data,
		ACL:  t.acls.convert(acl),
		Stat: jute.StatPersisted{Czxid: zxid, Mzxid: zxid, Pzxid: zxid, Ctime: time, Mtime: time,
			EphemeralOwner: owner},
	}
	var oldKids childSet
	var oldEph *childSet
	oldNext := t.acls.next
	if t.record {
		oldKids = parent.children.clone()
		if m := t.ephemerals[owner]; m != nil {
			c := m.clone()
			oldEph = &c
		}
	}
	parent.children.add(name)
	t.nodes[path] = n
	t.indexOwner(path, owner)
	t.triggers = append(t.triggers, trigger{kind: 0, path: path, acl: t.acls.get(n.ACL), parentACL: t.acls.get(parent.ACL)})
	t.pushUndo(func() {
		parent.children = oldKids
		delete(t.nodes, path)
		parent.Stat = oldPS
		t.unindexOwner(path, owner)
		if IsSessionOwner(owner) {
			// Restore the session's set exactly (a grown table changes its order).
			if oldEph == nil {
				delete(t.ephemerals, owner)
			} else {
				t.ephemerals[owner] = oldEph
			}
		}
		t.acls.release(n.ACL)
		t.acls.next = oldNext
	})
	return n, nil
}

func (t *Tree) indexOwner(path string, owner int64) {
	switch {
	case owner == 0:
	case owner == ContainerOwner:
		t.containers[path] = struct{}{}
	default:
		if _, ok := OwnerTTL(owner); ok {
			t.ttls[path] = struct{}{}
			return
		}
		m := t.ephemerals[owner]
		if m == nil {
			s := newJavaSet(16)
			m = &s
			t.ephemerals[owner] = m
		}
		m.add(path)
	}
}

func (t *Tree) unindexOwner(path string, owner int64) {
	delete(t.containers, path)
	delete(t.ttls, path)
	if m := t.ephemerals[owner]; m != nil {
		m.remove(path) // Apache keeps the (possibly empty) set until the session ends
	}
}

func (t *Tree) deleteNode(path string, zxid int64) error {
	if path == "/" {
		return jute.ErrBadArguments
	}
	parentPath, name := Split(path)
	parent := t.nodes[parentPath]
	n := t.nodes[path]
	if parent == nil || n == nil {
		return jute.ErrNoNode
	}
	oldPS := parent.Stat
	var oldKids childSet
	if t.record {
		oldKids = parent.children.clone()
	}
	parent.children.remove(name)
	if zxid > parent.Stat.Pzxid {
		parent.Stat.Pzxid = zxid
	}
	delete(t.nodes, path)
	t.unindexOwner(path, n.Stat.EphemeralOwner)
	// The ACL list is read before the release: the release may drop the
	// cache entry (its last usage), and both the watch events and a
	// rollback need the list.
	acl := t.acls.get(n.ACL)
	t.acls.release(n.ACL)
	t.triggers = append(t.triggers, trigger{kind: 1, path: path, acl: acl, parentACL: t.acls.get(parent.ACL)})
	t.pushUndo(func() {
		parent.children = oldKids
		parent.Stat = oldPS
		t.nodes[path] = n
		t.indexOwner(path, n.Stat.EphemeralOwner)
		t.acls.restore(n.ACL, acl)
	})
	return nil
}

func (t *Tree) setData(path string, data []byte, version int32, zxid, time int64) (*Node, error) {
	n := t.nodes[path]
	if n == nil {
		return nil, jute.ErrNoNode
	}
	oldData, oldStat := n.Data, n.Stat
	n.Data = data
	n.Stat.Mtime = time
	n.Stat.Mzxid = zxid
	n.Stat.Version = version
	t.triggers = append(t.triggers, trigger{kind: 2, path: path, acl: t.acls.get(n.ACL)})
	t.pushUndo(func() { n.Data, n.Stat = oldData, oldStat })
	return n, nil
}

func (t *Tree) setACL(path string, acl []jute.ACL, version int32) (*Node, error) {
	n := t.nodes[path]
	if n == nil {
		return nil, jute.ErrNoNode
	}
	oldRef, oldStat, oldNext := n.ACL, n.Stat, t.acls.next
	oldACL := t.acls.get(oldRef)
	n.ACL = t.acls.convert(acl)
	t.acls.release(oldRef)
	n.Stat.Aversion = version
	t.pushUndo(func() {
		t.acls.release(n.ACL)
		t.acls.restore(oldRef, oldACL)
		t.acls.next = oldNext
		n.ACL, n.Stat = oldRef, oldStat
	})
	return n, nil
}

// --- applying transactions ---

// Result is the outcome of applying one txn (ProcessTxnResult).
type Result struct {
	Type  jute.Op
	Err   jute.Err
	Path  string
	Stat  jute.Stat
	Multi []Result
}

// Apply applies a committed transaction and records the watch triggers it
// causes (fetch them with TakeEvents). Errors inside the txn (a node that
// is already gone when replaying) are reported in Result.Err, as Apache does.
func (t *Tree) Apply(e *jute.TxnEntry) Result {
	r := t.apply(&e.Header, e.Txn)
	if e.Header.Zxid > t.lastZxid {
		t.lastZxid = e.Header.Zxid
	}
	return r
}

func errCode(err error) jute.Err {
	var c jute.Err
	if errors.As(err, &c) {
		return c
	}
	return jute.ErrSystemError
}

func (t *Tree) apply(h *jute.TxnHeader, txn jute.Record) Result {
	r := Result{Type: h.Type}
	fail := func(err error) Result { r.Err = errCode(err); return r }
	switch x := txn.(type) {
	case *jute.CreateTxn:
		owner := int64(0)
		if x.Ephemeral {
			owner = h.ClientID
		}
		r.Path = x.Path
		n, err := t.createNode(x.Path, x.Data, x.ACL, owner, x.ParentCVersion, h.Zxid, h.Time)
		if err != nil {
			return fail(err)
		}
		r.Stat = StatOf(n)
	case *jute.CreateContainerTxn:
		r.Path = x.Path
		n, err := t.createNode(x.Path, x.Data, x.ACL, ContainerOwner, x.ParentCVersion, h.Zxid, h.Time)
		if err != nil {
			return fail(err)
		}
		r.Stat = StatOf(n)
	case *jute.CreateTTLTxn:
		r.Path = x.Path
		n, err := t.createNode(x.Path, x.Data, x.ACL, TTLOwner(x.TTL), x.ParentCVersion, h.Zxid, h.Time)
		if err != nil {
			return fail(err)
		}
		r.Stat = StatOf(n)
	case *jute.DeleteTxn:
		r.Path = x.Path
		if err := t.deleteNode(x.Path, h.Zxid); err != nil {
			return fail(err)
		}
	case *jute.SetDataTxn:
		r.Path = x.Path
		n, err := t.setData(x.Path, x.Data, x.Version, h.Zxid, h.Time)
		if err != nil {
			return fail(err)
		}
		r.Stat = StatOf(n)
	case *jute.SetACLTxn:
		r.Path = x.Path
		n, err := t.setACL(x.Path, x.ACL, x.Version)
		if err != nil {
			return fail(err)
		}
		r.Stat = StatOf(n)
	case *jute.CheckVersionTxn:
		r.Path = x.Path
		if n := t.nodes[x.Path]; n != nil {
			r.Stat = StatOf(n)
		}
	case *jute.ErrorTxn:
		r.Err = x.Err
	case *jute.CreateSessionTxn:
	case *jute.CloseSessionTxn:
		paths := x.Paths2Delete
		if paths == nil {
			paths = t.Ephemerals(h.ClientID)
		}
		for _, p := range paths {
			_ = t.deleteNode(p, h.Zxid)
		}
		// Drop any leftover (a pre-3.6 txn without a list, or a list from a fuzzy snapshot).
		for _, p := range t.Ephemerals(h.ClientID) {
			_ = t.deleteNode(p, h.Zxid)
		}
		delete(t.ephemerals, h.ClientID) // killSession: ephemerals.remove(session)
	case *jute.MultiTxn:
		failed := false
		for _, s := range x.Txns {
			if s.Type == jute.OpError {
				failed = true
				break
			}
		}
		post := false
		for _, s := range x.Txns {
			rec, err := jute.NewTxn(s.Type)
			if err != nil {
				r.Multi = append(r.Multi, Result{Type: jute.OpError, Err: jute.ErrMarshallingError})
				continue
			}
			if err := jute.Unmarshal(s.Data, rec); err != nil {
				r.Multi = append(r.Multi, Result{Type: jute.OpError, Err: jute.ErrMarshallingError})
				continue
			}
			typ := s.Type
			if typ == jute.OpError {
				post = true
			}
			if failed && typ != jute.OpError {
				ec := jute.ErrOK
				if post {
					ec = jute.ErrRuntimeInconsistency
				}
				typ, rec = jute.OpError, &jute.ErrorTxn{Err: ec}
			}
			sh := *h
			sh.Type = typ
			sr := t.apply(&sh, rec)
			r.Multi = append(r.Multi, sr)
			if sr.Err != 0 && r.Err == 0 {
				r.Err = sr.Err
			}
		}
	case nil:
	default:
		return fail(fmt.Errorf("%w: %T", ErrApply, txn))
	}
	return r
}

// TakeEvents runs the watch triggers recorded since the last call through
// the watch manager and returns the deliveries, in order.
func (t *Tree) TakeEvents() []Delivery {
	var out []Delivery
	for _, tr := range t.triggers {
		switch tr.kind {
		case 0:
			out = t.Watches.trigger(out, tr.path, jute.EventNodeCreated, dataTable, tr.acl, nil)
			pp, _ := Split(tr.path)
			out = t.Watches.trigger(out, pp, jute.EventNodeChildrenChanged, childTable, tr.parentACL, nil)
		case 1:
			seen := map[int64]bool{}
			out = t.Watches.trigger(out, tr.path, jute.EventNodeDeleted, dataTable, tr.acl, seen)
			out = t.Watches.trigger(out, tr.path, jute.EventNodeDeleted, childTable, tr.acl, seen)
			pp, _ := Split(tr.path)
			out = t.Watches.trigger(out, pp, jute.EventNodeChildrenChanged, childTable, tr.parentACL, nil)
		case 2:
			out = t.Watches.trigger(out, tr.path, jute.EventNodeDataChanged, dataTable, tr.acl, nil)
		}
	}
	t.triggers = t.triggers[:0]
	return out
}

// --- containers and TTLs ---

// ExpiredContainers lists the paths a ContainerManager pass deletes now:
// containers whose cversion > 0 and that have no children, and TTL nodes
// without children whose mtime + ttl is past (Apache's getCandidates).
func (t *Tree) ExpiredContainers(now int64) []string {
	var out []string
	for p := range t.containers {
		n := t.nodes[p]
		if n != nil && n.Stat.Cversion > 0 && n.children.size == 0 {
			out = append(out, p)
		}
	}
	for p := range t.ttls {
		n := t.nodes[p]
		if n == nil || n.children.size != 0 {
			continue
		}
		if ttl, ok := OwnerTTL(n.Stat.EphemeralOwner); ok && now-n.Stat.Mtime > ttl {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// --- snapshots ---

// Clone returns a deep copy of the znodes and the ACL cache (no watches), for
// writing a snapshot on another goroutine while this tree keeps changing.
// Data slices are shared: the tree never mutates one in place.
func (t *Tree) Clone() *Tree {
	c := &Tree{
		nodes:      make(map[string]*Node, len(t.nodes)),
		acls:       &aclCache{byRef: make(map[int64][]jute.ACL, len(t.acls.byRef)), byKey: map[string]int64{}, counts: map[int64]int{}, next: t.acls.next},
		ephemerals: map[int64]*childSet{},
		containers: map[string]struct{}{},
		ttls:       map[string]struct{}{},
		Watches:    NewWatchManager(),
		lastZxid:   t.lastZxid,
	}
	for p, n := range t.nodes {
		c.nodes[p] = &Node{Data: n.Data, ACL: n.ACL, Stat: n.Stat, children: n.children.clone()}
	}
	for r, a := range t.acls.byRef {
		c.acls.byRef[r] = a
	}
	return c
}

// WalkNodes calls fn for every node in pre-order with the root as path "",
// as Apache's snapshot serializer does.
func (t *Tree) WalkNodes(fn func(path string, n *jute.DataNode) error) error {
	var walk func(path string) error
	walk = func(path string) error {
		n := t.nodes[path]
		key := path
		if path == "/" {
			key = ""
		}
		if err := fn(key, &jute.DataNode{Data: n.Data, ACL: n.ACL, Stat: n.Stat}); err != nil {
			return err
		}
		for _, c := range n.Children() {
			child := key + "/" + c
			if err := walk(child); err != nil {
				return err
			}
		}
		return nil
	}
	return walk("/")
}

// ACLEntries lists the ACL cache for a snapshot.
func (t *Tree) ACLEntries(fn func(ref int64, acl []jute.ACL)) {
	refs := make([]int64, 0, len(t.acls.byRef))
	for r := range t.acls.byRef {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i] < refs[j] })
	for _, r := range refs {
		fn(r, t.acls.byRef[r])
	}
}

// Loader rebuilds a tree from a snapshot (it implements the snapshot Visitor's
// ACL and Node methods; sessions are handled by the caller).
type Loader struct {
	t *Tree
}

// NewLoader starts loading into an empty tree.
func NewLoader() *Loader {
	t := New()
	t.nodes = map[string]*Node{}
	t.acls = newACLCache()
	return &Loader{t: t}
}

// ACL registers an ACL cache entry.
func (l *Loader) ACL(ref int64, acl []jute.ACL) { l.t.acls.load(ref, acl) }

// ErrSnapshot reports an inconsistent snapshot.
var ErrSnapshot = errors.New("tree: invalid snapshot")

// Node adds a node; parents come before children.
func (l *Loader) Node(path string, dn *jute.DataNode) error {
	t := l.t
	if path == "" || path == "/" {
		t.nodes["/"] = &Node{Data: dn.Data, ACL: dn.ACL, Stat: dn.Stat}
		return nil
	}
	parentPath, name := Split(path)
	parent := t.nodes[parentPath]
	if parent == nil {
		return fmt.Errorf("%w: node %q has no parent", ErrSnapshot, path)
	}
	parent.children.add(name)
	t.nodes[path] = &Node{Data: dn.Data, ACL: dn.ACL, Stat: dn.Stat}
	t.acls.retain(dn.ACL)
	t.indexOwner(path, dn.Stat.EphemeralOwner)
	return nil
}

// Tree finishes loading.
func (l *Loader) Tree() (*Tree, error) {
	if l.t.nodes["/"] == nil {
		return nil, fmt.Errorf("%w: no root node", ErrSnapshot)
	}
	l.t.addSystemNodes()
	return l.t, nil
}
