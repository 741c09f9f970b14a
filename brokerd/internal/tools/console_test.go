package tools

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Console producer and consumer: Kafka's prompt, parse.key, the default
// formatter's print.* properties, --partition/--offset, --max-messages,
// --timeout-ms and the final count on stderr.
func TestConsoleGolden(t *testing.T) {
	c := startCluster(t, 1, nil)
	bs := c.bootstrap()
	ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--topic", "lines", "--partitions", "1", "--replication-factor", "1")

	r := ok(t, "hello world\natguigu  atguigu\n", "console-producer", "--broker-list", bs, "--topic", "lines")
	require.Equal(t, ">>>", r.stdout)
	r = ok(t, "k1:v1\nk2:v2\n", "console-producer", "--bootstrap-server", bs, "--topic", "lines",
		"--property", "parse.key=true", "--property", "key.separator=:", "--request-required-acks", "1", "--compression-codec")
	require.Equal(t, ">>>", r.stdout)
	r = run(t, "nokey\n", "console-producer", "--bootstrap-server", bs, "--topic", "lines", "--property", "parse.key=true")
	require.Equal(t, 1, r.code)
	require.Equal(t, "Error: No key found on line 1: nokey\n", r.stderr)

	r = ok(t, "", "console-consumer", "--bootstrap-server", bs, "--topic", "lines", "--from-beginning", "--max-messages", "4")
	require.Equal(t, "hello world\natguigu  atguigu\nv1\nv2\n", r.stdout)
	require.Equal(t, "Processed a total of 4 messages\n", r.stderr)

	r = ok(t, "", "console-consumer", "--bootstrap-server", bs, "--topic", "lines", "--partition", "0", "--offset", "2",
		"--property", "print.key=true", "--property", "print.offset=true", "--property", "print.partition=true",
		"--property", "print.timestamp=true", "--property", "key.separator=|", "--timeout-ms", "3000")
	require.Regexp(t, regexp.MustCompile(`^CreateTime:\d{13}\|Partition:0\|Offset:2\|k1\|v1\nCreateTime:\d{13}\|Partition:0\|Offset:3\|k2\|v2\n$`), r.stdout)
	require.Contains(t, r.stderr, "ERROR Error processing message, terminating consumer process:  (kafka.tools.ConsoleConsumer$)\norg.apache.kafka.common.errors.TimeoutException\n")
	require.True(t, strings.HasSuffix(r.stderr, "Processed a total of 2 messages\n"), r.stderr)

	r = ok(t, "", "console-consumer", "--bootstrap-server", bs, "--topic", "lines", "--partition", "0", "--offset", "latest", "--timeout-ms", "1000")
	require.Equal(t, "", r.stdout)
	require.True(t, strings.HasSuffix(r.stderr, "Processed a total of 0 messages\n"))

	// The old consumer's --zookeeper finds the brokers through /brokers/ids.
	r = ok(t, "", "console-consumer", "--zookeeper", c.connect, "--topic", "lines", "--from-beginning", "--max-messages", "1", "--group", "zkgroup")
	require.Equal(t, "hello world\n", r.stdout)

	r = run(t, "", "console-consumer", "--bootstrap-server", bs, "--topic", "lines", "--offset", "2")
	require.Equal(t, 1, r.code)
	require.Equal(t, "console-consumer: The partition is required when offset is specified. (see --help)\n", r.stderr)
}

// SIGINT (here: the cancelled context main.go makes from it) ends a
// waiting consumer cleanly with its count.
func TestConsoleConsumerInterrupt(t *testing.T) {
	c := startCluster(t, 1, nil)
	bs := c.bootstrap()
	ok(t, "a\nb\nc\n", "console-producer", "--bootstrap-server", bs, "--topic", "sig")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, "console-consumer", []string{"--bootstrap-server", bs, "--topic", "sig", "--from-beginning"}, strings.NewReader(""), &out, &errb)
	}()
	eventually(t, "three records printed", func() bool { return out.String() == "a\nb\nc\n" })
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code)
	case <-time.After(20 * time.Second):
		t.Fatal("consumer did not stop after the interrupt")
	}
	require.Equal(t, "Processed a total of 3 messages\n", errb.String())
}
