package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v3"
)

// parsePruneArgs parses args with the prune flags and returns the request
// options they produce, without contacting a daemon.
func parsePruneArgs(t *testing.T, args ...string) (*pruneOptions, client.PruneInfo, error) {
	t.Helper()
	opts := &pruneOptions{}
	cmd := &cli.Command{
		Name:      "prune",
		Flags:     pruneFlags(opts),
		Writer:    io.Discard,
		ErrWriter: io.Discard,
		Action:    func(context.Context, *cli.Command) error { return nil },
	}
	disableSliceFlagSeparator(cmd)
	err := cmd.Run(context.Background(), append([]string{"prune"}, args...))

	var info client.PruneInfo
	for _, o := range opts.clientOptions() {
		o.SetPruneOption(&info)
	}
	// An empty filter list is sent the same way as none.
	if len(info.Filter) == 0 {
		info.Filter = nil
	}
	return opts, info, err
}

func TestPruneFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want client.PruneInfo
	}{
		{
			name: "defaults",
			want: client.PruneInfo{},
		},
		{
			name: "storage limits in MB",
			args: []string{"--keep-storage", "1.5", "--keep-storage-min", "100", "--free-storage", "0.0000015"},
			want: client.PruneInfo{MaxUsedSpace: 1_500_000, ReservedSpace: 100_000_000, MinFreeSpace: 1},
		},
		{
			name: "duration and all",
			args: []string{"--keep-duration", "90m", "--all"},
			want: client.PruneInfo{KeepDuration: 90 * time.Minute, All: true},
		},
		{
			name: "filters keep commas",
			args: []string{"-f", "type==source.local,type==regular", "--filter", "id==x"},
			want: client.PruneInfo{Filter: []string{"type==source.local,type==regular", "id==x"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, info, err := parsePruneArgs(t, tc.args...)
			require.NoError(t, err)
			require.Equal(t, tc.want, info)
		})
	}
}

func TestPruneFlagErrors(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{
			name:    "storage not a number",
			args:    []string{"--keep-storage", "lots"},
			wantErr: `invalid value "lots" for flag -keep-storage: strconv.ParseFloat: parsing "lots": invalid syntax`,
		},
		{
			name:    "duration without unit",
			args:    []string{"--keep-duration", "10"},
			wantErr: `invalid value "10" for flag -keep-duration: time: missing unit in duration "10"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parsePruneArgs(t, tc.args...)
			require.EqualError(t, err, tc.wantErr)
		})
	}
}

func TestPruneFormatAndVerbose(t *testing.T) {
	opts, _, err := parsePruneArgs(t, "-v", "--format={{json .}}")
	require.NoError(t, err)
	require.True(t, opts.verbose)
	require.Equal(t, "{{json .}}", opts.format)
}
