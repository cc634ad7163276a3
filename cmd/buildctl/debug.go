package main

import (
	"github.com/urfave/cli/v3"
)

// newDebugCommand builds the debug command. Each verb lives in its own
// debug_<verb>.go file and is listed here.
func newDebugCommand(globals *globalOptions) *cli.Command {
	return &cli.Command{
		Name:  "debug",
		Usage: "debug utilities",
		Commands: []*cli.Command{
			newDebugDumpLLBCommand(globals),
			newDebugDumpMetadataCommand(globals),
			newDebugWorkersCommand(globals),
			newDebugInfoCommand(globals),
			newDebugMonitorCommand(globals),
			newDebugLogsCommand(globals),
			newDebugCtlCommand(globals),
			newDebugGetCommand(globals),
			newDebugHistoriesCommand(globals),
		},
	}
}
