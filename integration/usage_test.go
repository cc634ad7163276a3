package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUsageErrors compares how ours and the reference reject command lines:
// exit code (1 for a bad flag, 3 for an unknown command), the first line of
// stdout (the usage text) and stderr. Every invocation fails before dialing
// the daemon.
func TestUsageErrors(t *testing.T) {
	requireDaemon(t)

	tests := []struct {
		name string
		args []string
	}{
		// The invocations of the conformance case "usage-errors".
		{"build unknown flag", []string{"build", "--bogus"}},
		{"build global flag after command", []string{"build", "--tlsca", "/x"}},
		{"global unknown flag", []string{"--bogus", "debug", "workers"}},
		{"unknown command", []string{"frobnicate"}},
		{"workers bool flag value", []string{"debug", "workers", "--verbose=maybe"}},
		{"du unknown flag", []string{"du", "--bogus"}},
		{"prune invalid duration", []string{"prune", "--keep-duration", "notaduration"}},
		{"prune invalid size", []string{"prune", "--keep-storage", "lots"}},
		{"timeout not an integer", []string{"--timeout", "abc", "debug", "workers"}},
		{"build flag missing value", []string{"build", "--progress"}},
		{"unsupported log format", []string{"--log-format", "yaml", "debug", "workers"}},

		{"unknown debug subcommand", []string{"debug", "frobnicate"}},
		{"help for unknown command", []string{"help", "frobnicate"}},
		{"global bool flag value", []string{"--debug=maybe", "debug", "workers"}},
		{"timeout fraction", []string{"--timeout", "1.5", "du"}},
		{"addr missing value", []string{"--addr"}},
		{"build alias unknown flag", []string{"b", "--bogus"}},
		{"build output missing value", []string{"build", "--output"}},
		{"du bool flag value", []string{"du", "--verbose=maybe"}},
		{"prune size missing value", []string{"prune", "--keep-storage"}},
		{"workers format missing value", []string{"debug", "workers", "--format"}},
		{"prune-histories unknown flag", []string{"prune-histories", "--bogus"}},
		{"log format checked before command", []string{"--log-format", "yaml", "frobnicate"}},
		// BuildKit's buildctl has hidden --profile-* flags.
		{"profile flag missing value", []string{"--profile-cpu"}},
		{"profile rate not an integer", []string{"--profile-memoryrate", "abc", "du"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours, ref := runBoth(t, shared, runOptions{Args: tt.args})
			if ref.ExitCode == 0 {
				t.Fatalf("reference accepted %q; this table lists rejected command lines", tt.args)
			}
			if ours.ExitCode != ref.ExitCode {
				t.Errorf("exit code: ours %d, reference %d", ours.ExitCode, ref.ExitCode)
			}
			if got, want := firstLine(ours.Stdout), firstLine(ref.Stdout); got != want {
				t.Errorf("first stdout line: ours %q, reference %q", got, want)
			}
			if ours.Stderr != ref.Stderr {
				t.Errorf("stderr differs\n--- ours:\n%s\n--- reference:\n%s", ours.Stderr, ref.Stderr)
			}
		})
	}
}

// TestUsageHelp compares help texts and shell completion output in full.
// They may differ only in the version line, which is masked.
func TestUsageHelp(t *testing.T) {
	requireDaemon(t)

	tests := []struct {
		name string
		args []string
	}{
		{"no arguments", nil},
		{"global help", []string{"--help"}},
		{"global help short flag", []string{"-h"}},
		{"help command", []string{"help"}},
		{"help build", []string{"help", "build"}},
		{"build", []string{"build", "--help"}},
		{"build alias", []string{"b", "--help"}},
		{"du", []string{"du", "--help"}},
		{"prune", []string{"prune", "--help"}},
		{"prune-histories", []string{"prune-histories", "--help"}},
		{"debug", []string{"debug", "--help"}},
		{"debug workers", []string{"debug", "workers", "--help"}},
		{"debug dump-llb", []string{"debug", "dump-llb", "--help"}},
		{"debug histories", []string{"debug", "histories", "--help"}},
		// Shell completion lists commands with their usage lines. The bash,
		// zsh and fish scripts differ on purpose, because ours also complete
		// flag values; rest_test.go checks them.
		{"completion of commands", []string{"--generate-shell-completion"}},
		{"completion of debug commands", []string{"debug", "--generate-shell-completion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Without --addr, so that the --addr line shows the default.
			ours := run(oursBin, runOptions{Args: tt.args})
			ref := run(referenceBin, runOptions{Args: tt.args})
			if ours.ExitCode != ref.ExitCode {
				t.Errorf("exit code: ours %d, reference %d\nours stderr: %s", ours.ExitCode, ref.ExitCode, ours.Stderr)
			}
			if got, want := maskVersion(ours.Stdout), maskVersion(ref.Stdout); got != want {
				t.Errorf("stdout differs\n%s", unifiedDiff(t, want, got))
			}
			if ours.Stderr != ref.Stderr {
				t.Errorf("stderr differs\n--- ours:\n%s\n--- reference:\n%s", ours.Stderr, ref.Stderr)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// versionSection matches the VERSION block of the top-level help, whose one
// line is the build's version.
var versionSection = regexp.MustCompile(`(?m)^VERSION:\n   \S+$`)

func maskVersion(help string) string {
	return versionSection.ReplaceAllString(help, "VERSION:\n   <version>")
}

// unifiedDiff returns "diff -u" of the reference text want and our text got.
func unifiedDiff(t *testing.T, want, got string) string {
	t.Helper()
	dir := t.TempDir()
	wantFile := filepath.Join(dir, "reference")
	gotFile := filepath.Join(dir, "ours")
	if err := os.WriteFile(wantFile, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gotFile, []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
	// diff exits 1 when the files differ; its output is what matters.
	out, _ := exec.Command("diff", "-u", "--label", "reference", "--label", "ours", wantFile, gotFile).CombinedOutput()
	return string(out)
}
