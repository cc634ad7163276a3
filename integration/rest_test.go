package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/stretchr/testify/require"
)

// Tests of prune-histories and the debug verbs other than workers. Each test
// builds with the reference buildctl first, so that the daemon has build
// records, and then runs the same arguments through both binaries.

// buildWithReference runs one small Dockerfile build through the reference
// buildctl on d and fails the test when it fails. noCache forces new steps.
func buildWithReference(t *testing.T, d *daemon, noCache bool) {
	t.Helper()
	dir := writeContext(t, map[string]string{
		"busybox":    "@busybox",
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo built > /out\"]\n",
	})
	args := []string{"--addr", d.addr, "build", "--frontend", "dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir}
	if noCache {
		args = append(args, "--no-cache")
	}
	res := run(referenceBin, runOptions{Args: args})
	require.Equal(t, 0, res.ExitCode, "reference build failed: %s", res.Stderr)
	waitForTraces(t, d)
}

// waitForTraces waits until every record of d has its trace. The daemon
// attaches the trace shortly after the build ends, with an update event
// that would otherwise show up in one binary's output and not the other's.
func waitForTraces(t *testing.T, d *daemon) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		traces := referenceField(t, d, "{{if .Record.Trace}}yes{{else}}no{{end}}")
		if !slices.Contains(traces, "no") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("build records still without trace after 60s: %v", traces)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// referenceField lists one template field of every build record of d, read
// with the reference buildctl, one entry per record.
func referenceField(t *testing.T, d *daemon, field string) []string {
	t.Helper()
	res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "histories", "--format", field}})
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	return strings.Fields(res.Stdout)
}

// recordRefs returns the refs of the build records of d.
func recordRefs(t *testing.T, d *daemon) []string {
	t.Helper()
	return referenceField(t, d, "{{.Record.Ref}}")
}

