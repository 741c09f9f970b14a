package broker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"
)

// saramaHandler consumes claims until want distinct values are seen.
type saramaHandler struct {
	mu     sync.Mutex
	seen   map[string]bool
	claims map[int32]bool
}

func (h *saramaHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.claims = map[int32]bool{}
	for _, ps := range s.Claims() {
		for _, p := range ps {
			h.claims[p] = true
		}
	}
	return nil
}
func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		h.seen[string(m.Value)] = true
		h.mu.Unlock()
		s.MarkMessage(m, "")
	}
	return nil
}

func (h *saramaHandler) count() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen), len(h.claims)
}

// sarama at the protocol versions of Kafka 0.11 and 2.8: produce with every
// codec, a consumer group of two members splitting the partitions, offsets
// committed and resumed.
func TestSarama(t *testing.T) {
	versions := map[string]sarama.KafkaVersion{"0.11": sarama.V0_11_0_0, "2.8": sarama.V2_8_0_0}
	for name, version := range versions {
		t.Run(name, func(t *testing.T) {
			b, _ := startBroker(t, groupConfig)
			topic := "sarama-" + name
			cfg := sarama.NewConfig()
			cfg.Version = version
			cfg.Producer.Return.Successes = true
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
			cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
			cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
			cfg.Consumer.Group.Heartbeat.Interval = 200 * time.Millisecond
			cfg.Consumer.Group.Rebalance.Timeout = 5 * time.Second
			cfg.Metadata.Retry.Backoff = 50 * time.Millisecond

			admin, err := sarama.NewClusterAdmin([]string{b.Addr()}, cfg)
			require.NoError(t, err)
			defer admin.Close()
			require.NoError(t, admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 4, ReplicationFactor: 1}, false))

			codecs := []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP, sarama.CompressionSnappy, sarama.CompressionLZ4, sarama.CompressionZSTD}
			total := 0
			for _, codec := range codecs {
				pc := *cfg
				pc.Producer.Compression = codec
				if codec == sarama.CompressionZSTD && version == sarama.V0_11_0_0 {
					continue // zstd needs Produce v7 (Kafka 2.1)
				}
				prod, err := sarama.NewSyncProducer([]string{b.Addr()}, &pc)
				require.NoError(t, err)
				for i := range 8 {
					_, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("%s-%d", codec, i))})
					require.NoError(t, err, "codec %s", codec)
					total++
				}
				require.NoError(t, prod.Close())
			}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			h1 := &saramaHandler{seen: map[string]bool{}}
			h2 := &saramaHandler{seen: map[string]bool{}}
			var wg sync.WaitGroup
			var groups []sarama.ConsumerGroup
			for _, h := range []*saramaHandler{h1, h2} {
				g, err := sarama.NewConsumerGroup([]string{b.Addr()}, "sg-"+name, cfg)
				require.NoError(t, err)
				groups = append(groups, g)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						if err := g.Consume(ctx, []string{topic}, h); err != nil {
							return
						}
					}
				}()
			}
			eventually(t, "two sarama members split the partitions and read everything", func() bool {
				_, c1 := h1.count()
				_, c2 := h2.count()
				all := map[string]bool{}
				h1.mu.Lock()
				for k := range h1.seen {
					all[k] = true
				}
				h1.mu.Unlock()
				h2.mu.Lock()
				for k := range h2.seen {
					all[k] = true
				}
				h2.mu.Unlock()
				return c1 == 2 && c2 == 2 && len(all) == total
			})
			// Records read by one member before the rebalance may be read
			// again by the other (nothing was committed yet): wait until the
			// auto-commits cover every partition's end.
			committed := func() int64 {
				res, err := admin.ListConsumerGroupOffsets("sg-"+name, map[string][]int32{topic: {0, 1, 2, 3}})
				if err != nil {
					return -1
				}
				sum := int64(0)
				for _, b := range res.Blocks[topic] {
					if b.Offset > 0 {
						sum += b.Offset
					}
				}
				return sum
			}
			eventually(t, "auto-commits reach the end of every partition", func() bool { return committed() == int64(total) })
			cancel()
			for _, g := range groups {
				require.NoError(t, g.Close())
			}
			wg.Wait()

			// Committed offsets: a fresh offset manager sees the end of every partition.
			client, err := sarama.NewClient([]string{b.Addr()}, cfg)
			require.NoError(t, err)
			defer client.Close()
			om, err := sarama.NewOffsetManagerFromClient("sg-"+name, client)
			require.NoError(t, err)
			defer om.Close()
			sum := int64(0)
			for p := int32(0); p < 4; p++ {
				pom, err := om.ManagePartition(topic, p)
				require.NoError(t, err)
				off, _ := pom.NextOffset()
				sum += off
				pom.AsyncClose()
			}
			require.Equal(t, int64(total), sum)
		})
	}
}
