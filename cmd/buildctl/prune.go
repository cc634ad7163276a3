package main

import (
	"context"
	"io"
	"text/template"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/render"
)

type pruneOptions struct {
	keepDuration time.Duration
	// Storage limits in MB (10^6 bytes), as floats like buildctl's flags.
	keepStorage    float64
	keepStorageMin float64
	freeStorage    float64
	filters        []string
	all            bool
	verbose        bool
	format         string
}

func newPruneCommand(globals *globalOptions) *cli.Command {
	opts := &pruneOptions{}
	return &cli.Command{
		Name:  "prune",
		Usage: "clean up build cache",
		Flags: pruneFlags(opts),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runPrune(ctx, globals, opts, cmd.Root().Writer)
		},
	}
}

func pruneFlags(opts *pruneOptions) []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{
			Name:        "keep-duration",
			Usage:       "Keep data newer than this limit",
			Destination: &opts.keepDuration,
		},
		&cli.Float64Flag{
			Name:        "keep-storage",
			Usage:       "Keep data below this limit (in MB)",
			Destination: &opts.keepStorage,
		},
		&cli.Float64Flag{
			Name:        "keep-storage-min",
			Usage:       "Always allow data above this limit (in MB)",
			Destination: &opts.keepStorageMin,
		},
		&cli.Float64Flag{
			Name:        "free-storage",
			Usage:       "Keep free data below this limit (in MB)",
			Destination: &opts.freeStorage,
		},
		filterFlag("Filter records", &opts.filters),
		&cli.BoolFlag{
			Name:        "all",
			Usage:       "Include internal/frontend references",
			Destination: &opts.all,
		},
		verboseFlag(&opts.verbose),
		formatFlag(&opts.format),
	}
}

func (o *pruneOptions) clientOptions() []client.PruneOption {
	opts := []client.PruneOption{
		client.WithFilter(o.filters),
		client.WithKeepOpt(o.keepDuration, megabytes(o.keepStorageMin), megabytes(o.keepStorage), megabytes(o.freeStorage)),
	}
	if o.all {
		opts = append(opts, client.PruneAll)
	}
	return opts
}

// megabytes converts a flag value in MB to bytes, dropping any fraction of
// a byte.
func megabytes(mb float64) int64 {
	return int64(mb * 1e6)
}

func runPrune(ctx context.Context, globals *globalOptions, opts *pruneOptions, w io.Writer) error {
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	var tmpl *template.Template
	if opts.format != "" {
		logVerboseIgnored(opts.verbose)
		if tmpl, err = render.ParseTemplate(opts.format); err != nil {
			return err
		}
	}
	printer := render.NewPrunePrinter(w, tmpl, opts.verbose)

	records := make(chan client.UsageInfo)
	printErr := make(chan error, 1)
	go func() {
		printErr <- printPruned(printer, records)
	}()

	err = c.Prune(ctx, records, opts.clientOptions()...)
	close(records)
	if perr := <-printErr; err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	printer.Finish()
	return nil
}

// printPruned prints every record that arrives on records and returns the
// first print error. It keeps receiving after an error, so Prune is never
// left blocked on a send. Only template output can fail, because table write
// errors are ignored. buildctl v0.34.2 panics on that failure instead.
func printPruned(printer *render.PrunePrinter, records <-chan client.UsageInfo) error {
	var first error
	for r := range records {
		if first != nil {
			continue
		}
		first = printer.Print(r)
	}
	return first
}
