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

type pruneHistoriesOptions struct {
	format string
}

func newPruneHistoriesCommand(globals *globalOptions) *cli.Command {
	opts := &pruneHistoriesOptions{}
	return &cli.Command{
		Name:  "prune-histories",
		Usage: "clean up build histories",
		Flags: []cli.Flag{formatFlag(&opts.format)},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runPruneHistories(ctx, globals, opts, cmd.Root().Writer)
		},
	}
}

func runPruneHistories(ctx context.Context, globals *globalOptions, opts *pruneHistoriesOptions, w io.Writer) error {
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	if opts.format == "" {
		table := history.NewPruneTable(w)
		deleteErr, err := history.Prune(ctx, c.ControlClient(), table.Write)
		if err != nil {
			return err
		}
		// Failed deletions are reported after the table is complete. Unlike
		// debug histories, buildctl ignores the table's write error here.
		_ = table.Close()
		return deleteErr
	}

	tmpl, err := render.ParseTemplate(opts.format)
	if err != nil {
		return err
	}
	deleteErr, err := history.Prune(ctx, c.ControlClient(), func(ev *controlapi.BuildHistoryEvent) error {
		return render.ExecuteTemplate(w, tmpl, ev)
	})
	if err != nil {
		return err
	}
	return deleteErr
}
