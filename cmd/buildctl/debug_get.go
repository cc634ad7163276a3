package main

import (
	"context"
	"errors"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/blob"
	"github.com/buildhost/buildctl/internal/connect"
)

func newDebugGetCommand(globals *globalOptions) *cli.Command {
	return &cli.Command{
		Name:  "get",
		Usage: "retrieve a blob from contentstore",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugGet(ctx, globals, cmd.Args().Slice(), cmd.Root().Writer)
		},
	}
}

func runDebugGet(ctx context.Context, globals *globalOptions, args []string, w io.Writer) error {
	if len(args) == 0 {
		return errors.New("blob digest must be specified")
	}
	dgst, err := digest.Parse(args[0])
	if err != nil {
		return err
	}

	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	return blob.Copy(ctx, c.ContentClient(), ocispecs.Descriptor{Digest: dgst}, w)
}
