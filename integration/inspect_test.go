package integration

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDebugWorkersSameAsReference(t *testing.T) {
	requireDaemon(t)
	cases := []struct {
		name string
		args []string
	}{
		{name: "table", args: nil},
		{name: "verbose", args: []string{"-v"}},
		{name: "verbose long flag", args: []string{"--verbose"}},
		{name: "json template", args: []string{"--format", "{{json .}}"}},
		{name: "json alias", args: []string{"--format", "json"}},
		{name: "format with equals", args: []string{"--format={{json .}}"}},
		{name: "custom template", args: []string{"--format", `{{range .}}{{.ID}} {{index .Labels "org.mobyproject.buildkit.worker.executor"}} {{len .Platforms}}{{"\n"}}{{end}}`}},
		{name: "verbose ignored with format", args: []string{"-v", "--format", "{{len .}}"}},
		{name: "text without actions", args: []string{"--format", "hello"}},
		{name: "filter matches nothing", args: []string{"--filter", "id==no-such-worker", "--format", "{{json .}}"}},
		{name: "filter matches nothing table", args: []string{"-f", "id==no-such-worker"}},
		{name: "filter by label", args: []string{"--filter", "labels.\"org.mobyproject.buildkit.worker.executor\"==oci"}},
		{name: "bad template", args: []string{"--format", "{{json .}"}},
		{name: "unknown template function", args: []string{"--format", "{{yaml .}}"}},
		{name: "template execution error", args: []string{"--format", "{{index . 5}}"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ours, ref := runBoth(t, shared, runOptions{Args: append([]string{"debug", "workers"}, tc.args...)})
			requireSameResult(t, ours, ref)
			if ref.ExitCode != 0 {
				require.Equal(t, ref.Stderr, ours.Stderr)
			}
		})
	}
}

func TestDiskUsageSameAsReference(t *testing.T) {
	d := startDaemon(t)
	views := []struct {
		name string
		args []string
	}{
		{name: "table", args: nil},
		{name: "verbose", args: []string{"-v"}},
		{name: "json", args: []string{"--format", "{{json .}}"}},
		{name: "json alias", args: []string{"--format", "json"}},
		{name: "verbose ignored with format", args: []string{"--verbose", "--format", "{{len .}}"}},
		{name: "custom template", args: []string{"--format", `{{range .}}{{.ID}} {{.Size}} {{.RecordType}}{{"\n"}}{{end}}`}},
		{name: "filter local sources", args: []string{"--filter", "type==source.local"}},
		{name: "filter short flag verbose", args: []string{"-f", "type==regular", "-v"}},
		{name: "two filters", args: []string{"--filter", "type==source.local", "--filter", "description~=context"}},
		{name: "filter json", args: []string{"--filter", "type==regular", "--format", "{{json .}}"}},
		{name: "bad template", args: []string{"--format", "{{json ."}},
	}
	compare := func(t *testing.T) {
		for _, v := range views {
			t.Run(v.name, func(t *testing.T) {
				ours, ref := runBoth(t, d, runOptions{Args: append([]string{"du"}, v.args...)})
				requireSameResult(t, ours, ref)
				if ref.ExitCode != 0 {
					require.Equal(t, ref.Stderr, ours.Stderr)
				}
			})
		}
	}

	t.Run("empty cache", compare)
	fillCache(t, d, cacheProbeContext(t))
	count := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "du", "--format", "{{len .}}"}})
	require.NotEqual(t, "0\n", count.Stdout, "the build left no cache records to compare")
	t.Run("after build", compare)
}

