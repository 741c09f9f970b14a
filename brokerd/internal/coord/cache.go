package coord

// The watch cache: a pass costs what changed, not the cluster's size.
//
// Every znode read() looks at is read with a watch. While that watch is
// armed (it has not fired), ZooKeeper promises to tell this session about
// any change before showing it the new data, so the copy read with it is
// current and the next pass reuses it instead of a round trip. A fired
// watch drops the entry (so deleted topics leave nothing behind); the next
// read fetches the znode again and arms a new watch.
//
// A fired watch is noticed twice: the goroutine watch() starts drops the
// entry and kicks a pass, and a lookup polls the watch's channel, because
// that goroutine may not have run yet when the next pass reads (ZooKeeper
// delivers an event before the reply to any later request, so a pass that
// reads one znode fresh never pairs it with a cached copy its event already
// superseded). Every write this process makes also calls wrote() with the
// paths it touched, which makes their entries (and their parents' children
// lists) stale at once, whatever the event delivery does.
//
// Every FullResyncInterval a pass ignores the cache (it still refreshes it)
// as a safety net against a lost watch.

import (
	"errors"
	"path"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// FullResyncInterval is how often a pass re-reads every znode from
// ZooKeeper instead of trusting the watch cache.
const FullResyncInterval = 60 * time.Second

// zentry is one watched znode (key: its path) or children list (key: its
// path + "/").
type zentry struct {
	armed bool // a watch is set on the server and has not fired
	// ch is the watch's channel: go-zookeeper sends the event and closes
	// it, so a poll sees a fired watch even before watch() handles it.
	ch    <-chan zk.Event
	valid bool // the fields below are current (meaningful while armed)
	// gen counts invalidations: a read stores its result only when no
	// invalidation happened while it was in flight.
	gen      uint64
	data     []byte
	stat     zk.Stat
	err      error // zk.ErrNoNode for a watched absent znode
	children []string
	// decoded is data decoded (decodedW), dropped with data.
	decoded any
	pass    uint64 // the pass (c.passes) that stored it
}

// usable: e's copy can be served (c.mu held). An uncached pass serves only
// what it fetched itself (its prefetches).
func (c *Coordinator) usable(e *zentry) bool {
	return e.armed && e.valid && (!c.uncached || e.pass == c.passes)
}

// prefetchConcurrency bounds the requests prefetch has in flight on the
// session (go-zookeeper pipelines them on one connection).
const prefetchConcurrency = 16

// prefetch reads the given znodes (with watches) concurrently, so that a
// pass over thousands of znodes that are not cached (the first pass, a full
// pass, many new topics) does not wait for each round trip in turn; the
// sequential reads that follow find them in the cache.
func (c *Coordinator) prefetch(paths []string) {
	var miss []string
	c.mu.Lock()
	for _, p := range paths {
		if e := c.cache[p]; e == nil || !c.usable(e) || e.ch != nil && fired(e.ch) {
			miss = append(miss, p)
		}
	}
	c.mu.Unlock()
	sem := make(chan struct{}, prefetchConcurrency)
	var wg sync.WaitGroup
	for _, p := range miss {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, _, _ = c.getW(p)
		}()
	}
	wg.Wait()
}

// entryLocked returns p's entry, creating it; c.mu held.
func (c *Coordinator) entryLocked(key string) *zentry {
	e := c.cache[key]
	if e == nil {
		e = &zentry{}
		c.cache[key] = e
	}
	if c.touched != nil {
		c.touched[key] = true
	}
	return e
}

// lookup returns key's entry and whether its cached copy can be used; it
// arms the entry (arm=true: the caller must set a watch) when no watch is
// set.
func (c *Coordinator) lookup(key string) (e *zentry, gen uint64, hit, arm bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e = c.entryLocked(key)
	if e.armed && e.ch != nil && fired(e.ch) {
		// The event arrived (ZooKeeper delivers it before the reply to any
		// later request, so a pass never mixes a fresh read with a copy
		// its event already superseded): start over.
		delete(c.cache, key)
		e = c.entryLocked(key)
	}
	if c.usable(e) {
		return e, e.gen, true, false
	}
	arm = !e.armed
	e.armed = true
	return e, e.gen, false, arm
}

// store keeps a read's result when e is still key's entry and nothing
// invalidated it since gen was taken.
func (c *Coordinator) store(key string, e *zentry, gen uint64, fill func(*zentry)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache[key] == e && e.gen == gen && e.armed {
		e.decoded = nil
		e.pass = c.passes
		fill(e)
		e.valid = true
	}
}

// disarm forgets key's entry: its watch fired, or arming it failed.
func (c *Coordinator) disarm(key string, e *zentry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e == nil || c.cache[key] == e {
		delete(c.cache, key)
	}
}

// wrote marks the cached copies of znodes this process just created, set
// or deleted as stale, with their parents' children lists, so the next
// read fetches them even before their watch events are handled. Every
// write to ZooKeeper in this package goes through it.
func (c *Coordinator) wrote(paths ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range paths {
		for _, key := range []string{p, p + "/", path.Dir(p) + "/"} {
			if e := c.cache[key]; e != nil {
				e.valid = false
				e.gen++
			}
		}
	}
}

