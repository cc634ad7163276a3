package progress

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
)

func TestResolveMode(t *testing.T) {
	cases := []struct {
		name string
		flag string
		env  string
		want progressui.DisplayMode
	}{
		{name: "auto without env", flag: "auto", want: progressui.AutoMode},
		{name: "env replaces auto", flag: "auto", env: "rawjson", want: progressui.RawJSONMode},
		{name: "env keeps explicit plain", flag: "plain", env: "rawjson", want: progressui.PlainMode},
		{name: "env keeps explicit empty", flag: "", env: "rawjson", want: progressui.DefaultMode},
		{name: "invalid env passed on", flag: "auto", env: "bogus", want: "bogus"},
		{name: "case kept", flag: "QUIET", want: "QUIET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ResolveMode(tc.flag, tc.env))
		})
	}
}

func TestNewDisplayErrors(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "err"))
	require.NoError(t, err)
	defer f.Close()

	cases := []struct {
		name    string
		mode    progressui.DisplayMode
		wantErr string
	}{
		{name: "tty on a file", mode: progressui.TtyMode, wantErr: "failed to get console: provided file is not a console"},
		{name: "unknown mode", mode: "bogus", wantErr: "invalid progress mode bogus"},
		{name: "modes are case sensitive", mode: "Plain", wantErr: "invalid progress mode Plain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDisplay(f, tc.mode)
			require.EqualError(t, err, tc.wantErr)
		})
	}
}

func sampleStatuses() []*client.SolveStatus {
	now := time.Unix(1700000000, 0).UTC()
	later := now.Add(time.Second)
	return []*client.SolveStatus{
		{Vertexes: []*client.Vertex{
			{Digest: digest.FromString("a"), Name: "[internal] load build definition from Dockerfile", Started: &now},
			{Digest: digest.FromString("b"), Name: "[1/2] COPY a /a", Started: &now},
			{Digest: digest.FromString("c"), Name: "[stage-0 1/1] FROM docker.io/library/alpine", Started: &now},
		}},
		{Vertexes: []*client.Vertex{
			{Digest: digest.FromString("a"), Name: "[internal] load build definition from Dockerfile", Started: &now, Completed: &later},
			{Digest: digest.FromString("b"), Name: "[1/2] COPY a /a", Started: &now, Completed: &later},
			{Digest: digest.FromString("d"), Name: "[2/2] RUN true", Cached: true, Completed: &later},
		}},
	}
}

func TestTeeJSONWritesEachStatus(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "err"))
	require.NoError(t, err)
	defer f.Close()
	d, err := NewDisplay(f, progressui.QuietMode)
	require.NoError(t, err)

	var trace bytes.Buffer
	w, wait := TeeJSON(d, &trace)
	for _, s := range sampleStatuses() {
		w.Status() <- s
	}
	close(w.Status())
	require.NoError(t, wait())
	<-d.Done()
	require.NoError(t, d.Err())

	lines := strings.Split(strings.TrimSuffix(trace.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	var first client.SolveStatus
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.Len(t, first.Vertexes, 3)
}

func TestCacheMetricsGolden(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "err"))
	require.NoError(t, err)
	defer f.Close()
	d, err := NewDisplay(f, progressui.QuietMode)
	require.NoError(t, err)

	w, metrics := TeeCacheMetrics(d)
	for _, s := range sampleStatuses() {
		w.Status() <- s
	}
	close(w.Status())

	var out bytes.Buffer
	// A start in the future gives a fixed duration of zero or less; the
	// golden file holds the rest of the report.
	require.NoError(t, metrics.Write(&out, time.Now().Add(time.Hour)))
	got := out.String()
	idx := strings.Index(got, `"client_duration_ms":`)
	require.Positive(t, idx)
	got = got[:idx] + `"client_duration_ms":0}` + "\n"

	want, err := os.ReadFile(filepath.Join("testdata", "cachemetrics.golden"))
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}
