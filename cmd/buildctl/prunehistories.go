package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"
)

// TODO: not implemented yet.
func newPruneHistoriesCommand(_ *globalOptions) *cli.Command {
	return &cli.Command{
		Name: "prune-histories",
		Action: func(context.Context, *cli.Command) error {
			return errors.New("prune-histories is not implemented yet")
		},
	}
}
