"""Kazoo against a ZooKeeper server: CRUD, watches and the recipes.

Usage: kazoo_recipes.py HOST:PORT
Prints one "OK <step>" line per step; exits non-zero with the reason on the
first failure. Run by integration/interop_test.go with /usr/bin/python3.
"""
import os
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, NotEmptyError

HOSTS = sys.argv[1]
ROOT = "/kazoo-%d" % int(time.time() * 1000)


def client():
    c = KazooClient(hosts=HOSTS, timeout=10)
    c.start(timeout=15)
    return c


def ok(step):
    print("OK", step, flush=True)


def expect(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        os._exit(1)


def crud(zk):
    zk.create(ROOT)
    path = zk.create(ROOT + "/a", b"one")
    expect(path == ROOT + "/a", "create returned %r" % path)
    data, stat = zk.get(ROOT + "/a")
    expect(data == b"one" and stat.version == 0, "get %r %r" % (data, stat))
    stat = zk.set(ROOT + "/a", b"two", version=0)
    expect(stat.version == 1, "set version %r" % stat.version)
    try:
        zk.set(ROOT + "/a", b"three", version=0)
        expect(False, "set with a stale version succeeded")
    except BadVersionError:
        pass
    try:
        zk.create(ROOT + "/a")
        expect(False, "duplicate create succeeded")
    except NodeExistsError:
        pass
    zk.create(ROOT + "/a/b/c", b"deep", makepath=True)
    expect(zk.get_children(ROOT + "/a") == ["b"], "children of /a")
    try:
        zk.delete(ROOT + "/a")
        expect(False, "delete of a non-empty node succeeded")
    except NotEmptyError:
        pass
    seq = zk.create(ROOT + "/s-", sequence=True, ephemeral=True)
    expect(seq == ROOT + "/s-0000000001", "sequential name %r" % seq)
    expect(zk.exists(ROOT + "/nope") is None, "exists of a missing node")
    try:
        zk.get(ROOT + "/nope")
        expect(False, "get of a missing node succeeded")
    except NoNodeError:
        pass
    tx = zk.transaction()
    tx.create(ROOT + "/t1", b"x")
    tx.check(ROOT + "/a", 1)
    tx.set_data(ROOT + "/a", b"tx")
    results = tx.commit()
    expect(results[0] == ROOT + "/t1", "transaction results %r" % (results,))
    zk.delete(ROOT + "/a", recursive=True)
    expect(zk.exists(ROOT + "/a") is None, "recursive delete")
    ok("crud")


def wait_for(cond, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.02)
    expect(False, what)


def watches(zk):
    got = []

    # DataWatch reports the latest value, so each step waits for its value
    # before making the next change.
    @zk.DataWatch(ROOT + "/w")
    def watch(data, stat):
        got.append(data)

    wait_for(lambda: got == [None], "data watch first call %r" % got)
    zk.create(ROOT + "/w", b"1")
    wait_for(lambda: got[-1:] == [b"1"], "data watch after create saw %r" % got)
    zk.set(ROOT + "/w", b"2")
    wait_for(lambda: got[-1:] == [b"2"], "data watch after set saw %r" % got)
    expect(got == [None, b"1", b"2"], "data watch saw %r" % got)
    kids = []
    kev = threading.Event()

    @zk.ChildrenWatch(ROOT + "/w")
    def cwatch(children):
        kids.append(sorted(children))
        if len(kids) >= 2:
            kev.set()

    zk.create(ROOT + "/w/k")
    expect(kev.wait(10), "children watch saw %r" % kids)
    expect(kids[-1] == ["k"], "children watch saw %r" % kids)
    ok("watches")


def lock(zk, zk2):
    l1 = zk.Lock(ROOT + "/lock", "one")
    l2 = zk2.Lock(ROOT + "/lock", "two")
    expect(l1.acquire(timeout=10), "first lock acquire")
    expect(not l2.acquire(blocking=False), "second lock acquired while held")
    expect(l2.contenders() == ["one"], "contenders %r" % l2.contenders())
    acquired = threading.Event()

    def waiter():
        if l2.acquire(timeout=15):
            acquired.set()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    expect(not acquired.is_set(), "waiter got the lock before release")
    l1.release()
    t.join(20)
    expect(acquired.is_set(), "waiter never got the lock after release")
    l2.release()
    ok("lock")


def election(zk, zk2):
    leaders = []
    done = threading.Event()
    e1 = zk.Election(ROOT + "/election", "alpha")
    e2 = zk2.Election(ROOT + "/election", "beta")

    def lead(name):
        def f():
            leaders.append(name)
            done.wait(15)
        return f

    t1 = threading.Thread(target=e1.run, args=(lead("alpha"),))
    t1.start()
    deadline = time.time() + 10
    while not leaders and time.time() < deadline:
        time.sleep(0.05)
    t2 = threading.Thread(target=e2.run, args=(lead("beta"),))
    t2.start()
    deadline = time.time() + 10
    while len(e2.contenders()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    expect(leaders == ["alpha"], "leaders %r" % leaders)
    expect(e2.contenders() == ["alpha", "beta"], "contenders %r" % e2.contenders())
    done.set()
    t1.join(10)
    deadline = time.time() + 10
    while len(leaders) < 2 and time.time() < deadline:
        time.sleep(0.05)
    expect(leaders == ["alpha", "beta"], "after alpha quit, leaders %r" % leaders)
    t2.join(10)
    ok("election")


def counter(zk, zk2):
    c1 = zk.Counter(ROOT + "/counter")
    c2 = zk2.Counter(ROOT + "/counter")
    errors = []

    def bump(c, n):
        try:
            for _ in range(n):
                c += 1
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=bump, args=(c, 25)) for c in (c1, c2, c1, c2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    expect(not errors, "counter errors %r" % errors)
    expect(c1.value == 100, "counter value %r" % c1.value)
    c2 -= 10
    expect(c1.value == 90, "counter after decrement %r" % c1.value)
    ok("counter")


def queue(zk, zk2):
    q = zk.Queue(ROOT + "/queue")
    for item in (b"first", b"second", b"third"):
        q.put(item)
    q.put(b"urgent", priority=10)
    expect(len(q) == 4, "queue length %d" % len(q))
    q2 = zk2.Queue(ROOT + "/queue")
    got = [q2.get() for _ in range(4)]
    expect(got == [b"urgent", b"first", b"second", b"third"], "queue order %r" % got)
    expect(q2.get() is None, "empty queue get")
    lq = zk.LockingQueue(ROOT + "/lqueue")
    lq.put(b"job")
    item = lq.get(5)
    expect(item == b"job", "locking queue item %r" % item)
    expect(lq.consume(), "locking queue consume")
    ok("queue")


def barrier(zk, zk2):
    b = zk.Barrier(ROOT + "/barrier")
    b.create()
    b2 = zk2.Barrier(ROOT + "/barrier")
    expect(not b2.wait(0.5), "barrier passed while up")
    passed = threading.Event()

    def waiter():
        if b2.wait(15):
            passed.set()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    b.remove()
    t.join(20)
    expect(passed.is_set(), "barrier waiter did not pass after remove")
    ok("barrier")


def main():
    zk = client()
    zk2 = client()
    crud(zk)
    watches(zk)
    lock(zk, zk2)
    election(zk, zk2)
    counter(zk, zk2)
    queue(zk, zk2)
    barrier(zk, zk2)
    zk.delete(ROOT, recursive=True)
    zk.stop()
    zk2.stop()
    ok("all")


if __name__ == "__main__":
    main()
