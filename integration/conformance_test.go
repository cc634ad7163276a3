package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// conformanceCaseTimeout bounds one case. With the reference binary, each
// case took under 2 seconds on a 2-core machine, so the margin is wide.
const conformanceCaseTimeout = 120 * time.Second

// TestConformance runs every case of the conformance corpus, a folder of
// shell scripts whose expected output was recorded with BuildKit's buildctl.
// The corpus lives beside the repository, in ../shared/conformance.
//
// Each case runs twice, on two private daemons because du and prune cases
// run "prune --all": first with the reference binary (subtests
// "reference/CASE"), then with ours (subtests "CASE"). A reference failure
// points to the test machine, not to our binary.
func TestConformance(t *testing.T) {
	requireDaemon(t)
	corpus := conformanceCorpus(t)
	cases := conformanceCases(t, corpus)
	if isOldDaemon(t) {
		oldDaemonConformance(t, corpus, cases)
		return
	}

	t.Run("reference", func(t *testing.T) {
		d := startDaemon(t)
		for _, name := range cases {
			t.Run(name, func(t *testing.T) {
				runConformanceCase(t, corpus, "reference", referenceBin, d, name)
			})
		}
	})

	d := startDaemon(t)
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			runConformanceCase(t, corpus, "our buildctl", oursBin, d, name)
		})
	}
}

// conformanceCorpus returns the absolute path of the corpus. A missing
// corpus skips the test, except under CI=true, where it fails.
func conformanceCorpus(t *testing.T) string {
	t.Helper()
	// "go test" runs in the package folder, one level below the repository.
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "conformance"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil {
		msg := "conformance corpus not found: " + dir + "/run.sh is missing; " +
			"it must be in ../shared/conformance beside the repository"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// conformanceCases lists the case folders (those with a case.sh) by name.
func conformanceCases(t *testing.T, corpus string) []string {
	t.Helper()
	entries, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(corpus, e.Name(), "case.sh")); err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no case folders with a case.sh in %s", corpus)
	}
	sort.Strings(names)
	return names
}

// runConformanceCase runs one case through the corpus runner with bin
// against d. On failure it reports, under label, the diff between the
// expected output and what the case printed, then the case's stderr.
func runConformanceCase(t *testing.T, corpus, label, bin string, d *daemon, name string) {
	t.Helper()
	results := t.TempDir()
	res := runCorpusCase(corpus, bin, d, name, results)
	if res.ExitCode == 0 {
		return
	}

	var report strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		// The results folder is a t.TempDir, removed when the test ends.
		if !strings.HasPrefix(line, "results kept in ") {
			report.WriteString(line + "\n")
		}
	}
	if res.Stderr != "" {
		report.WriteString("runner stderr:\n" + res.Stderr + "\n")
	}
	expected := filepath.Join(corpus, name, "expected.txt")
	actual := filepath.Join(results, name+".out")
	// diff exits 1 when the files differ; its output is what matters.
	diff, _ := exec.Command("diff", "-u", "--label", "expected", "--label", "actual", expected, actual).CombinedOutput()
	report.WriteString(string(diff))
	if stderr, err := os.ReadFile(filepath.Join(results, name+".err")); err == nil && len(stderr) > 0 {
		report.WriteString("case stderr:\n" + lastLines(string(stderr), 40))
	}
	t.Errorf("case %s failed with %s (%s):\n%s", name, label, bin, report.String())
}

// runCorpusCase runs case name of the corpus through its runner script with
// bin against d, and keeps the case's output and stderr in results.
func runCorpusCase(corpus, bin string, d *daemon, name, results string) result {
	return run("bash", runOptions{
		Args: []string{filepath.Join(corpus, "run.sh"), bin, d.addr, name},
		Env: []string{
			"RESULTS_DIR=" + results,
			"SHOW_DIFF=0",
			"CASE_TIMEOUT=" + strconv.Itoa(int(conformanceCaseTimeout.Seconds())),
		},
		Timeout: conformanceCaseTimeout + time.Minute,
	})
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"[...]\n"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "") + "\n"
}
