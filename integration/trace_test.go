package integration

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// traceSpan holds the fields of one span in a build record's trace blob,
// which buildkitd writes as a stream of JSON-encoded OpenTelemetry span stubs.
type traceSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ SpanID string }
	Resource    []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s traceSpan) serviceName() string {
	for _, attr := range s.Resource {
		if attr.Key == "service.name" {
			name, _ := attr.Value.Value.(string)
			return name
		}
	}
	return ""
}

// TestBuildTraceOnDaemon checks that the spans buildctl forwards to the
// daemon, its command span among them, end up in the build record's trace.
// buildkitd v0.34.2 adds to the record the spans of the build's trace that
// reach it until three seconds after the build ends (recordBuildHistory in
// solver/llbsolver/history.go). buildctl sends its buffered spans when it
// exits, so they arrive only if its connection is still open then.
func TestBuildTraceOnDaemon(t *testing.T) {
	requireDaemon(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY Dockerfile /\n"})
	const parentSpanID = "b7ad6b7169203331"

	clientSpans := map[string][]string{}
	for label, bin := range map[string]string{"ours": oursBin, "reference": referenceBin} {
		traceID := randomValue(t, "")
		refFile := filepath.Join(t.TempDir(), "ref")
		res := run(bin, runOptions{
			Args: sharedArgs(dockerfileArgs(dir, "--progress=quiet", "--ref-file", refFile,
				"--output", "type=tar,dest=/dev/null")),
			Env: []string{"TRACEPARENT=00-" + traceID + "-" + parentSpanID + "-01"},
		})
		require.Equal(t, 0, res.ExitCode, "%s build: %s", label, res.Stderr)
		ref, err := os.ReadFile(refFile)
		require.NoError(t, err)

		spans := recordTraceSpans(t, shared, strings.TrimSpace(string(ref)))
		service := filepath.Base(bin)
		var names []string
		var commandSpans []traceSpan
		for _, s := range spans {
			if s.serviceName() != service {
				continue
			}
			names = append(names, s.Name)
			if s.Name == "build" {
				commandSpans = append(commandSpans, s)
			}
		}
		require.Len(t, commandSpans, 1, "%s: command span in the daemon's trace; client spans: %v", label, names)
		require.Equal(t, traceID, commandSpans[0].SpanContext.TraceID, label)
		require.Equal(t, parentSpanID, commandSpans[0].Parent.SpanID, label)
		slices.Sort(names)
		clientSpans[label] = names
	}
	require.Equal(t, clientSpans["reference"], clientSpans["ours"], "span names sent by the client")
}

// recordTraceSpans waits until build record ref of d has its trace, which
// buildkitd attaches a few seconds after the build ends, and returns the
// spans of the trace, read with the reference buildctl.
func recordTraceSpans(t *testing.T, d *daemon, ref string) []traceSpan {
	t.Helper()
	format := `{{if eq .Record.Ref "` + ref + `"}}{{with .Record.Trace}}{{.Digest}}{{end}}{{end}}`
	deadline := time.Now().Add(60 * time.Second)
	var dgst string
	for dgst == "" {
		res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "histories", "--format", format}})
		require.Equal(t, 0, res.ExitCode, res.Stderr)
		dgst = strings.TrimSpace(res.Stdout)
		if dgst == "" {
			require.False(t, time.Now().After(deadline), "build record %s still without trace after 60s", ref)
			time.Sleep(200 * time.Millisecond)
		}
	}

	res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "get", dgst}})
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	var spans []traceSpan
	dec := json.NewDecoder(strings.NewReader(res.Stdout))
	for {
		var s traceSpan
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			return spans
		}
		require.NoError(t, err)
		spans = append(spans, s)
	}
}
