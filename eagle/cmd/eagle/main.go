// Command eagle is the EFAK-like dashboard for zkd + brokerd (and Apache
// ZooKeeper + Kafka) clusters.
//
//	eagle start <system-config.properties>   serve until SIGTERM/SIGINT
//	eagle probe [--ready] <url|system-config.properties>
//	eagle --version
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"

	"mqstack/eagle/internal/config"
	"mqstack/eagle/internal/web"
)

var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr, nil))
}

// run runs the command line; stop, when non-nil, replaces the signal
// channel (tests).
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	web.Version = version
	app := &cli.App{
		Name:           "eagle",
		Usage:          "an EFAK-like dashboard for ZooKeeper + Kafka clusters",
		Version:        version,
		Writer:         stdout,
		ErrWriter:      stderr,
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{{
			Name:      "start",
			Usage:     "run eagle in the foreground",
			ArgsUsage: "<system-config.properties>",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"}},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("eagle: usage: eagle start <system-config.properties>", 1)
				}
				return start(c.Args().First(), c.String("log-level"), stdout, stderr, stop)
			},
		}, {
			Name:      "probe",
			Usage:     "check a running eagle: exit 0 when /healthz (or /readyz with --ready) answers 200",
			ArgsUsage: "<http://host:port | system-config.properties>",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "ready", Usage: "check /readyz (every cluster collected once) instead of /healthz"},
				&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("eagle: usage: eagle probe [--ready] <http://host:port | system-config.properties>", 2)
				}
				return probe(c.Args().First(), c.Bool("ready"), c.Duration("timeout"), stdout)
			},
		}},
	}
	if err := app.Run(args); err != nil {
		if ec, ok := err.(cli.ExitCoder); ok {
			if msg := ec.Error(); msg != "" {
				fmt.Fprintln(stderr, msg)
			}
			return ec.ExitCode()
		}
		fmt.Fprintln(stderr, "eagle:", err)
		return 1
	}
	return 0
}

func start(path, level string, stdout, stderr io.Writer, stop <-chan os.Signal) error {
	cfg, err := config.Load(path)
	if err != nil {
		return cli.Exit("eagle: "+err.Error(), 1)
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return cli.Exit("eagle: --log-level "+strconv.Quote(level)+": want debug, info, warn or error", 1)
	}
	logger := zerolog.New(stderr).Level(lvl).With().Timestamp().Logger()
	log := logger.With().Str("component", "eagle").Logger()
	for _, k := range cfg.Unknown {
		log.Warn().Str("file", path).Str("key", k).Msg("unknown key ignored (a typo?)")
	}
	if len(cfg.Ignored) > 0 {
		log.Info().Strs("keys", cfg.Ignored).Msg("EFAK keys accepted with no effect in eagle (JMX, MySQL, distributed mode)")
	}
	for _, cl := range cfg.Clusters {
		if cl.SASLEnabled || cl.SSLEnabled {
			log.Warn().Str("cluster", cl.Alias).Msg("efak.sasl / efak.ssl settings are kept but not used yet: eagle connects in PLAINTEXT")
		}
	}
	s, err := web.New(cfg, logger)
	if err != nil {
		return cli.Exit("eagle: "+err.Error(), 1)
	}
	if stop == nil {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		stop = sig
	}
	if err := s.Start(); err != nil {
		_ = s.Close()
		return cli.Exit("eagle: "+err.Error(), 1)
	}
	if s.FirstPassword != "" {
		fmt.Fprintf(stdout, "EAGLE ADMIN user=admin password=%s (printed once; change it at first login)\n", s.FirstPassword)
	}
	fmt.Fprintf(stdout, "EAGLE READY http=%s\n", s.Addr())
	log.Info().Str("http", s.Addr()).Str("store", cfg.DBFile(mustWd())).Int("clusters", len(cfg.Clusters)).Msg("ready")
	got := <-stop
	log.Info().Str("signal", got.String()).Msg("shutting down")
	if err := s.Close(); err != nil {
		return cli.Exit("eagle: shutdown: "+err.Error(), 1)
	}
	log.Info().Msg("stopped")
	return nil
}

func mustWd() string {
	wd, _ := os.Getwd()
	return wd
}

func probe(target string, ready bool, timeout time.Duration, stdout io.Writer) error {
	base := target
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		cfg, err := config.Load(target)
		if err != nil {
			return cli.Exit("eagle: "+err.Error(), 1)
		}
		host := cfg.WebHost
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.WebPort))
	}
	p := "/healthz"
	if ready {
		p = "/readyz"
	}
	hc := &http.Client{Timeout: timeout}
	resp, err := hc.Get(strings.TrimRight(base, "/") + p)
	if err != nil {
		return cli.Exit("eagle: probe "+base+p+": "+err.Error(), 1)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		return cli.Exit(fmt.Sprintf("eagle: probe %s%s: %s %v", base, p, resp.Status, body["reason"]), 1)
	}
	fmt.Fprintf(stdout, "eagle at %s: %s ok\n", base, strings.TrimPrefix(p, "/"))
	return nil
}
