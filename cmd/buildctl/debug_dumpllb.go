package main

import (
	"context"
	"io"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/llbdump"
)

type debugDumpLLBOptions struct {
	dot bool
}

func newDebugDumpLLBCommand(_ *globalOptions) *cli.Command {
	opts := &debugDumpLLBOptions{}
	return &cli.Command{
		Name:      "dump-llb",
		Usage:     "dump LLB in human-readable format. LLB can be also passed via stdin. This command does not require the daemon to be running.",
		ArgsUsage: "<llbfile>",
		Flags: []cli.Flag{
			&cli.BoolFlag{
				Name:        "dot",
				Usage:       "Output dot format",
				Destination: &opts.dot,
			},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runDebugDumpLLB(opts, cmd.Args().First(), cmd.Root().Reader, cmd.Root().Writer)
		},
	}
}

// runDebugDumpLLB reads the definition from the file at path, or from stdin
// when path is empty or "-".
func runDebugDumpLLB(opts *debugDumpLLBOptions, path string, stdin io.Reader, w io.Writer) error {
	in := stdin
	if path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}

	ops, err := llbdump.Load(in)
	if err != nil {
		return err
	}
	if opts.dot {
		llbdump.WriteDot(w, ops)
		return nil
	}
	return llbdump.WriteJSON(w, ops)
}
