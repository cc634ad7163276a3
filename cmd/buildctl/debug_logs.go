package main

import (
	"context"
	"errors"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/history"
)

type debugLogsOptions struct {
	progress string
	trace    bool
}

func newDebugLogsCommand(globals *globalOptions) *cli.Command {
	opts := &debugLogsOptions{}
	return &cli.Command{
		Name:  "logs",
		Usage: "display build logs",
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:        "progress",
				Usage:       "progress output type",
				Value:       "auto",
				Destination: &opts.progress,
			},
			&cli.BoolFlag{
				Name:        "trace",
				Usage:       "show opentelemetry trace",
				Destination: &opts.trace,
			},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugLogs(ctx, globals, opts, cmd.Args().Slice())
		},
	}
}

// runDebugLogs writes to os.Stdout rather than the command's writer because
// the progress display needs a console file to detect a terminal.
func runDebugLogs(ctx context.Context, globals *globalOptions, opts *debugLogsOptions, args []string) error {
	if len(args) == 0 {
		return errors.New("build ref must be specified")
	}
	ref := args[0]

	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	if opts.trace {
		return history.WriteTrace(ctx, c, ref, os.Stdout)
	}
	return history.ReplayLogs(ctx, c.ControlClient(), ref, opts.progress, os.Stdout)
}
