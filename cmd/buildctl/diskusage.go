package main

import (
	"context"
	"io"

	"github.com/moby/buildkit/client"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/render"
)

type diskUsageOptions struct {
	filters []string
	verbose bool
	format  string
}

func newDiskUsageCommand(globals *globalOptions) *cli.Command {
	opts := &diskUsageOptions{}
	return &cli.Command{
		Name:  "du",
		Usage: "disk usage",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{
				Name:        "filter",
				Aliases:     []string{"f"},
				Usage:       "Filter records",
				Destination: &opts.filters,
			},
			&cli.BoolFlag{
				Name:        "verbose",
				Aliases:     []string{"v"},
				Usage:       "Verbose output",
				Destination: &opts.verbose,
			},
			&cli.StringFlag{
				Name:        "format",
				Usage:       "Format the output using the given Go template, e.g, '{{json .}}'",
				Destination: &opts.format,
			},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDiskUsage(ctx, globals, opts, cmd.Root().Writer)
		},
	}
}

func runDiskUsage(ctx context.Context, globals *globalOptions, opts *diskUsageOptions, w io.Writer) error {
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
		if opts.verbose {
			logrus.Debug("ignoring --verbose because --format is set")
		}
		tmpl, err := render.ParseTemplate(opts.format)
		if err != nil {
			return err
		}
		return render.ExecuteTemplate(w, tmpl, records)
	}

	render.DiskUsage(w, records, render.DiskUsageOptions{
		Verbose: opts.verbose,
		Summary: len(opts.filters) == 0,
	})
	return nil
}