// wroteOps is wrote for the paths of a multi's operations.
func (c *Coordinator) wroteOps(ops []any) {
	var paths []string
	for _, op := range ops {
		switch r := op.(type) {
		case *zk.CreateRequest:
			paths = append(paths, r.Path)
		case *zk.SetDataRequest:
			paths = append(paths, r.Path)
		case *zk.DeleteRequest:
			paths = append(paths, r.Path)
		}
	}
	c.wrote(paths...)
}

// fired polls a watch channel.
func fired(ch <-chan zk.Event) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// watch drops key's entry when its watch fires, and asks for a pass.
func (c *Coordinator) watch(key string, e *zentry, ch <-chan zk.Event) {
	c.mu.Lock()
	e.ch = ch
	c.mu.Unlock()
	go func() {
		select {
		case <-ch:
		case <-c.stop:
			return
		}
		c.mu.Lock()
		hold := c.holdWatches
		c.mu.Unlock()
		if hold != nil {
			<-hold
		}
		c.disarm(key, e)
		c.Kick()
	}()
}

// getW reads p with a watch, from the cache while its watch is armed.
func (c *Coordinator) getW(p string) ([]byte, *zk.Stat, error) {
	e, gen, hit, arm := c.lookup(p)
	if hit {
		if e.err != nil {
			return nil, nil, e.err
		}
		st := e.stat
		return e.data, &st, nil
	}
	if !arm {
		b, st, err := c.conn.Get(p)
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			// An armed data watch (GetW) or exists watch (ExistsW) fires on
			// creation, change and deletion alike.
			c.store(p, e, gen, func(e *zentry) { e.data, e.err = b, err; e.stat = statOf(st) })
		}
		if err != nil {
			// go-zookeeper returns a stat even with an error; callers take
			// a stat to mean the znode exists.
			return nil, nil, err
		}
		return b, st, nil
	}
	b, st, ch, err := c.conn.GetW(p)
	if err != nil {
		c.disarm(p, e)
		if errors.Is(err, zk.ErrNoNode) {
			c.mu.Lock()
			e = c.entryLocked(p)
			e.armed, gen = true, e.gen
			c.mu.Unlock()
			ok, _, ech, eerr := c.conn.ExistsW(p)
			switch {
			case eerr == nil && !ok:
				c.store(p, e, gen, func(e *zentry) { e.data, e.err, e.stat = nil, zk.ErrNoNode, zk.Stat{} })
				c.watch(p, e, ech)
			case eerr == nil:
				// Created in between: the exists watch is set; the next
				// read fetches the data.
				c.watch(p, e, ech)
			default:
				c.disarm(p, e)
			}
		}
		return nil, nil, err
	}
	c.store(p, e, gen, func(e *zentry) { e.data, e.err, e.stat = b, nil, *st })
	c.watch(p, e, ch)
	return b, st, nil
}

func statOf(st *zk.Stat) zk.Stat {
	if st == nil {
		return zk.Stat{}
	}
	return *st
}

// childrenW lists p with a watch, from the cache while its watch is armed.
func (c *Coordinator) childrenW(p string) ([]string, error) {
	key := p + "/"
	e, gen, hit, arm := c.lookup(key)
	if hit {
		return append([]string(nil), e.children...), nil
	}
	if !arm {
		names, _, err := c.conn.Children(p)
		if err == nil {
			c.store(key, e, gen, func(e *zentry) { e.children = append([]string(nil), names...) })
		}
		return names, err
	}
	names, _, ch, err := c.conn.ChildrenW(p)
	if err != nil {
		c.disarm(key, e)
		return nil, err
	}
	c.store(key, e, gen, func(e *zentry) { e.children = append([]string(nil), names...) })
	c.watch(key, e, ch)
	return names, nil
}

// forgetUntouched drops the entries a full pass did not read (a topic
// deleted between its listing and its read leaves an absent-znode entry).
func (c *Coordinator) forgetUntouched() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.cache {
		if !c.touched[key] {
			delete(c.cache, key)
		}
	}
}

// decodedW is getW that also keeps what decode made of the cached copy, so
// an unchanged znode is not decoded again on every pass. Callers must not
// change what they get (clone what goes into a View).
func decodedW[T any](c *Coordinator, p string, decode func([]byte) (T, error)) (T, *zk.Stat, error) {
	var zero T
	data, st, err := c.getW(p)
	if err != nil {
		return zero, st, err
	}
	current := func() *zentry {
		if e := c.cache[p]; e != nil && e.valid && e.err == nil && sameBytes(e.data, data) {
			return e
		}
		return nil
	}
	c.mu.Lock()
	if e := current(); e != nil {
		if d, ok := e.decoded.(T); ok {
			c.mu.Unlock()
			return d, st, nil
		}
	}
	c.mu.Unlock()
	d, err := decode(data)
	if err != nil {
		return zero, st, err
	}
	c.mu.Lock()
	if e := current(); e != nil {
		e.decoded = d
	}
	c.mu.Unlock()
	return d, st, nil
}

// sameBytes reports whether a and b are the same slice (not just equal).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
