// Package store is eagle's embedded database: one SQLite file (the path of
// efak.url), opened with modernc.org/sqlite (pure Go) in WAL mode. One
// connection writes (the collection loop and the page handlers' few writes
// go through it, serialized by database/sql); a separate pool reads, so
// pages never wait for a write.
//
// Tables:
//
//	samples(cluster, metric, key, ts, value, res)   history; res 0 = raw,
//	        res 300 = 5-minute averages. Raw rows older than RawKeep are
//	        averaged into 5-minute rows; all rows older than the retention
//	        (efak.metrics.retain days) are deleted.
//	users(name, hash, role, must_change, created)    bcrypt hashes
//	audit(ts, user, action, detail)                  who changed what
//	alerts(ts, cluster, key, kind, level, state, text, delivery)
//	brokers_seen(cluster, id, host, port, last_seen) brokers once registered
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// RawKeep is how long raw samples are kept before being downsampled.
const RawKeep = 48 * time.Hour

// Bucket is the downsampled resolution in seconds.
const Bucket = 300

// Store is the open database.
type Store struct {
	w, r *sql.DB
	path string
}

const schema = `
CREATE TABLE IF NOT EXISTS samples(cluster TEXT NOT NULL, metric TEXT NOT NULL, key TEXT NOT NULL,
	ts INTEGER NOT NULL, value REAL NOT NULL, res INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS samples_series ON samples(cluster, metric, key, ts);
CREATE INDEX IF NOT EXISTS samples_age ON samples(res, ts);
CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, hash TEXT NOT NULL, role TEXT NOT NULL,
	must_change INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, user TEXT NOT NULL,
	action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS brokers_seen(cluster TEXT NOT NULL, id INTEGER NOT NULL, host TEXT NOT NULL,
	port INTEGER NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY(cluster, id));
CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, cluster TEXT NOT NULL,
	key TEXT NOT NULL, kind TEXT NOT NULL, level TEXT NOT NULL, state TEXT NOT NULL, text TEXT NOT NULL,
	delivery TEXT NOT NULL);
`

// Open opens (creating) the database file.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(schema); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("store: %s: %w (is it an SQLite file eagle can write?)", path, err)
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return &Store{w: w, r: r, path: path}, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes both pools.
func (s *Store) Close() error { return errors.Join(s.r.Close(), s.w.Close()) }

// Ping checks the store answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// Sample is one value of one series.
type Sample struct {
	Metric, Key string
	Value       float64
}

// AddSamples writes one pass's samples in one transaction.
func (s *Store) AddSamples(cluster string, ts time.Time, samples []Sample) error {
	tx, err := s.w.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.Prepare(`INSERT INTO samples(cluster, metric, key, ts, value, res) VALUES(?,?,?,?,?,0)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, x := range samples {
		if _, err := st.Exec(cluster, x.Metric, x.Key, ts.Unix(), x.Value); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Point is one point of a series.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Series returns a series from..to averaged into about maxPoints buckets.
func (s *Store) Series(ctx context.Context, cluster, metric, key string, from, to time.Time, maxPoints int) ([]Point, error) {
	if maxPoints < 1 {
		maxPoints = 200
	}
	step := int64(to.Sub(from).Seconds()) / int64(maxPoints)
	if step < 1 {
		step = 1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT (ts/?)*?, avg(value) FROM samples
		WHERE cluster=? AND metric=? AND key=? AND ts>=? AND ts<=? GROUP BY ts/? ORDER BY 1`,
		step, step, cluster, metric, key, from.Unix(), to.Unix(), step)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var ts int64
		var v float64
		if err := rows.Scan(&ts, &v); err != nil {
			return nil, err
		}
		out = append(out, Point{T: time.Unix(ts, 0).UTC(), V: v})
	}
	return out, rows.Err()
}

// Compaction reports what Compact did.
type Compaction struct {
	Downsampled, Averaged, Deleted int64
}