var (
	// cacheIDPattern matches BuildKit cache record IDs.
	cacheIDPattern = regexp.MustCompile(`\b[a-z0-9]{25}\b`)
	// timePattern matches times as Go prints them and as JSON encodes them.
	timePattern = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?( \+0000 UTC|Z)`)
)

// maskDaemonValues replaces the values that differ between two daemons
// running the same builds: record IDs and times. Sizes stay, because both
// daemons store the same bytes.
func maskDaemonValues(s string) string {
	s = cacheIDPattern.ReplaceAllString(s, "<ID>")
	return timePattern.ReplaceAllString(s, "<TIME>")
}

// sortedRecords splits masked prune output into records (lines, or blank-line
// separated blocks with -v) and sorts them, because the daemon streams
// deleted records in no fixed order.
func sortedRecords(s string, sep string) []string {
	records := strings.Split(maskDaemonValues(s), sep)
	sort.Strings(records)
	return records
}

// TestPruneSameAsReference prunes two daemons that hold the same cache, ours
// on one and the reference on the other, step by step from narrow to wide.
func TestPruneSameAsReference(t *testing.T) {
	twins := startTwinDaemons(t)

	steps := []struct {
		name string
		args []string
		// sep splits the output into records.
		sep string
		// refill rebuilds the cache on both daemons before the step.
		refill bool
		// pruned is set when the step must delete records.
		pruned bool
	}{
		{name: "keep duration keeps all", args: []string{"--keep-duration", "1h", "--all"}, sep: "\n"},
		{name: "keep storage keeps all", args: []string{"--keep-storage", "1000", "--all"}, sep: "\n"},
		{name: "keep storage min and free storage", args: []string{"--keep-storage-min", "1000.5", "--free-storage", "0.001", "--keep-storage", "2000"}, sep: "\n"},
		{name: "filter matches nothing json", args: []string{"--filter", "type==exec.cachemount", "--format", "{{json .}}"}, sep: "\n"},
		{name: "filter local sources verbose", args: []string{"--filter", "type==source.local", "-v"}, sep: "\n\n", pruned: true},
		{name: "default table", args: nil, sep: "\n", pruned: true},
		{name: "nothing left table", args: []string{"--all"}, sep: "\n"},
		{name: "all as json", args: []string{"--format={{json .}}", "--all"}, sep: "\n", refill: true, pruned: true},
		{name: "nothing left json", args: []string{"--all", "--format", "json"}, sep: "\n"},
		{name: "all verbose", args: []string{"--all", "--verbose"}, sep: "\n\n", refill: true, pruned: true},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.refill {
				twins.fill(t)
			}
			args := append([]string{"prune"}, step.args...)
			ours := run(oursBin, runOptions{Args: append([]string{"--addr", twins.ours.addr}, args...)})
			ref := run(referenceBin, runOptions{Args: append([]string{"--addr", twins.ref.addr}, args...)})
			require.Equal(t, ref.ExitCode, ours.ExitCode, "ours stderr: %s\nreference stderr: %s", ours.Stderr, ref.Stderr)
			require.Equal(t, step.pruned, cacheIDPattern.MatchString(ref.Stdout), "reference output:\n%s", ref.Stdout)
			require.Equal(t, sortedRecords(ref.Stdout, step.sep), sortedRecords(ours.Stdout, step.sep))
		})
	}

	t.Run("du after prune", func(t *testing.T) {
		ours := run(oursBin, runOptions{Args: []string{"--addr", twins.ours.addr, "du"}})
		ref := run(referenceBin, runOptions{Args: []string{"--addr", twins.ref.addr, "du"}})
		require.Equal(t, ref.ExitCode, ours.ExitCode)
		require.Equal(t, maskDaemonValues(ref.Stdout), maskDaemonValues(ours.Stdout))
	})
}

// TestInspectErrorsSameAsReference checks exit codes, stdout and the error
// text of failures that scripts match on.
func TestInspectErrorsSameAsReference(t *testing.T) {
	requireDaemon(t)
	missing := "unix://" + t.TempDir() + "/missing.sock"
	cases := []struct {
		name string
		args []string
		// unreachable marks a daemon that cannot be reached. Only the
		// "error:" line must match, because ours may add hint lines where
		// the reference fails anyway.
		unreachable bool
	}{
		{name: "du unknown flag", args: []string{"du", "--bogus"}},
		{name: "prune bad duration", args: []string{"prune", "--keep-duration", "notaduration"}},
		{name: "prune bad storage", args: []string{"prune", "--keep-storage", "lots"}},
		{name: "prune bad storage min", args: []string{"prune", "--keep-storage-min", "1x"}},
		{name: "prune bad free storage", args: []string{"prune", "--free-storage", "-"}},
		{name: "prune missing format value", args: []string{"prune", "--format"}},
		{name: "prune bad template", args: []string{"prune", "--format={{json", ".}}", "--all"}},
		{name: "workers bad verbose value", args: []string{"debug", "workers", "--verbose=maybe"}},
		{name: "workers missing daemon", args: []string{"--addr", missing, "debug", "workers"}, unreachable: true},
		{name: "workers missing daemon json", args: []string{"--addr", missing, "debug", "workers", "--format", "{{json .}}"}, unreachable: true},
		{name: "du missing daemon", args: []string{"--addr", missing, "du"}, unreachable: true},
		{name: "du missing daemon bad template", args: []string{"--addr", missing, "du", "--format", "{{"}, unreachable: true},
		{name: "prune missing daemon", args: []string{"--addr", missing, "prune"}, unreachable: true},
		{name: "prune missing daemon json", args: []string{"--addr", missing, "prune", "--all", "--format", "{{json .}}"}, unreachable: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := runOptions{Args: sharedArgs(tc.args)}
			ours, ref := run(oursBin, opts), run(referenceBin, opts)
			require.NotZero(t, ref.ExitCode, "the reference accepted the invocation: %s", ref.Stdout)
			requireSameResult(t, ours, ref)
			if tc.unreachable {
				require.Equal(t, firstOutputLine([]byte(ref.Stderr)), firstOutputLine([]byte(ours.Stderr)))
				return
			}
			require.Equal(t, ref.Stderr, ours.Stderr)
		})
	}
}
