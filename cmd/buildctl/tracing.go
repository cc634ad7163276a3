package main

import (
	"context"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/tracing"
)

// traceCommands makes each top-level command start its span once its own
// Before hook ran, as BuildKit's buildctl does, so the span is named after
// the command ("build", "debug", ...) and covers the whole action.
func traceCommands(app *cli.Command, provider *tracing.Provider) {
	for _, cmd := range app.Commands {
		before, name := cmd.Before, cmd.Name
		cmd.Before = func(ctx context.Context, c *cli.Command) (context.Context, error) {
			if before != nil {
				next, err := before(ctx, c)
				if err != nil {
					return next, err
				}
				if next != nil {
					ctx = next
				}
			}
			return provider.StartCommand(ctx, name, os.Args), nil
		}
	}
}
