// Command brokerd is a Kafka 2.8-compatible broker.
//
//	brokerd start <server.properties>   serve until SIGTERM/SIGINT
//	brokerd probe host:port            health check (ApiVersions)
//	brokerd <tool> [--option value ...] Kafka's operator tools (topics,
//	                                    console-producer, ...; see
//	                                    internal/tools and docs/tools.md)
//	brokerd --version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"

	"mqstack/brokerd/internal/broker"
	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/tools"
)

var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr, nil))
}

// run runs the command line; stop, when non-nil, replaces the signal
// channel (tests).
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	broker.Version = version
	tools.Version = version
	app := &cli.App{
		Name:           "brokerd",
		Usage:          "a Kafka 2.8-compatible broker",
		Version:        version,
		Writer:         stdout,
		ErrWriter:      stderr,
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{{
			Name:      "start",
			Usage:     "run the broker in the foreground",
			ArgsUsage: "<server.properties>",
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("brokerd: usage: brokerd start <server.properties>", 1)
				}
				return start(c.Args().First(), stdout, stderr, stop)
			},
		}, probeCommand},
	}
	for _, name := range tools.Names() {
		app.Commands = append(app.Commands, toolCommand(name, stdout, stderr))
	}
	if err := app.Run(args); err != nil {
		if ec, ok := err.(cli.ExitCoder); ok {
			if msg := ec.Error(); msg != "" {
				fmt.Fprintln(stderr, msg)
			}
			return ec.ExitCode()
		}
		fmt.Fprintln(stderr, "brokerd:", err)
		return 1
	}
	return 0
}

func start(path string, stdout, stderr io.Writer, stop <-chan os.Signal) error {
	cfg, err := config.Load(path)
	if err != nil {
		return cli.Exit("brokerd: "+err.Error(), 1)
	}
	logger := zerolog.New(stderr).With().Timestamp().Logger()
	b, err := broker.New(cfg, logger)
	if err != nil {
		return cli.Exit("brokerd: "+err.Error(), 1)
	}
	if stop == nil {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		stop = sig
	}
	if err := b.Start(); err != nil {
		return cli.Exit("brokerd: "+err.Error(), 1)
	}
	defer startPprof(logger)()
	fmt.Fprintf(stdout, "BROKERD READY listener=%s\n", b.Addr())
	logger.Info().Str("component", "brokerd").Str("listener", b.Addr()).Msg("ready")
	got := <-stop
	logger.Info().Str("component", "brokerd").Str("signal", got.String()).Msg("shutting down")
	if err := b.Close(); err != nil {
		return cli.Exit("brokerd: shutdown: "+err.Error(), 1)
	}
	return nil
}

// toolCommand runs one of Kafka's operator tools; the tool parses its own
// options (Kafka's --name value syntax), so urfave/cli passes them through.
func toolCommand(name string, stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:            name,
		Usage:           tools.Summary(name),
		SkipFlagParsing: true,
		HideHelp:        true,
		Action: func(c *cli.Context) error {
			ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer cancel()
			if code := tools.Run(ctx, name, c.Args().Slice(), os.Stdin, stdout, stderr); code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	}
}
