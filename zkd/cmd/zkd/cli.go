package main

import (
	"os"

	"github.com/urfave/cli/v2"

	zkcli "mqstack/zkd/internal/cli"
)

func init() {
	extraCommands = append(extraCommands, &cli.Command{
		Name:            "cli",
		Usage:           "zkCli.sh: zkd cli -server host:port [command args]",
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if code := zkcli.Main(c.Args().Slice(), os.Stdin, c.App.Writer, c.App.ErrWriter); code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	})
}
