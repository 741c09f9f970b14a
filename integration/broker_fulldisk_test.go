package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// mountSmallExt4 makes a real, small ext4 file system (a loop-mounted image
// of sizeMiB) and mounts it under a temporary directory, unmounting it at
// cleanup. It needs root and loop devices. Not root, it skips: make
// test-cluster, which CI runs with sudo, runs it as root. As root, a
// missing mkfs.ext4 or loop device is a failure under REQUIRE_INTEROP=1.
func mountSmallExt4(t *testing.T, sizeMiB int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a real full disk needs root to loop-mount a small ext4 image; make test-cluster runs this as root")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		skipOrFail(t, "mkfs.ext4 not found (Debian package e2fsprogs)")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "disk.img"), filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(mnt, 0o755))
	f, err := os.Create(img)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(int64(sizeMiB)<<20))
	require.NoError(t, f.Close())
	// -m 0: no blocks reserved for root (the broker runs as root here).
	if out, err := exec.Command(mkfs, "-F", "-q", "-m", "0", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		skipOrFail(t, "cannot loop-mount an ext4 image here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// A real full disk: bin/brokerd's log dir on a 24 MiB ext4 file system that
// the producer fills. Produce requests then fail with KAFKA_STORAGE_ERROR
// and the broker logs the cause; every acknowledged record stays readable
// and nothing unacknowledged appears; the broker keeps serving; once space
// is freed produce works again; and after kill -9 and a restart the log
// holds exactly the acknowledged records.
func TestBrokerRealFullDisk(t *testing.T) {
	mnt := mountSmallExt4(t, 24)
	// Ballast that is deleted later to free space.
	ballast := filepath.Join(mnt, "ballast")
	require.NoError(t, os.WriteFile(ballast, make([]byte, 4<<20), 0o644))

	zks := StartServer(t, kindZkd, ServerOptions{})
	b := newReplBroker(t, 1, zks.Addr(), "log.dirs="+filepath.Join(mnt, "kafka-logs"),
		"default.replication.factor=1", "min.insync.replicas=1", "offsets.topic.replication.factor=1")
	b.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	newClient := func(opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr)}, opts...)...)
		require.NoError(t, err)
		t.Cleanup(cl.Close)
		return cl
	}
	adm := kadm.NewClient(newClient())
	res, err := adm.CreateTopic(ctx, 1, 1, nil, "full")
	require.NoError(t, err)
	require.NoError(t, res.Err)

	prod := newClient(kgo.DefaultProduceTopic("full"), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
		kgo.RecordRetries(0), kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
	// Incompressible bodies, derived from the record number so that the
	// bytes read back can be checked.
	value := func(i int) []byte {
		v := make([]byte, 16<<10)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		copy(v, fmt.Sprintf("record-%06d-", i))
		return v
	}
	var acked []int
	next := 0
	// produceRound sends 16 records of 16 KiB and returns the errors.
	produceRound := func(prod *kgo.Client) []error {
		recs := make([]*kgo.Record, 16)
		for i := range recs {
			recs[i] = &kgo.Record{Value: value(next)}
			next++
		}
		var errs []error
		for _, r := range prod.ProduceSync(ctx, recs...) {
			if r.Err != nil {
				errs = append(errs, r.Err)
				continue
			}
			n, err := strconv.Atoi(strings.Split(string(r.Record.Value), "-")[1])
			require.NoError(t, err)
			acked = append(acked, n)
		}
		return errs
	}
	// Fill the disk: about 20 MiB is free, so well within 200 rounds.
	var fullErr error
	for round := 0; round < 200 && fullErr == nil; round++ {
		if errs := produceRound(prod); len(errs) > 0 {
			fullErr = errs[0]
		}
	}
	require.Error(t, fullErr, "the disk never filled: %d records acknowledged", len(acked))
	require.True(t, errors.Is(fullErr, kerr.KafkaStorageError), "a full disk should fail produce with KAFKA_STORAGE_ERROR, got %v", fullErr)
	t.Logf("disk full after %d acknowledged records of 16 KiB: %v", len(acked), fullErr)
	require.Greater(t, len(acked), 100)
	// It stays full: later requests fail the same way, and the broker says why.
	errs := produceRound(prod)
	require.NotEmpty(t, errs)
	require.ErrorIs(t, errs[0], kerr.KafkaStorageError)
	eventuallyT(t, 10*time.Second, "the broker logs the cause and the fix at error level", func() bool {
		for _, line := range strings.Split(b.logText(), "\n") {
			if strings.Contains(line, `"level":"error"`) && strings.Contains(line, "no space left on device") &&
				strings.Contains(line, "is full: free space") && strings.Contains(line, "log.dirs="+filepath.Join(mnt, "kafka-logs")) {
				return true
			}
		}
		return false
	})

	// readBack consumes the partition from the start to its end offset and
	// returns the record numbers in order.
	readBack := func() []int {
		ends, err := adm.ListEndOffsets(ctx, "full")
		require.NoError(t, err)
		end, ok := ends.Lookup("full", 0)
		require.True(t, ok)
		require.NoError(t, end.Err)
		cons := newClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"full": {0: kgo.NewOffset().AtStart()}}),
			kgo.FetchMaxBytes(8<<20))
		var got []int
		for int64(len(got)) < end.Offset {
			fs := cons.PollFetches(ctx)
			require.NoError(t, ctx.Err(), "read %d of %d records back", len(got), end.Offset)
			fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch error: %v", err) })
			fs.EachRecord(func(r *kgo.Record) {
				require.Equal(t, int64(len(got)), r.Offset)
				n, err := strconv.Atoi(strings.Split(string(r.Value), "-")[1])
				require.NoError(t, err)
				require.Equal(t, value(n), r.Value, "record %d's bytes changed", n)
				got = append(got, n)
			})
		}
		return got
	}
	// Exactly the acknowledged records, in order, while the disk is full.
	require.Equal(t, acked, readBack())

	// Space freed: produce works again.
	require.NoError(t, os.Remove(ballast))
	require.Empty(t, produceRound(prod), "produce after space was freed")
	require.Equal(t, acked, readBack())

	// kill -9 and restart: recovery keeps exactly what was acknowledged.
	// (A new producer: the old one's connection died with the process.)
	b.Kill()
	b.Start()
	prod = newClient(kgo.DefaultProduceTopic("full"), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	require.Empty(t, produceRound(prod), "produce after the restart")
	require.Equal(t, acked, readBack())
}
