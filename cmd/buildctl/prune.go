package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"
)

// TODO: not implemented yet.
func newPruneCommand(_ *globalOptions) *cli.Command {
	return &cli.Command{
		Name: "prune",
		Action: func(context.Context, *cli.Command) error {
			return errors.New("prune is not implemented yet")
		},
	}
}
