package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/history"
)

func newDebugMonitorCommand(globals *globalOptions) *cli.Command {
	opts := &history.MonitorOptions{}
	return &cli.Command{
		Name:  "monitor",
		Usage: "display build events",
		Flags: []cli.Flag{
			&cli.BoolFlag{
				Name:        "completed",
				Usage:       "show completed builds",
				Destination: &opts.Completed,
			},
			&cli.StringFlag{
				Name:        "ref",
				Usage:       "show events for a specific build",
				Destination: &opts.Ref,
			},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugMonitor(ctx, globals, *opts, cmd.Root().Writer)
		},
	}
}

func runDebugMonitor(ctx context.Context, globals *globalOptions, opts history.MonitorOptions, w io.Writer) error {
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	return history.Monitor(ctx, c.ControlClient(), opts, w)
}
