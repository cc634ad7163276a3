package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/history"
)

func newDebugCtlCommand(globals *globalOptions) *cli.Command {
	change := &history.Change{}
	return &cli.Command{
		Name:  "ctl",
		Usage: "control build records",
		Flags: []cli.Flag{
			&cli.BoolFlag{
				Name:        "pin",
				Usage:       "Pin build so it will not be garbage collected",
				Destination: &change.Pin,
			},
			&cli.BoolFlag{
				Name:        "unpin",
				Usage:       "Unpin build so it will be garbage collected",
				Destination: &change.Unpin,
			},
			&cli.BoolFlag{
				Name:        "delete",
				Usage:       "Delete build record",
				Destination: &change.Delete,
			},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugCtl(ctx, globals, *change, cmd.Args().Slice())
		},
	}
}

func runDebugCtl(ctx context.Context, globals *globalOptions, change history.Change, args []string) error {
	if len(args) == 0 {
		return errors.New("build ref must be specified")
	}
	ref := args[0]

	// BuildKit's buildctl connects before it checks the flags, so a
	// connection error takes precedence; keep that order.
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	if err := change.Validate(); err != nil {
		return err
	}
	return change.Apply(ctx, c.ControlClient(), ref)
}
