package tree

import (
	"errors"
	"sort"

	"mqstack/proto/jute"
)

// Watch modes (WatcherMode).
const (
	ModeStandard            = 0
	ModePersistent          = 1
	ModePersistentRecursive = 2
)

const (
	dataTable  = 0
	childTable = 1
)

// Delivery is one watch event for one watcher (a connection id).
type Delivery struct {
	Watcher int64
	Event   jute.WatcherEvent
	// ACL is the ACL of the node the event is about, as it was when the
	// change was applied (for NodeChildrenChanged, the parent's). nil for
	// events that are not filtered (setWatches answers).
	ACL []jute.ACL
}

// Visible is ServerCnxn.process(event, znodeAcl) in Apache 3.8: an event
// reaches a connection only when its ids may READ the node
// (ZooKeeperServer.checkACL: super, an empty list and world:anyone pass).
// The watch is used up either way; the caller drops invisible events.
func (d Delivery) Visible(auth Auth) bool {
	return d.ACL == nil || Check(d.ACL, jute.PermRead, auth) == nil
}

// WatchManager holds data and child watch tables, as Apache's two
// WatchManagers do; persistent watches are in both tables.
type WatchManager struct {
	tables [2]map[string]map[int64]int // path -> watcher -> mode
	// recursive counts persistent-recursive registrations; when zero the
	// parent walk is skipped.
	recursive int
}

// NewWatchManager returns an empty manager.
func NewWatchManager() *WatchManager {
	return &WatchManager{tables: [2]map[string]map[int64]int{{}, {}}}
}

func (w *WatchManager) add(table int, path string, watcher int64, mode int) {
	m := w.tables[table][path]
	if m == nil {
		m = map[int64]int{}
		w.tables[table][path] = m
	}
	if old, ok := m[watcher]; ok && old == ModePersistentRecursive {
		w.recursive--
	}
	// The latest registration decides the mode of (watcher, path) in this
	// table, as Apache 3.8's WatcherModeManager: a one-shot getData/exists
	// after addWatch turns the persistent watch into a one-shot one.
	if mode == ModePersistentRecursive {
		w.recursive++
	}
	m[watcher] = mode
}

func (w *WatchManager) remove(table int, path string, watcher int64) bool {
	m := w.tables[table][path]
	mode, ok := m[watcher]
	if !ok {
		return false
	}
	if mode == ModePersistentRecursive {
		w.recursive--
	}
	delete(m, watcher)
	if len(m) == 0 {
		delete(w.tables[table], path)
	}
	return true
}

// AddData registers a one-shot data (or exists) watch.
func (w *WatchManager) AddData(path string, watcher int64) {
	w.add(dataTable, path, watcher, ModeStandard)
}

// AddChild registers a one-shot child watch.
func (w *WatchManager) AddChild(path string, watcher int64) {
	w.add(childTable, path, watcher, ModeStandard)
}

// AddPersistent registers addWatch in mode (0 persistent, 1 persistent recursive).
func (w *WatchManager) AddPersistent(path string, watcher int64, addWatchMode int32) {
	mode := ModePersistent
	if addWatchMode == jute.AddWatchPersistentRecursive {
		mode = ModePersistentRecursive
	}
	w.add(dataTable, path, watcher, mode)
	w.add(childTable, path, watcher, mode)
}

// Contains is checkWatches: watcher type 1 children, 2 data, 3 any. Like
// Apache 3.8's WatchManager.containsWatcher it answers whether the path has
// any watcher in the table ("at the leaf node, all watcher types match"),
// not only this connection's.
func (w *WatchManager) Contains(path string, watcher int64, typ int32) bool {
	d := len(w.tables[dataTable][path]) > 0
	c := len(w.tables[childTable][path]) > 0
	switch typ {
	case jute.WatcherChildren:
		return c
	case jute.WatcherData:
		return d
	case jute.WatcherAny:
		return c || d
	}
	return false
}

// Remove is removeWatches; it reports whether anything was removed.
func (w *WatchManager) Remove(path string, watcher int64, typ int32) bool {
	switch typ {
	case jute.WatcherChildren:
		return w.remove(childTable, path, watcher)
	case jute.WatcherData:
		return w.remove(dataTable, path, watcher)
	case jute.WatcherAny:
		c := w.remove(childTable, path, watcher)
		d := w.remove(dataTable, path, watcher)
		return c || d
	}
	return false
}

// RemoveWatcher drops every watch of a closed connection.
func (w *WatchManager) RemoveWatcher(watcher int64) {
	for table := range w.tables {
		for path, m := range w.tables[table] {
			if _, ok := m[watcher]; ok {
				w.remove(table, path, watcher)
			}
		}
	}
}

