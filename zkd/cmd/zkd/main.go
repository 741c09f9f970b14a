// Command zkd is a ZooKeeper 3.8-compatible server.
//
//	zkd start-foreground <zoo.cfg>   serve until SIGTERM/SIGINT
//	zkd --version
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"

	"mqstack/zkd/internal/config"
	"mqstack/zkd/internal/server"
)

// extraCommands lets other files of this package add subcommands (cli).
var extraCommands []*cli.Command

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	app := &cli.App{
		Name:      "zkd",
		Usage:     "a ZooKeeper 3.8-compatible server",
		Version:   server.Version,
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once by run; urfave/cli must not os.Exit itself.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: append([]*cli.Command{{
			Name:      "start-foreground",
			Usage:     "run the server in the foreground",
			ArgsUsage: "<zoo.cfg>",
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("zkd: usage: zkd start-foreground <zoo.cfg>", 1)
				}
				return startForeground(c.Args().First(), stdout, stderr)
			},
		}}, extraCommands...),
	}
	if err := app.Run(args); err != nil {
		if ec, ok := err.(cli.ExitCoder); ok {
			if msg := ec.Error(); msg != "" {
				fmt.Fprintln(stderr, msg)
			}
			return ec.ExitCode()
		}
		fmt.Fprintln(stderr, "zkd:", err)
		return 1
	}
	return 0
}

func startForeground(path string, stdout, stderr io.Writer) error {
	cfg, err := config.Parse(path)
	if err != nil {
		return cli.Exit("zkd: "+err.Error(), 1)
	}
	logger := zerolog.New(stderr).With().Timestamp().Logger()
	s, err := server.New(cfg, logger)
	if err != nil {
		return cli.Exit("zkd: "+err.Error(), 1)
	}
	if err := s.Start(); err != nil {
		return cli.Exit("zkd: "+err.Error(), 1)
	}
	fmt.Fprintf(stdout, "ZKD READY client=%s\n", s.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	got := <-sig
	logger.Info().Str("component", "zkd").Str("signal", got.String()).Msg("shutting down")
	if err := s.Close(); err != nil {
		return cli.Exit("zkd: shutdown: "+err.Error(), 1)
	}
	return nil
}
