package main

import (
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"
)

// The flags below appear on several commands, as they do in BuildKit's
// buildctl, whose help output ours must match byte for byte.

// listOptions holds the flags of du and debug workers, which list records
// of the daemon as a table or through a --format template.
type listOptions struct {
	filters []string
	verbose bool
	format  string
}

// flags declares --filter, with filterUsage as its help text, --verbose and
// --format, in the order of the commands' help output.
func (o *listOptions) flags(filterUsage string) []cli.Flag {
	return []cli.Flag{
		filterFlag(filterUsage, &o.filters),
		verboseFlag(&o.verbose),
		formatFlag(&o.format),
	}
}

// formatFlag declares --format, a Go template that replaces the command's
// table output.
func formatFlag(dest *string) *cli.StringFlag {
	return &cli.StringFlag{
		Name:        "format",
		Usage:       "Format the output using the given Go template, e.g, '{{json .}}'",
		Destination: dest,
	}
}

// verboseFlag declares --verbose (-v), which adds detail to the table output.
func verboseFlag(dest *bool) *cli.BoolFlag {
	return &cli.BoolFlag{
		Name:        "verbose",
		Aliases:     []string{"v"},
		Usage:       "Verbose output",
		Destination: dest,
	}
}

// filterFlag declares the repeatable --filter (-f) with the command's own
// help text. Each value is passed to the daemon as one filter.
func filterFlag(usage string, dest *[]string) *cli.StringSliceFlag {
	return &cli.StringSliceFlag{
		Name:        "filter",
		Aliases:     []string{"f"},
		Usage:       usage,
		Destination: dest,
	}
}

// logVerboseIgnored logs at debug level, when verbose is set, that --verbose
// has no effect, because --format replaces the table output it details.
func logVerboseIgnored(verbose bool) {
	if verbose {
		logrus.Debug("ignoring --verbose because --format is set")
	}
}
