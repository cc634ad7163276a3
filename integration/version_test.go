package integration

import (
	"strings"
	"testing"
)

// nerdctl splits "buildctl --version" on white space: field 1 must be
// "buildctl", field 3 is the version and a fourth field is the commit.
func TestVersionFourFields(t *testing.T) {
	requireDaemon(t)
	res := run(oursBin, runOptions{Args: []string{"--version"}})
	if res.ExitCode != 0 {
		t.Fatalf("exit code %d: %s", res.ExitCode, res.Stderr)
	}
	fields := strings.Fields(res.Stdout)
	if len(fields) != 4 {
		t.Fatalf("want 4 fields, got %d: %q", len(fields), res.Stdout)
	}
	if fields[0] != "buildctl" {
		t.Errorf("field 1 = %q, want buildctl", fields[0])
	}
}
