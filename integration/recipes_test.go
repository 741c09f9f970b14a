package integration

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLockRecipe: go-zookeeper's Lock (ephemeral sequential znodes and
// watches on the predecessor) gives mutual exclusion: ten sessions doing
// read-modify-write of one counter under the lock lose no update, and the
// counter's version counts every write.
func TestLockRecipe(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			admin, _ := connect(t, srv.Addr(), 4*time.Second)
			_, err := admin.Create("/counter", []byte("0"), 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			const workers, rounds = 10, 15
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := 0; w < workers; w++ {
				c, _ := connect(t, srv.Addr(), 4*time.Second)
				wg.Add(1)
				go func(w int, c *zk.Conn) {
					defer wg.Done()
					l := zk.NewLock(c, "/lock", zk.WorldACL(zk.PermAll))
					for i := 0; i < rounds; i++ {
						if err := l.Lock(); err != nil {
							errs <- fmt.Errorf("worker %d lock: %w", w, err)
							return
						}
						data, _, err := c.Get("/counter")
						if err == nil {
							n, _ := strconv.Atoi(string(data))
							// Unconditional write (-1): only the lock protects it.
							_, err = c.Set("/counter", []byte(strconv.Itoa(n+1)), -1)
						}
						if uerr := l.Unlock(); err == nil {
							err = uerr
						}
						if err != nil {
							errs <- fmt.Errorf("worker %d round %d: %w", w, i, err)
							return
						}
					}
				}(w, c)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			data, st, err := admin.Get("/counter")
			require.NoError(t, err)
			assert.Equal(t, strconv.Itoa(workers*rounds), string(data), "lost updates: the lock did not exclude")
			assert.Equal(t, int32(workers*rounds), st.Version)
			kids, _, err := admin.Children("/lock")
			require.NoError(t, err)
			assert.Empty(t, kids, "lock nodes left behind")
		})
	}
}
