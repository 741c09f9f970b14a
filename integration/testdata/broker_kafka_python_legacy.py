"""kafka-python pinned to old protocol versions against brokerd.

api_version=(0, 10) produces with Produce v2 and fetches with Fetch v2
(message format magic 1); (0, 9) with Produce v1 / Fetch v1 (magic 0).
Both produce gzip-compressed message sets (the only codec Debian's
python3-kafka can write without extra modules) and read them back.
Usage: broker_kafka_python_legacy.py BOOTSTRAP
"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap = sys.argv[1].split(",")

for version, topic in [((0, 10), "kp-legacy-010"), ((0, 9), "kp-legacy-09")]:
    producer = KafkaProducer(bootstrap_servers=bootstrap, api_version=version,
                             compression_type="gzip", acks="all", linger_ms=20)
    want = []
    futures = []
    ts = int(time.time() * 1000) - 60000
    for i in range(30):
        key, value = b"k%d" % i, (b"legacy-%d-" % i) * 20
        want.append((key, value))
        kw = {"timestamp_ms": ts + i} if version >= (0, 10) else {}
        futures.append(producer.send(topic, key=key, value=value, partition=0, **kw))
    producer.flush(30)
    offsets = [f.get(timeout=30).offset for f in futures]
    assert offsets == list(range(30)), (version, offsets)
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, api_version=version,
                             enable_auto_commit=False, consumer_timeout_ms=10000)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    got = []
    for msg in consumer:
        got.append(msg)
        if len(got) == len(want):
            break
    consumer.close()
    assert [(m.key, m.value) for m in got] == want, (version, len(got))
    assert [m.offset for m in got] == list(range(30)), version
    if version >= (0, 10):
        assert [m.timestamp for m in got] == [ts + i for i in range(30)], version
    print("api_version", version, "produced and consumed", len(got), "gzip messages")

print("OK")
