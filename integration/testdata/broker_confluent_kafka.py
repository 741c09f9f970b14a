# confluent-kafka (librdkafka) against brokerd: admin create/describe/delete,
# produce with every codec, a two-member consumer group, committed offsets,
# offsets for times.
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
rf = int(sys.argv[2]) if len(sys.argv) > 2 else 1  # replication factor
admin = AdminClient({"bootstrap.servers": bootstrap})
for f in admin.create_topics([NewTopic("ck", num_partitions=4, replication_factor=rf)]).values():
    f.result(10)
md = admin.list_topics(timeout=10)
assert len(md.topics["ck"].partitions) == 4, md.topics

sent = set()
for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
    p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "enable.idempotence": True})
    for i in range(8):
        v = ("%s-%d" % (codec, i)).encode()
        p.produce("ck", value=v, partition=i % 4)
        sent.add(v)
    assert p.flush(10) == 0

def member():
    return Consumer({"bootstrap.servers": bootstrap, "group.id": "ckg", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "session.timeout.ms": 6000})

a, b = member(), member()
a.subscribe(["ck"]); b.subscribe(["ck"])
got = set()
deadline = time.time() + 30
while time.time() < deadline and (len(got) < len(sent) or not a.assignment() or not b.assignment()):
    for c in (a, b):
        m = c.poll(0.2)
        if m is not None and not m.error():
            got.add(m.value())
assert got == sent, (len(got), len(sent))
assert len(a.assignment()) == 2 and len(b.assignment()) == 2, (a.assignment(), b.assignment())

# A member may have been handed partitions the other had read before the
# rebalance (nothing committed yet): poll until each member's position is
# at the end of each of its partitions before committing.
def at_end(c):
    for tp in c.position(c.assignment()):
        lo, hi = c.get_watermark_offsets(tp, timeout=10)
        if tp.offset < hi:
            return False
    return True

while time.time() < deadline and not (at_end(a) and at_end(b)):
    for c in (a, b):
        c.poll(0.2)
assert at_end(a) and at_end(b)
a.commit(asynchronous=False); b.commit(asynchronous=False)
a.close(); b.close()

c = Consumer({"bootstrap.servers": bootstrap, "group.id": "ckg"})
committed = c.committed([TopicPartition("ck", p) for p in range(4)], timeout=10)
assert sum(tp.offset for tp in committed) == len(sent), committed
times = c.offsets_for_times([TopicPartition("ck", 0, 0), TopicPartition("ck", 1, int(time.time() * 1000) + 3600000)], timeout=10)
assert times[0].offset == 0 and times[1].offset == -1, times
c.close()

for f in admin.delete_topics(["ck"]).values():
    f.result(10)
print("OK")
