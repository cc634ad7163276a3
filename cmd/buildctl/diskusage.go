package main

import (
	"context"
	"io"

	"github.com/moby/buildkit/client"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/render"
)

func newDiskUsageCommand(globals *globalOptions) *cli.Command {
	opts := &listOptions{}
	return &cli.Command{
		Name:  "du",
		Usage: "disk usage",
		Flags: opts.flags("Filter records"),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDiskUsage(ctx, globals, opts, cmd.Root().Writer)
		},
	}
}

func runDiskUsage(ctx context.Context, globals *globalOptions, opts *listOptions, w io.Writer) error {
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	records, err := c.DiskUsage(ctx, client.WithFilter(opts.filters))
	if err != nil {
		return err
	}

	// The template is parsed only after the daemon returned the records, so an
	// unreachable daemon is reported before a bad template, as buildctl does.
	if opts.format != "" {
		logVerboseIgnored(opts.verbose)
		return render.Template(w, opts.format, records)
	}

	render.DiskUsage(w, records, render.DiskUsageOptions{
		Verbose: opts.verbose,
		Summary: len(opts.filters) == 0,
	})
	return nil
}
