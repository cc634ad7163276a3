package main

import (
	"context"
	"io"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/history"
	"github.com/buildhost/buildctl/internal/render"
)

type debugHistoriesOptions struct {
	format string
}

func newDebugHistoriesCommand(globals *globalOptions) *cli.Command {
	opts := &debugHistoriesOptions{}
	return &cli.Command{
		Name:  "histories",
		Usage: "list build records",
		Flags: []cli.Flag{formatFlag(&opts.format)},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugHistories(ctx, globals, opts, cmd.Root().Writer)
		},
	}
}

func runDebugHistories(ctx context.Context, globals *globalOptions, opts *debugHistoriesOptions, w io.Writer) error {
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	if opts.format == "" {
		table := history.NewListTable(w)
		if err := history.ForEachRecord(ctx, c.ControlClient(), table.Write); err != nil {
			return err
		}
		return table.Close()
	}

	tmpl, err := render.ParseTemplate(opts.format)
	if err != nil {
		return err
	}
	return history.ForEachRecord(ctx, c.ControlClient(), func(ev *controlapi.BuildHistoryEvent) error {
		return render.ExecuteTemplate(w, tmpl, ev)
	})
}
