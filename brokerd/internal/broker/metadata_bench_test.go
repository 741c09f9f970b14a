package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/coord"
)

// BenchmarkCreateTopicsInBatches: three in-process brokers on one zkd;
// 200 topics of 10 partitions (replication factor 1) created with kadm
// CreateTopics in batches of 20, each batch waited for by the broker that
// took the request (Kafka's CreateTopics timeout). Reports the first and
// the last batch's time and the total: with a ZooKeeper pass proportional
// to the cluster's size the last batch is many times slower than the
// first; with the cached pass they stay close.
func BenchmarkCreateTopicsInBatches(b *testing.B) {
	const topics, batch, partitions = 200, 20, 10
	for n := range b.N {
		connect := zkServer.Connect(fmt.Sprintf("%s-%d", b.Name(), n))
		var seeds []string
		var brokers []*Broker
		for i := int32(1); i <= 3; i++ {
			cfg := testConfig(b, b.TempDir())
			cfg.BrokerID, cfg.ZookeeperConnect = i, connect
			br, err := New(cfg, zerolog.Nop())
			require.NoError(b, err)
			require.NoError(b, br.Start())
			brokers = append(brokers, br)
			seeds = append(seeds, br.Addr())
		}
		for _, br := range brokers {
			br.coord.WaitFor(10*time.Second, func(v coord.View) bool { return len(v.Brokers) == 3 })
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RetryTimeout(5*time.Minute))
		require.NoError(b, err)
		adm := kadm.NewClient(cl)
		adm.SetTimeoutMillis(int32((5 * time.Minute).Milliseconds()))
		var first, last, total time.Duration
		for start := 0; start < topics; start += batch {
			var names []string
			for i := start; i < start+batch; i++ {
				names = append(names, fmt.Sprintf("scale-%03d", i))
			}
			t0 := time.Now()
			res, err := adm.CreateTopics(context.Background(), partitions, 1, nil, names...)
			require.NoError(b, err)
			for _, r := range res {
				require.NoError(b, r.Err, r.Topic)
			}
			d := time.Since(t0)
			if start == 0 {
				first = d
			}
			last, total = d, total+d
			b.Logf("batch %d: %d topics x %d partitions in %s", start/batch+1, batch, partitions, d.Round(time.Millisecond))
		}
		b.ReportMetric(first.Seconds(), "first-batch-s")
		b.ReportMetric(last.Seconds(), "last-batch-s")
		b.ReportMetric(total.Seconds(), "total-s")
		cl.Close()
		for _, br := range brokers {
			_ = br.Close()
		}
	}
}
