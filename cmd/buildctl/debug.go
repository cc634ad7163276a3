package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"
)

// TODO: not implemented yet.
func newDebugCommand(_ *globalOptions) *cli.Command {
	return &cli.Command{
		Name: "debug",
		Action: func(context.Context, *cli.Command) error {
			return errors.New("debug is not implemented yet")
		},
	}
}
