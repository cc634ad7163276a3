package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The suite also runs against an older buildkitd ("make integration-old").
// The reference buildctl stays the version pinned in go.mod either way, so
// every differential test still compares ours with it on the same daemon.
// Tests that need a daemon feature the older version lacks call
// requireDaemonVersion and skip with the reason.

// daemonVersion returns the version the shared daemon reports in its worker
// list, e.g. "v0.17.3". Builds without version information report
// "v0.0.0+unknown"; isOldDaemon treats them as the pinned version, because
// "make reference" builds the daemon of the pinned version that way.
var daemonVersion = sync.OnceValues(func() (string, error) {
	res := run(referenceBin, runOptions{Args: []string{
		"--addr", shared.addr, "debug", "workers", "--format", "{{range .}}{{.BuildkitVersion.Version}}\n{{end}}",
	}})
	if res.ExitCode != 0 {
		return "", fmt.Errorf("read the daemon version: exit code %d: %s", res.ExitCode, res.Stderr)
	}
	version, _, _ := strings.Cut(strings.TrimSpace(res.Stdout), "\n")
	if version == "" {
		return "", fmt.Errorf("read the daemon version: no worker reported a BuildKit version")
	}
	return version, nil
})

// pinnedVersion returns the BuildKit version required by go.mod, which is the
// version of the reference buildctl.
var pinnedVersion = sync.OnceValues(func() (string, error) {
	return moduleVersion(buildkitModule)
})

// isOldDaemon reports whether the shared daemon is older than the pinned
// BuildKit version.
func isOldDaemon(t *testing.T) bool {
	t.Helper()
	daemon, err := daemonVersion()
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := pinnedVersion()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(daemon, "v0.0.0") {
		return false
	}
	return compareVersions(daemon, pinned) < 0
}

// requireDaemonVersion skips the test when the shared daemon is older than
// minimum, naming the feature that the older daemon lacks.
func requireDaemonVersion(t *testing.T, minimum, feature string) {
	t.Helper()
	requireDaemon(t)
	daemon, err := daemonVersion()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(daemon, "v0.0.0") && compareVersions(daemon, minimum) < 0 {
		t.Skipf("buildkitd %s lacks %s, added in %s", daemon, feature, minimum)
	}
}

// compareVersions compares two "vMAJOR.MINOR.PATCH" versions like
// strings.Compare; pre-release and build suffixes are ignored.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) [3]int {
	var parts [3]int
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	for i, s := range strings.SplitN(v, ".", 3) {
		parts[i], _ = strconv.Atoi(s)
	}
	return parts
}

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		name string
		a, b string
		want int
	}{
		{name: "older minor", a: "v0.17.3", b: "v0.34.2", want: -1},
		{name: "equal", a: "v0.34.2", b: "v0.34.2", want: 0},
		{name: "newer patch", a: "v0.34.3", b: "v0.34.2", want: 1},
		{name: "suffix ignored", a: "v0.17.3-rc1", b: "v0.17.3", want: 0},
		{name: "numeric not lexical", a: "v0.9.0", b: "v0.10.0", want: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := compareVersions(c.a, c.b); got != c.want {
				t.Errorf("compareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
			}
		})
	}
}

// oldDaemonConformance runs the conformance corpus against an older daemon.
// Its expected outputs were recorded against the pinned version, and some
// daemon-side texts changed since (media types, error prefixes, worker
// fields). So the reference's output on this daemon is the expectation. Each
// case runs with the reference, then with ours, and ours must print the
// same bytes. A case whose script fails with the reference fails the test.
func oldDaemonConformance(t *testing.T, corpus string, cases []string) {
	refResults := t.TempDir()
	refDaemon := startDaemon(t)
	t.Run("reference", func(t *testing.T) {
		for _, name := range cases {
			t.Run(name, func(t *testing.T) {
				runCaseScript(t, corpus, referenceBin, refDaemon, name, refResults)
			})
		}
	})

	oursResults := t.TempDir()
	d := startDaemon(t)
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			runCaseScript(t, corpus, oursBin, d, name, oursResults)
			want, err := os.ReadFile(filepath.Join(refResults, name+".out"))
			if err != nil {
				t.Fatalf("no reference output for this case: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(oursResults, name+".out"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				diff, _ := exec.Command("diff", "-u", "--label", "reference", "--label", "ours",
					filepath.Join(refResults, name+".out"), filepath.Join(oursResults, name+".out")).CombinedOutput()
				t.Errorf("case %s: ours differs from the reference on this daemon:\n%s", name, diff)
			}
		})
	}
}

// runCaseScript runs one case through the corpus runner with bin against d,
// keeping its output in results. A difference from the recorded expectation
// is logged; a case script that exits non-zero or times out fails the test.
func runCaseScript(t *testing.T, corpus, bin string, d *daemon, name, results string) {
	t.Helper()
	res := runCorpusCase(corpus, bin, d, name, results)
	if res.ExitCode == 0 {
		return
	}
	if strings.Contains(res.Stdout, "(missing case.sh") || strings.Contains(res.Stdout, "timed out after") ||
		strings.Contains(res.Stdout, "case.sh exited") {
		t.Fatalf("case %s with %s:\n%s\n%s", name, bin, res.Stdout, res.Stderr)
	}
	t.Logf("case %s with %s differs from the output recorded against the pinned daemon", name, bin)
}
