package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"
)

// TODO: not implemented yet.
func newDiskUsageCommand(_ *globalOptions) *cli.Command {
	return &cli.Command{
		Name: "du",
		Action: func(context.Context, *cli.Command) error {
			return errors.New("du is not implemented yet")
		},
	}
}
