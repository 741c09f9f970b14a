# kafka-python 2.0 against brokerd: admin create/describe/delete, produce
# (none, gzip), a consumer group that commits and resumes, offsets for times.
import sys, time
from kafka import KafkaAdminClient, KafkaProducer, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

bootstrap = sys.argv[1]
rf = int(sys.argv[2]) if len(sys.argv) > 2 else 1  # replication factor
admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kp-admin")
admin.create_topics([NewTopic("kp", num_partitions=2, replication_factor=rf)])
assert "kp" in admin.list_topics(), admin.list_topics()
desc = admin.describe_topics(["kp"])
assert len(desc[0]["partitions"]) == 2, desc

sent = []
for codec in (None, "gzip"):
    p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, acks="all")
    for i in range(10):
        v = ("%s-%d" % (codec, i)).encode()
        p.send("kp", value=v, partition=i % 2).get(timeout=10)
        sent.append(v)
    p.flush()
    p.close()

def consume():
    c = KafkaConsumer("kp", bootstrap_servers=bootstrap, group_id="kpg", auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=3000)
    got = [m.value for m in c]
    c.commit()
    c.close()
    return got

got = consume()
assert sorted(got) == sorted(sent), (got, sent)
assert consume() == [], "the group resumes after its commits"

c = KafkaConsumer(bootstrap_servers=bootstrap)
tps = [TopicPartition("kp", 0), TopicPartition("kp", 1)]
ends = c.end_offsets(tps)
assert ends[tps[0]] == 10 and ends[tps[1]] == 10, ends
times = c.offsets_for_times({tps[0]: 0, tps[1]: int(time.time() * 1000) + 3600000})
assert times[tps[0]].offset == 0, times
assert times[tps[1]] is None, times
c.close()

groups = [g[0] for g in admin.list_consumer_groups()]
assert "kpg" in groups, groups
admin.delete_topics(["kp"])
deadline = time.time() + 10
while "kp" in admin.list_topics() and time.time() < deadline:
    time.sleep(0.1)
assert "kp" not in admin.list_topics()
print("OK")
