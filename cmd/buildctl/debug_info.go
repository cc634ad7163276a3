package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/render"
)

type debugInfoOptions struct {
	format string
}

func newDebugInfoCommand(globals *globalOptions) *cli.Command {
	opts := &debugInfoOptions{}
	return &cli.Command{
		Name:  "info",
		Usage: "display internal information",
		Flags: []cli.Flag{formatFlag(&opts.format)},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugInfo(ctx, globals, opts, cmd.Root().Writer)
		},
	}
}

func runDebugInfo(ctx context.Context, globals *globalOptions, opts *debugInfoOptions, w io.Writer) error {
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	info, err := c.Info(ctx)
	if err != nil {
		return err
	}

	if opts.format != "" {
		return render.Template(w, opts.format, info)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	v := info.BuildkitVersion
	fmt.Fprintf(tw, "BuildKit:\t%s %s %s\n", v.Package, v.Version, v.Revision)
	if v.DockerfileVersion != "" {
		fmt.Fprintf(tw, "Dockerfile:\t%s\n", v.DockerfileVersion)
	}
	return tw.Flush()
}
