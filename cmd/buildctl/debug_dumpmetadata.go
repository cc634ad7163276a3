package main

import (
	"context"
	"io"

	"github.com/moby/buildkit/util/appdefaults"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/metadatadump"
)

type debugDumpMetadataOptions struct {
	root string
}

func newDebugDumpMetadataCommand(_ *globalOptions) *cli.Command {
	opts := &debugDumpMetadataOptions{}
	return &cli.Command{
		Name:  "dump-metadata",
		Usage: "dump the meta in human-readable format.  This command requires the daemon NOT to be running.",
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:        "root",
				Usage:       "path to state directory",
				Value:       appdefaults.Root,
				Destination: &opts.root,
			},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugDumpMetadata(opts, cmd.Root().Writer)
		},
	}
}

func runDebugDumpMetadata(opts *debugDumpMetadataOptions, w io.Writer) error {
	files, err := metadatadump.FindDatabases(opts.root)
	if err != nil {
		return err
	}
	return metadatadump.DumpAll(w, files)
}
