package tools

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafkazk"
)

// zkClient is a ZooKeeper session for the --zookeeper options, with the
// chroot of the connect string applied to every path.
type zkClient struct {
	conn    *zk.Conn
	chroot  string
	connect string
}

type noLog struct{}

func (noLog) Printf(string, ...any) {}

// zookeeper connects and waits for a session, at most e.Timeout.
func (e *Env) zookeeper(connect string) (*zkClient, error) {
	srv, chroot, err := coord.ParseConnect(connect)
	if err != nil {
		return nil, usagef("bad --zookeeper %q: %v", connect, err)
	}
	if err := e.reachable(srv); err != nil {
		return nil, fmt.Errorf("cannot connect to ZooKeeper at %s (%v); check --zookeeper and that ZooKeeper is running", connect, err)
	}
	conn, events, err := zk.Connect(srv, 30*time.Second, zk.WithLogger(noLog{}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", connect, err)
	}
	deadline := time.NewTimer(e.Timeout)
	defer deadline.Stop()
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				e.closers = append(e.closers, conn.Close)
				z := &zkClient{conn: conn, chroot: chroot, connect: connect}
				if chroot != "" {
					if ok, _, err := conn.Exists(chroot); err == nil && !ok {
						return nil, fmt.Errorf("the chroot %s of --zookeeper %s does not exist (no Kafka cluster registered there)", chroot, connect)
					}
				}
				return z, nil
			}
			if ev.State == zk.StateAuthFailed {
				conn.Close()
				return nil, fmt.Errorf("zookeeper %s: authentication failed", connect)
			}
		case <-deadline.C:
			conn.Close()
			return nil, fmt.Errorf("timed out after %s waiting for a connection to ZooKeeper at %s; check --zookeeper and that ZooKeeper is running", e.Timeout, connect)
		case <-e.Ctx.Done():
			conn.Close()
			return nil, e.Ctx.Err()
		}
	}
}

func (z *zkClient) p(path string) string { return z.chroot + path }

// get reads a znode; ok is false when it does not exist.
func (z *zkClient) get(path string) ([]byte, bool, error) {
	b, _, err := z.conn.Get(z.p(path))
	if errors.Is(err, zk.ErrNoNode) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("zookeeper: read %s: %w", z.p(path), err)
	}
	return b, true, nil
}

func (z *zkClient) children(path string) ([]string, error) {
	c, _, err := z.conn.Children(z.p(path))
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("zookeeper: list %s: %w", z.p(path), err)
	}
	sort.Strings(c)
	return c, nil
}

// create makes a persistent znode and its missing parents.
func (z *zkClient) create(path string, data []byte) error {
	full := z.p(path)
	_, err := z.conn.Create(full, data, 0, zk.WorldACL(zk.PermAll))
	if errors.Is(err, zk.ErrNoNode) {
		parent := path[:lastSlash(path)]
		if parent != "" {
			if err := z.create(parent, nil); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				return err
			}
		}
		_, err = z.conn.Create(full, data, 0, zk.WorldACL(zk.PermAll))
	}
	if err != nil {
		return fmt.Errorf("zookeeper: create %s: %w", full, err)
	}
	return nil
}

// set writes a znode, creating it when missing.
func (z *zkClient) set(path string, data []byte) error {
	_, err := z.conn.Set(z.p(path), data, -1)
	if errors.Is(err, zk.ErrNoNode) {
		return z.create(path, data)
	}
	if err != nil {
		return fmt.Errorf("zookeeper: write %s: %w", z.p(path), err)
	}
	return nil
}

// notifyConfigChange writes the /config/changes sequential node brokers
// watch, as Kafka's AdminZkClient.changeConfigs does.
func (z *zkClient) notifyConfigChange(entityPath string) error {
	data := []byte(`{"version":2,"entity_path":"` + entityPath + `"}`)
	_, err := z.conn.Create(z.p(kafkazk.ConfigChangesPath+"/"+kafkazk.ConfigChangePrefix), data, zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		return fmt.Errorf("zookeeper: create %s: %w", z.p(kafkazk.ConfigChangesPath), err)
	}
	return nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return 0
}

// brokers reads /brokers/ids.
func (z *zkClient) brokers() (map[int32]kafkazk.BrokerInfo, error) {
	ids, err := z.children(kafkazk.BrokerIDsPath)
	if err != nil {
		return nil, err
	}
	out := map[int32]kafkazk.BrokerInfo{}
	for _, s := range ids {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			continue
		}
		b, ok, err := z.get(kafkazk.BrokerPath(int32(n)))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		bi, err := kafkazk.DecodeBrokerInfo(int32(n), b)
		if err != nil {
			return nil, err
		}
		out[int32(n)] = bi
	}
	return out, nil
}

// bootstrapFromZK turns the registered brokers into a bootstrap list (the
// old tools' --zookeeper, e.g. the console consumer's).
func (z *zkClient) bootstrapFromZK() (string, error) {
	bs, err := z.brokers()
	if err != nil {
		return "", err
	}
	var list []string
	for _, b := range bs {
		if ep, ok := b.Endpoint("PLAINTEXT"); ok {
			list = append(list, fmt.Sprintf("%s:%d", ep.Host, ep.Port))
		} else if b.Host != "" {
			list = append(list, fmt.Sprintf("%s:%d", b.Host, b.Port))
		}
	}
	if len(list) == 0 {
		return "", fmt.Errorf("no broker is registered in ZooKeeper at %s (%s is empty)", z.connect, kafkazk.BrokerIDsPath)
	}
	sort.Strings(list)
	return strings.Join(list, ","), nil
}
