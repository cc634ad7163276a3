package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"
)

// TODO: not implemented yet.
func newDialStdioCommand(_ *globalOptions) *cli.Command {
	return &cli.Command{
		Name: "dial-stdio",
		Action: func(context.Context, *cli.Command) error {
			return errors.New("dial-stdio is not implemented yet")
		},
	}
}
