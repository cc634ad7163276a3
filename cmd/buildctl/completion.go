package main

import (
	"context"
	"slices"

	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/completion"
)

// completeCommandName is the hidden command that the completion scripts run.
const completeCommandName = "__complete"

// configureCompletion makes "completion bash|zsh|fish" print scripts that
// also complete flag values, and adds the hidden command those scripts call.
// urfave/cli still adds the hidden "completion" command itself, so its help
// and "completion pwsh" stay as in BuildKit's buildctl, and so does the
// --generate-shell-completion flag that urfave/cli's own scripts use.
func configureCompletion(app *cli.Command) {
	app.ConfigureShellCompletionCommand = func(cmd *cli.Command) {
		for _, sub := range cmd.Commands {
			if slices.Contains(completion.Shells, sub.Name) {
				sub.Action = printCompletionScript(sub.Name)
			}
		}
	}
	app.Commands = append(app.Commands, &cli.Command{
		Name:            completeCommandName,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			candidates := completion.Complete(cmd.Root(), cmd.Args().Slice())
			return completion.Write(cmd.Root().Writer, candidates)
		},
	})
}

func printCompletionScript(shell string) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		script, err := completion.Script(shell, cmd.Root().Name)
		if err != nil {
			return err
		}
		_, err = cmd.Root().Writer.Write([]byte(script))
		return err
	}
}
