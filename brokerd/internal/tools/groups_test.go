package tools

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Golden outputs of kafka-consumer-groups: --list, --describe with
// --offsets/--members/--state for an active and an empty group,
// --reset-offsets and --delete.
func TestConsumerGroupsGolden(t *testing.T) {
	c := startCluster(t, 1, nil)
	bs := c.bootstrap()
	ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--topic", "orders", "--partitions", "2", "--replication-factor", "1")
	ok(t, "a:1\nb:2\nc:3\nd:4\ne:5\n", "console-producer", "--bootstrap-server", bs, "--topic", "orders", "--property", "parse.key=true", "--property", "key.separator=:")

	// A console consumer reads three records and commits them as group g1.
	ok(t, "", "console-consumer", "--bootstrap-server", bs, "--topic", "orders", "--group", "g1", "--from-beginning", "--max-messages", "5")
	r := ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--list")
	require.Equal(t, "g1\n", r.stdout)

	ends := map[int32]int64{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs))
	require.NoError(t, err)
	defer cl.Close()
	// The end offsets per partition, to build the expected table.
	for _, rec := range consumeAll(t, bs, "orders", 5) {
		ends[rec.Partition] = max(ends[rec.Partition], rec.Offset+1)
	}
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", "g1")
	require.Equal(t, "\nConsumer group 'g1' has no active members.\n", r.stderr)
	f := "%-15s %-15s %-10s %-15s %-15s %-15s %-15s %-15s %s\n"
	want := "\n" + fmt.Sprintf(f, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for p := int32(0); p < 2; p++ {
		if ends[p] > 0 {
			want += fmt.Sprintf(f, "g1", "orders", fmt.Sprint(p), fmt.Sprint(ends[p]), fmt.Sprint(ends[p]), "0", "-", "-", "-")
		}
	}
	require.Equal(t, want, r.stdout)

	// Reset to earliest: dry run, then execute; the lag is then the whole log.
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--reset-offsets", "--to-earliest", "--topic", "orders", "--dry-run")
	rf := "%-30s %-30s %-10s %-15s\n"
	wantReset := "\n" + fmt.Sprintf(rf, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET") + fmt.Sprintf(rf, "g1", "orders", "0", "0") + fmt.Sprintf(rf, "g1", "orders", "1", "0")
	require.Equal(t, wantReset, r.stdout)
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--reset-offsets", "--to-earliest", "--topic", "orders", "--execute")
	require.Equal(t, wantReset, r.stdout)
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", "g1")
	require.Contains(t, r.stdout, fmt.Sprintf(f, "g1", "orders", "0", "0", fmt.Sprint(ends[0]), fmt.Sprint(ends[0]), "-", "-", "-"))
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--reset-offsets", "--shift-by", "2", "--topic", "orders:1", "--execute")
	require.Equal(t, "\n"+fmt.Sprintf(rf, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")+fmt.Sprintf(rf, "g1", "orders", "1", fmt.Sprint(min(2, ends[1]))), r.stdout)
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--reset-offsets", "--by-duration", "PT1H", "--all-topics")
	require.True(t, strings.HasPrefix(r.stdout, "WARN: No action will be performed as the --execute option is missing."), r.stdout)
	require.Contains(t, r.stdout, fmt.Sprintf(rf, "g1", "orders", "0", "0"))

	// --export prints the plan as CSV, --from-file takes it back.
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--reset-offsets", "--to-latest", "--topic", "orders", "--dry-run", "--export")
	csv := fmt.Sprintf("orders,0,%d\norders,1,%d\n", ends[0], ends[1])
	require.Equal(t, csv+"\n", r.stdout)
	plan := filepath.Join(t.TempDir(), "plan.csv")
	require.NoError(t, os.WriteFile(plan, []byte("orders,0,1\norders,1,99\n"), 0o644))
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--reset-offsets", "--from-file", plan, "--execute")
	require.Equal(t, "\n"+fmt.Sprintf(rf, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")+fmt.Sprintf(rf, "g1", "orders", "0", fmt.Sprint(min(1, ends[0])))+fmt.Sprintf(rf, "g1", "orders", "1", fmt.Sprint(ends[1])), r.stdout)

	// --delete-offsets of one partition; shifting it then has no base.
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--delete-offsets", "--topic", "orders:0")
	require.Equal(t, "Request succeed for deleting offsets with topic orders:0 group g1\n\n"+fmt.Sprintf("%-30s %-15s %-15s\n", "TOPIC", "PARTITION", "STATUS")+fmt.Sprintf("%-30s %-15s %-15s\n", "orders", "0", "Successful"), r.stdout)
	r = run(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g1", "--reset-offsets", "--shift-by", "1", "--topic", "orders:0", "--execute")
	require.Equal(t, 1, r.code)
	require.Equal(t, "Error: Cannot shift offset for partition orders-0 since there is no current committed offset\n", r.stderr)

	// An active member: --members, --state and --offsets show it.
	member, err := kgo.NewClient(kgo.SeedBrokers(bs), kgo.ConsumerGroup("g2"), kgo.ConsumeTopics("orders"), kgo.ClientID("member-a"))
	require.NoError(t, err)
	defer member.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			member.PollFetches(ctx)
		}
	}()
	var desc string
	eventually(t, "g2 stable", func() bool {
		desc = run(t, "", "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", "g2", "--state").stdout
		return strings.Contains(desc, " Stable ")
	})
	coordinator := fmt.Sprintf("127.0.0.1:%s (1)", bs[strings.LastIndexByte(bs, ':')+1:])
	sf := "\n%-25s %-25s %-20s %-15s %s"
	require.Equal(t, fmt.Sprintf(sf, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")+fmt.Sprintf(sf, "g2", coordinator, "cooperative-sticky", "Stable", "1")+"\n", desc)

	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", "g2", "--members", "--verbose")
	lines := strings.Split(r.stdout, "\n")
	require.Len(t, lines, 4, r.stdout)
	require.Regexp(t, `^GROUP +CONSUMER-ID +HOST +CLIENT-ID +#PARTITIONS +ASSIGNMENT$`, lines[1])
	require.Regexp(t, `^g2 +member-a-\S+ +\S+ +member-a +2 +orders\(0,1\)$`, lines[2])
	r = run(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g2", "--delete-offsets", "--topic", "orders")
	require.Equal(t, 1, r.code)
	require.True(t, strings.HasPrefix(r.stdout, "\nError: Deleting offsets of a consumer group 'g2' is forbidden if the group is not empty.\n") ||
		strings.HasPrefix(r.stdout, "\nError: Encounter some partition level error, see the follow-up details:\n"), r.stdout)
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", "g2")
	require.Regexp(t, `\ng2 +orders +0 +- +\d+ +- +member-a-\S+ +\S+ +member-a\n`, r.stdout)

	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--list", "--state")
	require.Equal(t, fmt.Sprintf("%-15s %s\n%-15s %s\n%-15s %s\n", "GROUP", "STATE", "g1", "Empty", "g2", "Stable"), r.stdout)

	r = run(t, "", "consumer-groups", "--bootstrap-server", bs, "--group", "g2", "--reset-offsets", "--to-latest", "--topic", "orders", "--execute")
	require.Equal(t, 1, r.code)
	require.Equal(t, "Error: Assignments can only be reset if the group 'g2' is inactive, but the current state is Stable.\n", r.stderr)
	r = run(t, "", "consumer-groups", "--bootstrap-server", bs, "--delete", "--group", "g2")
	require.Equal(t, 1, r.code)
	require.Equal(t, "\nError: Deletion of some consumer groups failed:\n* Group 'g2' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n", r.stdout)

	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--delete", "--group", "g1")
	require.Equal(t, "Deletion of requested consumer groups ('g1') was successful.\n", r.stdout)
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", "g1")
	require.Equal(t, "\nError: Consumer group 'g1' does not exist.\n", r.stderr)
}

// consumeAll reads n records of a topic from the start, without a group.
func consumeAll(t *testing.T, bs, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		out = append(out, fs.Records()...)
	}
	return out
}