// Compact averages raw samples older than RawKeep into 5-minute rows and
// deletes every sample older than retain.
func (s *Store) Compact(now time.Time, retain time.Duration) (Compaction, error) {
	var c Compaction
	cut := now.Add(-RawKeep).Unix() / Bucket * Bucket // whole buckets only
	tx, err := s.w.Begin()
	if err != nil {
		return c, err
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.Exec(`INSERT INTO samples(cluster, metric, key, ts, value, res)
		SELECT cluster, metric, key, (ts/?)*?, avg(value), ? FROM samples WHERE res=0 AND ts<?
		GROUP BY cluster, metric, key, ts/?`, Bucket, Bucket, Bucket, cut, Bucket)
	if err != nil {
		return c, err
	}
	c.Averaged, _ = res.RowsAffected()
	res, err = tx.Exec(`DELETE FROM samples WHERE res=0 AND ts<?`, cut)
	if err != nil {
		return c, err
	}
	c.Downsampled, _ = res.RowsAffected()
	res, err = tx.Exec(`DELETE FROM samples WHERE ts<?`, now.Add(-retain).Unix())
	if err != nil {
		return c, err
	}
	c.Deleted, _ = res.RowsAffected()
	return c, tx.Commit()
}

// Count returns the number of samples per resolution (tests, the about page).
func (s *Store) Count(ctx context.Context) (raw, averaged int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT coalesce(sum(res=0),0), coalesce(sum(res<>0),0) FROM samples`).Scan(&raw, &averaged)
	return
}

// User is an account.
type User struct {
	Name       string
	Hash       string
	Role       string
	MustChange bool
	Created    time.Time
}

// ErrNoUser is returned for an unknown user.
var ErrNoUser = errors.New("store: no such user")

// GetUser reads one account.
func (s *Store) GetUser(ctx context.Context, name string) (User, error) {
	var u User
	var mc int
	var created int64
	err := s.w.QueryRowContext(ctx, `SELECT name, hash, role, must_change, created FROM users WHERE name=?`, name).
		Scan(&u.Name, &u.Hash, &u.Role, &mc, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNoUser
	}
	u.MustChange, u.Created = mc != 0, time.Unix(created, 0)
	return u, err
}

// Users lists accounts.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, hash, role, must_change, created FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var mc int
		var created int64
		if err := rows.Scan(&u.Name, &u.Hash, &u.Role, &mc, &created); err != nil {
			return nil, err
		}
		u.MustChange, u.Created = mc != 0, time.Unix(created, 0)
		out = append(out, u)
	}
	return out, rows.Err()
}

// PutUser creates or replaces an account.
func (s *Store) PutUser(ctx context.Context, u User) error {
	mc := 0
	if u.MustChange {
		mc = 1
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO users(name, hash, role, must_change, created) VALUES(?,?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET hash=excluded.hash, role=excluded.role, must_change=excluded.must_change`,
		u.Name, u.Hash, u.Role, mc, time.Now().Unix())
	return err
}

// DeleteUser removes an account.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM users WHERE name=?`, name)
	return err
}

// AuditEntry is one audit row.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	User   string    `json:"user"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
}

// Audit records a change.
func (s *Store) Audit(ctx context.Context, user, action, detail string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO audit(ts, user, action, detail) VALUES(?,?,?,?)`, time.Now().Unix(), user, action, detail)
	return err
}

// AuditLog returns the newest entries first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT ts, user, action, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var ts int64
		if err := rows.Scan(&ts, &e.User, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = time.Unix(ts, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// AlertEntry is one alert history row.
type AlertEntry struct {
	Time     time.Time `json:"time"`
	Cluster  string    `json:"cluster"`
	Key      string    `json:"key"`
	Kind     string    `json:"kind"`
	Level    string    `json:"level"`
	State    string    `json:"state"` // firing, repeat, resolved, test
	Text     string    `json:"text"`
	Delivery string    `json:"delivery"`
}

// AddAlert records a notification.
func (s *Store) AddAlert(ctx context.Context, a AlertEntry) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO alerts(ts, cluster, key, kind, level, state, text, delivery) VALUES(?,?,?,?,?,?,?,?)`,
		a.Time.Unix(), a.Cluster, a.Key, a.Kind, a.Level, a.State, a.Text, a.Delivery)
	return err
}

// Alerts returns the newest notifications first.
func (s *Store) Alerts(ctx context.Context, limit int) ([]AlertEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT ts, cluster, key, kind, level, state, text, delivery FROM alerts ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AlertEntry
	for rows.Next() {
		var a AlertEntry
		var ts int64
		if err := rows.Scan(&ts, &a.Cluster, &a.Key, &a.Kind, &a.Level, &a.State, &a.Text, &a.Delivery); err != nil {
			return nil, err
		}
		a.Time = time.Unix(ts, 0).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// SeenBroker is a broker once registered in a cluster.
type SeenBroker struct {
	ID   int32
	Host string
	Port int
	Last time.Time
}

// SaveSeen upserts the brokers seen in a cluster.
func (s *Store) SaveSeen(ctx context.Context, cluster string, list []SeenBroker) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, b := range list {
		if _, err := tx.ExecContext(ctx, `INSERT INTO brokers_seen(cluster, id, host, port, last_seen) VALUES(?,?,?,?,?)
			ON CONFLICT(cluster, id) DO UPDATE SET host=excluded.host, port=excluded.port, last_seen=max(last_seen, excluded.last_seen)`,
			cluster, b.ID, b.Host, b.Port, b.Last.Unix()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Seen lists the brokers once registered in a cluster.
func (s *Store) Seen(ctx context.Context, cluster string) ([]SeenBroker, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, host, port, last_seen FROM brokers_seen WHERE cluster=? ORDER BY id`, cluster)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SeenBroker
	for rows.Next() {
		var b SeenBroker
		var ts int64
		if err := rows.Scan(&b.ID, &b.Host, &b.Port, &ts); err != nil {
			return nil, err
		}
		b.Last = time.Unix(ts, 0)
		out = append(out, b)
	}
	return out, rows.Err()
}

// ForgetBroker drops a broker from a cluster's seen list.
func (s *Store) ForgetBroker(ctx context.Context, cluster string, id int32) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM brokers_seen WHERE cluster=? AND id=?`, cluster, id)
	return err
}
