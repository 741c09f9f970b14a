package integration

import (
	"bytes"
	"os/exec"
	"testing"
	"time"
)

// needPythonModule skips (or fails under REQUIRE_INTEROP=1) when Debian's
// python3 lacks a module.
func needPythonModule(t *testing.T, module, pkg string) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import "+module).Run(); err != nil {
		skipOrFail(t, "%s cannot import %s (apt-get install %s)", py, module, pkg)
	}
	return py
}

func runPython(t *testing.T, py, script, bootstrap string, args ...string) {
	t.Helper()
	cmd := exec.Command(py, append([]string{script, bootstrap}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || !bytes.Contains(out.Bytes(), []byte("OK")) {
			t.Fatalf("%s: %v\n%s", script, err, out.String())
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s hung:\n%s", script, out.String())
	}
}

// kafka-python 2.0 (Debian python3-kafka) against two real brokers: admin
// create, describe, list groups and delete, produce (none, gzip), a consumer
// group that commits and resumes, end offsets and offsets for times.
func TestBrokerKafkaPythonInterop(t *testing.T) {
	py := needPythonModule(t, "kafka", "python3-kafka")
	zks := StartServer(t, kindZkd, ServerOptions{})
	b1 := startBrokerd(t, 1, zks.Addr()+"/kp")
	b2 := startBrokerd(t, 2, zks.Addr()+"/kp")
	runPython(t, py, "testdata/broker_kafka_python.py", b1.Addr+","+b2.Addr)
}

// confluent-kafka (Debian python3-confluent-kafka, librdkafka) against three
// real brokers on Apache ZooKeeper with a chroot: admin create and delete,
// idempotent produce with every codec, a two-member group splitting four
// partitions, committed offsets, offsets for times.
func TestBrokerConfluentKafkaInterop(t *testing.T) {
	py := needPythonModule(t, "confluent_kafka", "python3-confluent-kafka")
	zks := StartServer(t, kindApache, ServerOptions{})
	b1 := startBrokerd(t, 1, zks.Addr()+"/ck/chroot")
	b2 := startBrokerd(t, 2, zks.Addr()+"/ck/chroot")
	b3 := startBrokerd(t, 3, zks.Addr()+"/ck/chroot")
	runPython(t, py, "testdata/broker_confluent_kafka.py", b1.Addr+","+b2.Addr+","+b3.Addr)
}
