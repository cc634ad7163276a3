package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"unicode"

	"github.com/containerd/containerd/v2/pkg/filters"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v3"
)

// filterOf parses "--filter=value" with the flags of cmd and returns the
// filter list the command would send, without contacting a daemon.
func filterOf(t *testing.T, cmd *cli.Command, value string) []string {
	t.Helper()
	var got []string
	cmd.Action = func(_ context.Context, c *cli.Command) error {
		got = c.StringSlice("filter")
		return nil
	}
	cmd.Writer, cmd.ErrWriter = io.Discard, io.Discard
	disableSliceFlagSeparator(cmd)
	require.NoError(t, cmd.Run(context.Background(), []string{cmd.Name, "--filter=" + value}))
	return got
}

// FuzzFilterFlag checks that du, prune and debug workers pass any --filter
// value to the daemon as one entry, commas included, and that the containerd
// filter parser the daemon runs on it does not panic. urfave/cli v3.11.0
// trims white space around each argument, so "--filter=x " arrives as "x";
// BuildKit's buildctl uses the same library and sends the same value.
func FuzzFilterFlag(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string) {
		want := []string{strings.TrimRightFunc(value, unicode.IsSpace)}

		_, info, err := parsePruneArgs(t, "--filter="+value)
		require.NoError(t, err)
		require.Equal(t, want, info.Filter, "prune")

		require.Equal(t, want, filterOf(t, newDiskUsageCommand(&globalOptions{}), value), "du")
		require.Equal(t, want, filterOf(t, newDebugWorkersCommand(&globalOptions{}), value), "debug workers")

		_, _ = filters.ParseAll(value)
	})
}