// trigger is WatchManager.triggerWatch: exact-path watchers fire (one-shot
// ones are removed); persistent-recursive watchers on the path or an
// ancestor fire for everything but NodeChildrenChanged. seen suppresses
// watchers already notified by a companion trigger.
func (w *WatchManager) trigger(out []Delivery, path string, typ int32, table int, acl []jute.ACL, seen map[int64]bool) []Delivery {
	ev := jute.WatcherEvent{Type: typ, State: jute.StateSyncConnected, Path: path}
	var hit []int64
	p := path
	for {
		m := w.tables[table][p]
		for watcher, mode := range m {
			switch {
			case mode == ModePersistentRecursive:
				if typ != jute.EventNodeChildrenChanged {
					hit = append(hit, watcher)
				}
			case p == path:
				hit = append(hit, watcher)
				if mode == ModeStandard {
					w.remove(table, p, watcher)
				}
			}
		}
		if w.recursive == 0 || p == "/" {
			break
		}
		p, _ = Split(p)
	}
	sort.Slice(hit, func(i, j int) bool { return hit[i] < hit[j] })
	for i, watcher := range hit {
		if i > 0 && hit[i-1] == watcher {
			continue
		}
		if seen != nil {
			if seen[watcher] {
				continue
			}
			seen[watcher] = true
		}
		out = append(out, Delivery{Watcher: watcher, Event: ev, ACL: acl})
	}
	return out
}

// Count returns the number of (path, watcher) pairs in both tables.
func (w *WatchManager) Count() int {
	n := 0
	for table := range w.tables {
		for _, m := range w.tables[table] {
			n += len(m)
		}
	}
	return n
}

// ByWatcher lists the watched paths of each watcher (wchc).
func (w *WatchManager) ByWatcher() map[int64][]string {
	set := map[int64]map[string]bool{}
	for table := range w.tables {
		for p, m := range w.tables[table] {
			for watcher := range m {
				if set[watcher] == nil {
					set[watcher] = map[string]bool{}
				}
				set[watcher][p] = true
			}
		}
	}
	out := map[int64][]string{}
	for watcher, ps := range set {
		for p := range ps {
			out[watcher] = append(out[watcher], p)
		}
		sort.Strings(out[watcher])
	}
	return out
}

// ByPath lists the watchers of each path (wchp).
func (w *WatchManager) ByPath() map[string][]int64 {
	set := map[string]map[int64]bool{}
	for table := range w.tables {
		for p, m := range w.tables[table] {
			for watcher := range m {
				if set[p] == nil {
					set[p] = map[int64]bool{}
				}
				set[p][watcher] = true
			}
		}
	}
	out := map[string][]int64{}
	for p, ws := range set {
		for watcher := range ws {
			out[p] = append(out[p], watcher)
		}
		sort.Slice(out[p], func(i, j int) bool { return out[p][i] < out[p][j] })
	}
	return out
}

// PathCount is the number of distinct watched paths.
func (w *WatchManager) PathCount() int { return len(w.ByPath()) }

// ErrNullWatchList reports a null list in setWatches: Apache fails with a
// NullPointerException (MarshallingError) after the lists before it.
var ErrNullWatchList = errors.New("tree: null watch list in setWatches")

// SetWatches re-registers a reconnecting client's watches, firing at once
// for changes after relativeZxid (DataTree.setWatches). A null list stops
// the processing there with ErrNullWatchList, the earlier lists applied.
func (t *Tree) SetWatches(watcher int64, sw *jute.SetWatches) ([]Delivery, error) {
	var out []Delivery
	if sw.DataWatches == nil {
		return out, ErrNullWatchList
	}
	ev := func(typ int32, p string) {
		out = append(out, Delivery{Watcher: watcher, Event: jute.WatcherEvent{Type: typ, State: jute.StateSyncConnected, Path: p}})
	}
	for _, p := range sw.DataWatches {
		n := t.Get(p)
		switch {
		case n == nil:
			ev(jute.EventNodeDeleted, p)
		case n.Stat.Mzxid > sw.RelativeZxid:
			ev(jute.EventNodeDataChanged, p)
		default:
			t.Watches.AddData(p, watcher)
		}
	}
	if sw.ExistWatches == nil {
		return out, ErrNullWatchList
	}
	for _, p := range sw.ExistWatches {
		if t.Get(p) != nil {
			ev(jute.EventNodeCreated, p)
		} else {
			t.Watches.AddData(p, watcher)
		}
	}
	if sw.ChildWatches == nil {
		return out, ErrNullWatchList
	}
	for _, p := range sw.ChildWatches {
		n := t.Get(p)
		switch {
		case n == nil:
			ev(jute.EventNodeDeleted, p)
		case n.Stat.Pzxid > sw.RelativeZxid:
			ev(jute.EventNodeChildrenChanged, p)
		default:
			t.Watches.AddChild(p, watcher)
		}
	}
	if !sw.V2 {
		return out, nil
	}
	if sw.PersistentWatches == nil {
		return out, ErrNullWatchList
	}
	for _, p := range sw.PersistentWatches {
		t.Watches.AddPersistent(p, watcher, jute.AddWatchPersistent)
	}
	if sw.PersistentRecursive == nil {
		return out, ErrNullWatchList
	}
	for _, p := range sw.PersistentRecursive {
		t.Watches.AddPersistent(p, watcher, jute.AddWatchPersistentRecursive)
	}
	return out, nil
}
