package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"
)

// TODO: not implemented yet.
func newBuildCommand(_ *globalOptions) *cli.Command {
	return &cli.Command{
		Name: "build",
		Action: func(context.Context, *cli.Command) error {
			return errors.New("build is not implemented yet")
		},
	}
}
