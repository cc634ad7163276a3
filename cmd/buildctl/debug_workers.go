package main

import (
	"context"
	"io"

	"github.com/moby/buildkit/client"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/render"
)

func newDebugWorkersCommand(globals *globalOptions) *cli.Command {
	opts := &listOptions{}
	return &cli.Command{
		Name:  "workers",
		Usage: "list workers",
		Flags: opts.flags("containerd-style filter string slice"),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugWorkers(ctx, globals, opts, cmd.Root().Writer)
		},
	}
}

func runDebugWorkers(ctx context.Context, globals *globalOptions, opts *listOptions, w io.Writer) error {
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	workers, err := c.ListWorkers(ctx, client.WithFilter(opts.filters))
	if err != nil {
		return err
	}

	// As in du, the template is parsed after the daemon returned the list.
	if opts.format != "" {
		logVerboseIgnored(opts.verbose)
		return render.Template(w, opts.format, workers)
	}

	render.Workers(w, workers, opts.verbose)
	return nil
}