var (
	// Build refs are 25 lower-case letters and digits.
	recordRefPattern = regexp.MustCompile(`\b[a-z0-9]{25}\b`)
	// Timestamps as RFC 3339 in any zone.
	recordTimePattern = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)`)
)

// maskRecords replaces refs and timestamps with placeholders of the same
// width, so that tab-aligned tables keep their layout.
func maskRecords(s string) string {
	s = recordRefPattern.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat("R", len(m)) })
	return recordTimePattern.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat("T", len(m)) })
}

// requireSameError fails when stderr differs, for commands whose error
// text scripts read.
func requireSameError(t *testing.T, ours, ref result) {
	t.Helper()
	require.Equal(t, ref.Stderr, ours.Stderr, "stderr differs")
}

func TestRestHelpTexts(t *testing.T) {
	requireDaemon(t)
	for _, args := range [][]string{
		{"prune-histories", "--help"},
		{"debug", "--help"},
		{"debug", "dump-llb", "--help"},
		{"debug", "dump-metadata", "--help"},
		{"debug", "info", "--help"},
		{"debug", "monitor", "--help"},
		{"debug", "logs", "--help"},
		{"debug", "ctl", "--help"},
		{"debug", "get", "--help"},
		{"debug", "histories", "--help"},
		{"completion", "--help"},
		{"completion"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ours := run(oursBin, runOptions{Args: args})
			ref := run(referenceBin, runOptions{Args: args})
			requireSameResult(t, ours, ref)
		})
	}
}

func TestDebugHistoriesSameState(t *testing.T) {
	d := startDaemon(t)
	buildWithReference(t, d, false)
	buildWithReference(t, d, true)
	refs := recordRefs(t, d)
	require.Len(t, refs, 2)
	res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "ctl", "--pin", refs[0]}})
	require.Equal(t, 0, res.ExitCode, res.Stderr)

	for name, args := range map[string][]string{
		"table":          {"debug", "histories"},
		"json alias":     {"debug", "histories", "--format", "json"},
		"json template":  {"debug", "histories", "--format", "{{json .}}"},
		"field template": {"debug", "histories", "--format", "{{.Type}} {{.Record.Ref}} {{.Record.Pinned}}"},
		"bad template":   {"debug", "histories", "--format", "{{.Nope"},
		"unknown field":  {"debug", "histories", "--format", "{{.Nope}}"},
		"extra argument": {"debug", "histories", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			ours, ref := runBoth(t, d, runOptions{Args: args})
			requireSameResult(t, ours, ref)
			requireSameError(t, ours, ref)
		})
	}
}

func TestDebugInfoSameOutput(t *testing.T) {
	requireDaemon(t)
	for name, args := range map[string][]string{
		"table":        {"debug", "info"},
		"json":         {"debug", "info", "--format", "json"},
		"field":        {"debug", "info", "--format", "{{.BuildkitVersion.Version}}"},
		"bad template": {"debug", "info", "--format", "{{"},
	} {
		t.Run(name, func(t *testing.T) {
			ours, ref := runBoth(t, shared, runOptions{Args: args})
			requireSameResult(t, ours, ref)
			requireSameError(t, ours, ref)
		})
	}
}

func TestDebugInfoUnreachable(t *testing.T) {
	requireDaemon(t)
	addr := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	args := []string{"--addr", addr, "debug", "info"}
	ours := run(oursBin, runOptions{Args: args})
	ref := run(referenceBin, runOptions{Args: args})
	requireSameResult(t, ours, ref)
}

func TestPruneHistoriesKeepsPinned(t *testing.T) {
	d := startDaemon(t)
	buildWithReference(t, d, false)
	pinned := recordRefs(t, d)
	require.Len(t, pinned, 1)
	res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "ctl", "--pin", pinned[0]}})
	require.Equal(t, 0, res.ExitCode, res.Stderr)

	// Pruning is destructive, so each binary gets a fresh unpinned record
	// and the outputs are compared with refs and times masked.
	for name, args := range map[string][]string{
		"table":  {"prune-histories"},
		"format": {"prune-histories", "--format", "{{.Type}} {{.Record.Ref}} {{.Record.Pinned}} {{.Record.NumTotalSteps}}"},
		"json":   {"prune-histories", "--format", "json"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := runOptions{Args: append([]string{"--addr", d.addr}, args...)}
			buildWithReference(t, d, true)
			ours := run(oursBin, opts)
			require.Equal(t, pinned, recordRefs(t, d), "ours left other records than the pinned one")

			buildWithReference(t, d, true)
			ref := run(referenceBin, opts)
			require.Equal(t, pinned, recordRefs(t, d), "reference left other records than the pinned one")

			require.Equal(t, ref.ExitCode, ours.ExitCode, ours.Stderr)
			if name == "json" {
				// The records themselves differ by digest and size; compare keys.
				require.Equal(t, jsonKeys(t, ref.Stdout), jsonKeys(t, ours.Stdout))
				return
			}
			require.Equal(t, maskRecords(ref.Stdout), maskRecords(ours.Stdout))
		})
	}

	t.Run("nothing to prune", func(t *testing.T) {
		ours, ref := runBoth(t, d, runOptions{Args: []string{"prune-histories"}})
		requireSameResult(t, ours, ref)
	})
	t.Run("bad template", func(t *testing.T) {
		ours, ref := runBoth(t, d, runOptions{Args: []string{"prune-histories", "--format", "{{"}})
		requireSameResult(t, ours, ref)
		requireSameError(t, ours, ref)
	})
}

// jsonKeys decodes one event per line and returns the sorted keys of the
// record of each.
func jsonKeys(t *testing.T, out string) [][]string {
	t.Helper()
	var keys [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Type   any            `json:"type"`
			Record map[string]any `json:"record"`
		}
		decodeJSON(t, line, &ev)
		var k []string
		for name := range ev.Record {
			k = append(k, name)
		}
		slices.Sort(k)
		keys = append(keys, k)
	}
	return keys
}

func TestDebugCtlSameResult(t *testing.T) {
	d := startDaemon(t)
	buildWithReference(t, d, false)
	ref := recordRefs(t, d)[0]

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no ref", []string{"debug", "ctl", "--pin"}},
		{"no action", []string{"debug", "ctl", ref}},
		{"pin and unpin", []string{"debug", "ctl", "--pin", "--unpin", ref}},
		{"delete and pin", []string{"debug", "ctl", "--delete", "--pin", ref}},
		{"delete and unpin", []string{"debug", "ctl", "--delete", "--unpin", ref}},
		{"unknown ref", []string{"debug", "ctl", "--pin", "nosuchref0000000000000000"}},
		{"pin", []string{"debug", "ctl", "--pin", ref}},
		{"pin again", []string{"debug", "ctl", "--pin", ref}},
		{"unpin", []string{"debug", "ctl", "--unpin", ref}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours, reference := runBoth(t, d, runOptions{Args: tc.args})
			requireSameResult(t, ours, reference)
			requireSameError(t, ours, reference)
		})
	}

	t.Run("pin shows in histories", func(t *testing.T) {
		res := run(oursBin, runOptions{Args: []string{"--addr", d.addr, "debug", "ctl", "--pin", ref}})
		require.Equal(t, 0, res.ExitCode, res.Stderr)
		require.Equal(t, []string{"true"}, referenceField(t, d, "{{.Record.Pinned}}"))
	})

	t.Run("delete", func(t *testing.T) {
		buildWithReference(t, d, true)
		refs := recordRefs(t, d)
		require.Len(t, refs, 2)
		ours := run(oursBin, runOptions{Args: []string{"--addr", d.addr, "debug", "ctl", "--delete", refs[0]}})
		reference := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "ctl", "--delete", refs[1]}})
		requireSameResult(t, ours, reference)
		require.Empty(t, recordRefs(t, d))
	})
}

// traceDigest returns the digest of the trace blob of record ref.
func traceDigest(t *testing.T, d *daemon, ref string) string {
	t.Helper()
	res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "histories",
		"--format", "{{if eq .Record.Ref \"" + ref + "\"}}{{.Record.Trace.Digest}}{{end}}"}})
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	dgst := strings.TrimSpace(res.Stdout)
	require.NotEmpty(t, dgst, "record %s has no trace", ref)
	return dgst
}

func TestDebugLogsSameOutput(t *testing.T) {
	d := startDaemon(t)
	buildWithReference(t, d, false)
	ref := recordRefs(t, d)[0]

	for name, args := range map[string][]string{
		"no ref":          {"debug", "logs"},
		"auto":            {"debug", "logs", ref},
		"plain":           {"debug", "logs", "--progress", "plain", ref},
		"rawjson":         {"debug", "logs", "--progress", "rawjson", ref},
		"quiet":           {"debug", "logs", "--progress", "quiet", ref},
		"bad mode":        {"debug", "logs", "--progress", "fancy", ref},
		"trace":           {"debug", "logs", "--trace", ref},
		"plain env":       {"debug", "logs", ref},
		"trace and plain": {"debug", "logs", "--trace", "--progress", "plain", ref},
	} {
		t.Run(name, func(t *testing.T) {
			opts := runOptions{Args: args}
			if name == "plain env" {
				opts.Env = []string{"BUILDKIT_PROGRESS=plain"}
			}
			ours, reference := runBoth(t, d, opts)
			requireSameResult(t, ours, reference)
			if name == "no ref" || name == "bad mode" {
				requireSameError(t, ours, reference)
			}
		})
	}
}

func TestDebugGetSameOutput(t *testing.T) {
	d := startDaemon(t)
	buildWithReference(t, d, false)
	dgst := traceDigest(t, d, recordRefs(t, d)[0])

	for name, args := range map[string][]string{
		"no digest":      {"debug", "get"},
		"invalid digest": {"debug", "get", "not-a-digest"},
		"unknown digest": {"debug", "get", "sha256:" + strings.Repeat("0", 64)},
		"trace blob":     {"debug", "get", dgst},
	} {
		t.Run(name, func(t *testing.T) {
			ours, ref := runBoth(t, d, runOptions{Args: args})
			requireSameResult(t, ours, ref)
			requireSameError(t, ours, ref)
		})
	}
}

// protoSpaces matches the runs of spaces that the protobuf text format
// varies on purpose from one binary to another.
var protoSpaces = regexp.MustCompile(` +`)

func TestDebugMonitorSameEvents(t *testing.T) {
	d := startDaemon(t)
	buildWithReference(t, d, false)
	ref := recordRefs(t, d)[0]

	// monitor follows the daemon until it is stopped, so each run is stopped
	// once its output has settled, and only what it printed until then is
	// compared. A fixed short timeout would cut off a binary that starts
	// slowly on a loaded machine. With no active build, "active only" prints
	// nothing, so it ends after a few quiet seconds.
	for _, tc := range []struct {
		name   string
		args   []string
		events bool
	}{
		{"completed ref", []string{"debug", "monitor", "--completed", "--ref", ref}, true},
		{"completed", []string{"debug", "monitor", "--completed"}, true},
		{"active only", []string{"debug", "monitor"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := 3 * time.Second
			if tc.events {
				limit = 60 * time.Second
			}
			args := append([]string{"--addr", d.addr}, tc.args...)
			ours := runMonitor(t, oursBin, args, limit)
			reference := runMonitor(t, referenceBin, args, limit)
			require.Equal(t, reference.ExitCode, ours.ExitCode)
			require.Equal(t, tc.events, reference.Stdout != "", "reference output: %q", reference.Stdout)
			require.Equal(t, protoSpaces.ReplaceAllString(reference.Stdout, " "), protoSpaces.ReplaceAllString(ours.Stdout, " "))
		})
	}
}

// runMonitor runs bin with args, a command that prints events until it is
// stopped. It stops the command once it has printed whole lines and then
// stayed quiet for two seconds, or when limit passes, whichever comes first.
// A stopped command gets exit code -1, as run gives on its timeout.
func runMonitor(t *testing.T, bin string, args []string, limit time.Duration) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr lockedBuffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	const quiet = 2 * time.Second
	deadline := time.Now().Add(limit)
	last, lastChange := "", time.Now()
	for {
		select {
		case err := <-done:
			res := result{Stdout: stdout.String(), Stderr: stderr.String()}
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				res.ExitCode = exitErr.ExitCode()
			}
			return res
		case <-time.After(100 * time.Millisecond):
		}
		out := stdout.String()
		if out != last {
			last, lastChange = out, time.Now()
		}
		settled := out != "" && strings.HasSuffix(out, "\n") && time.Since(lastChange) >= quiet
		if settled || time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: -1}
		}
	}
}

// writeLLB marshals a definition with source, exec, file, merge and diff
// operations, every kind that dump-llb labels except build, and returns the
// file it wrote.
func writeLLB(t *testing.T) string {
	t.Helper()
	base := llb.Image("docker.io/library/busybox:latest")
	exec := base.Run(llb.Args([]string{"/bin/sh", "-c", "echo hi > /out/x"}), llb.WithCustomName("write x"))
	out := exec.AddMount("/out", llb.Scratch())
	files := llb.Scratch().File(
		llb.Mkdir("/a", 0o755).
			Mkfile("/a/b", 0o644, []byte("x")).
			Symlink("/a/b", "/a/c").
			Rm("/a/c").
			Copy(out, "/x", "/a/x"),
	)
	merged := llb.Merge([]llb.State{base, files})
	diffed := llb.Diff(base, merged)

	def, err := diffed.Marshal(context.Background())
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, llb.WriteTo(def, &buf))
	path := filepath.Join(t.TempDir(), "def.llb")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

func TestDebugDumpLLBSameOutput(t *testing.T) {
	requireDaemon(t)
	path := writeLLB(t)
	garbage := filepath.Join(t.TempDir(), "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not llb"), 0o644))

	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{"json from file", []string{"debug", "dump-llb", path}, ""},
		{"dot from file", []string{"debug", "dump-llb", "--dot", path}, ""},
		{"json from stdin", []string{"debug", "dump-llb"}, path},
		{"dot from dash", []string{"debug", "dump-llb", "--dot", "-"}, path},
		{"missing file", []string{"debug", "dump-llb", filepath.Join(t.TempDir(), "none")}, ""},
		{"not llb", []string{"debug", "dump-llb", garbage}, ""},
		{"empty stdin", []string{"debug", "dump-llb"}, os.DevNull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No --addr: dump-llb needs no daemon.
			runWithInput := func(bin string) result {
				opts := runOptions{Args: tc.args}
				if tc.stdin != "" {
					f, err := os.Open(tc.stdin)
					require.NoError(t, err)
					defer f.Close()
					opts.Stdin = f
				}
				return run(bin, opts)
			}
			ours, ref := runWithInput(oursBin), runWithInput(referenceBin)
			requireSameResult(t, ours, ref)
			requireSameError(t, ours, ref)
		})
	}
}

func TestDebugDumpMetadataSameOutput(t *testing.T) {
	requireDaemon(t)
	dir, err := os.MkdirTemp("", "bkd-meta-")
	require.NoError(t, err)
	d, err := launchDaemon(dir)
	require.NoError(t, err)
	buildWithReference(t, d, false)
	root := filepath.Join(dir, "root")

	// While buildkitd runs it holds the database lock, and both binaries
	// give up after their lock timeout.
	t.Run("daemon running", func(t *testing.T) {
		args := []string{"debug", "dump-metadata", "--root", root}
		ours := run(oursBin, runOptions{Args: args})
		ref := run(referenceBin, runOptions{Args: args})
		requireSameResult(t, ours, ref)
		requireSameError(t, ours, ref)
	})

	// Keep a copy of the state: stop removes the daemon's folder.
	saved := filepath.Join(t.TempDir(), "root")
	copyMetadata(t, root, saved)
	require.NoError(t, d.stop())

	for name, args := range map[string][]string{
		"stopped daemon": {"debug", "dump-metadata", "--root", saved},
		"missing root":   {"debug", "dump-metadata", "--root", filepath.Join(saved, "none")},
		"empty root":     {"debug", "dump-metadata", "--root", t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			ours := run(oursBin, runOptions{Args: args})
			ref := run(referenceBin, runOptions{Args: args})
			requireSameResult(t, ours, ref)
			requireSameError(t, ours, ref)
		})
	}
}

// copyMetadata copies <src>/<worker>/metadata_v2.db into dst, keeping the
// worker folder names. The daemon is idle after the build, so the copies
// are consistent.
func copyMetadata(t *testing.T, src, dst string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(src, "*", "metadata_v2.db"))
	require.NoError(t, err)
	require.NotEmpty(t, matches, "no metadata database under %s", src)
	for _, m := range matches {
		data, err := os.ReadFile(m)
		require.NoError(t, err)
		target := filepath.Join(dst, filepath.Base(filepath.Dir(m)), "metadata_v2.db")
		require.NoError(t, os.MkdirAll(filepath.Dir(target), 0o755))
		require.NoError(t, os.WriteFile(target, data, 0o600))
	}
}

func TestCompletionFlagMatchesReference(t *testing.T) {
	requireDaemon(t)
	for _, args := range [][]string{
		{},
		{"debug"},
		{"build"},
		{"build", "-"},
		{"build", "--"},
		{"build", "--progress"},
		{"build", "--output", "type="},
		{"prune-histories", "--"},
		{"debug", "dump-llb"},
		{"debug", "logs", "--"},
	} {
		args = append(args, "--generate-shell-completion")
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ours := run(oursBin, runOptions{Args: args})
			ref := run(referenceBin, runOptions{Args: args})
			requireSameResult(t, ours, ref)
		})
	}
	t.Run("pwsh script", func(t *testing.T) {
		ours := run(oursBin, runOptions{Args: []string{"completion", "pwsh"}})
		ref := run(referenceBin, runOptions{Args: []string{"completion", "pwsh"}})
		requireSameResult(t, ours, ref)
	})
}

// The value completion is behaviour of ours alone: the reference rejects
// the hidden command that the scripts call.
func TestCompletionValuesOursOnly(t *testing.T) {
	requireDaemon(t)
	args := []string{"__complete", "build", "--progress", ""}
	ref := run(referenceBin, runOptions{Args: args})
	require.NotEqual(t, 0, ref.ExitCode, "the reference accepts %v", args)

	ours := run(oursBin, runOptions{Args: args})
	require.Equal(t, 0, ours.ExitCode, ours.Stderr)
	require.Equal(t, "auto\nplain\ntty\nrawjson\nquiet\n", ours.Stdout)

	for _, shell := range []string{"bash", "zsh", "fish"} {
		res := run(oursBin, runOptions{Args: []string{"completion", shell}})
		require.Equal(t, 0, res.ExitCode, res.Stderr)
		require.Contains(t, res.Stdout, "buildctl __complete", shell)
	}
}
