// Package integration runs buildctl against a real buildkitd and compares our
// binary with BuildKit's own buildctl of the version pinned in go.mod.
//
// TestMain builds our buildctl, BuildKit's buildctl (the reference) and
// buildkitd, then starts one shared daemon on a socket in a temporary folder.
// Tests that change daemon state (du, prune) start their own with startDaemon.
//
// The tests need root, runc and a static busybox. Without them they skip with
// the reason, except under CI=true, where a missing requirement fails the run.
package integration

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Paths of the binaries under test, set by TestMain.
var (
	oursBin      string
	referenceBin string
	buildkitdBin string
	busyboxBin   string
	// shared is the daemon that read-only tests use.
	shared *daemon
)

// skipReason is set when the environment cannot run a daemon.
var skipReason string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if isShort() {
		skipReason = "integration tests need a buildkitd and are skipped with -short"
		return m.Run()
	}

	workDir, err := os.MkdirTemp("", "buildctl-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)

	if reason := missingRequirement(); reason != "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "integration: %s (required under CI=true; .ci/run installs it)\n", reason)
			return 1
		}
		skipReason = reason
		return m.Run()
	}

	if err := buildBinaries(workDir); err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}

	shared, err = launchDaemon(filepath.Join(workDir, "shared"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	code := m.Run()
	if err := shared.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: stop shared buildkitd: %v\n", err)
	}
	return code
}

func isShort() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" {
			return true
		}
	}
	return false
}

// requireDaemon skips the test when the environment cannot run buildkitd.
func requireDaemon(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

func missingRequirement() string {
	if os.Geteuid() != 0 {
		return "buildkitd with the OCI worker needs root; run the tests as root"
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return "runc not found in PATH (apt-get install runc)"
	}
	bb, err := findBusybox()
	if err != nil {
		return err.Error()
	}
	busyboxBin = bb
	return ""
}

func findBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", errors.New("static busybox not found at /bin/busybox (apt-get install busybox-static)")
}

// buildBinaries builds our buildctl into dir, and the reference buildctl and
// buildkitd into a cache folder keyed by the BuildKit version, unless
// REFERENCE_BUILDCTL and BUILDKITD name existing binaries.
func buildBinaries(dir string) error {
	oursBin = filepath.Join(dir, "buildctl")
	if p := os.Getenv("BUILDCTL_UNDER_TEST"); p != "" {
		oursBin = p
	} else if out, err := exec.Command("go", "build", "-o", oursBin, "../cmd/buildctl").CombinedOutput(); err != nil {
		return fmt.Errorf("build our buildctl: %v\n%s", err, out)
	}

	referenceBin = os.Getenv("REFERENCE_BUILDCTL")
	buildkitdBin = os.Getenv("BUILDKITD")
	if referenceBin != "" && buildkitdBin != "" {
		return nil
	}
	cacheDir, err := referenceCacheDir()
	if err != nil {
		return err
	}
	if referenceBin == "" {
		referenceBin = filepath.Join(cacheDir, "buildctl")
	}
	if buildkitdBin == "" {
		buildkitdBin = filepath.Join(cacheDir, "buildkitd")
	}
	// The Makefile target "reference" builds the same two binaries.
	cmd := exec.Command("make", "-C", "..", "reference", "REFERENCE_DIR="+cacheDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build reference buildctl and buildkitd: %v\n%s", err, out)
	}
	return nil
}

func referenceCacheDir() (string, error) {
	version, err := moduleVersion(buildkitModule)
	if err != nil {
		return "", err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "buildctl-reference", version), nil
}

// daemon is a buildkitd process started by the tests.
type daemon struct {
	addr string
	dir  string
	cmd  *exec.Cmd
	log  *os.File
}

// startDaemon starts a private buildkitd for one test and stops it at cleanup.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	requireDaemon(t)
	dir, err := os.MkdirTemp("", "bkd-")
	if err != nil {
		t.Fatal(err)
	}
	d, err := launchDaemon(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("stop buildkitd: %v", err)
		}
	})
	return d
}

// launchDaemon starts buildkitd with its state, socket and log under dir and
// waits until it lists its workers.
func launchDaemon(dir string) (*daemon, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	if err != nil {
		return nil, err
	}
	d := &daemon{
		addr: "unix://" + filepath.Join(dir, "buildkitd.sock"),
		dir:  dir,
		log:  logFile,
	}
	d.cmd = exec.Command(buildkitdBin,
		"--addr", d.addr,
		"--root", filepath.Join(dir, "root"),
		"--oci-worker=true",
		"--containerd-worker=false",
	)
	d.cmd.Stdout = logFile
	d.cmd.Stderr = logFile
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start buildkitd: %w", err)
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "workers"}})
		if res.ExitCode == 0 {
			return d, nil
		}
		if time.Now().After(deadline) {
			_ = d.stop()
			logText, _ := os.ReadFile(logFile.Name())
			return nil, fmt.Errorf("buildkitd at %s did not answer within 60s: %s\nlog:\n%s", d.addr, res.Stderr, logText)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop ends the daemon by pid: SIGTERM, then SIGKILL after 20 seconds.
func (d *daemon) stop() error {
	defer d.log.Close()
	if d.cmd.Process == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	// The root holds overlay mounts only while the daemon runs.
	return os.RemoveAll(d.dir)
}

// result is what one buildctl invocation produced.
type result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

type runOptions struct {
	Args []string
	// Env entries are added to a copy of the test's environment without
	// BUILDKIT_HOST and BUILDKIT_PROGRESS.
	Env   []string
	Dir   string
	Stdin io.Reader
	// Timeout bounds the run; zero means two minutes.
	Timeout time.Duration
}

// run executes bin with opts and returns its output and exit code. A process
// that does not exit in time is killed and reported with exit code -1.
func run(bin string, opts runOptions) result {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, opts.Args...)
	cmd.Env = append(cleanEnv(), opts.Env...)
	cmd.Dir = opts.Dir
	cmd.Stdin = opts.Stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()

	res := result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		res.ExitCode = -1
		res.Stderr += "\nrun: " + err.Error()
	}
	return res
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "BUILDKIT_HOST", "BUILDKIT_PROGRESS", "PROGRESS_NO_TRUNC", "SOURCE_DATE_EPOCH":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runBoth runs the same arguments through our buildctl and the reference,
// each with --addr d.addr first, and returns both results.
func runBoth(t *testing.T, d *daemon, opts runOptions) (ours, ref result) {
	t.Helper()
	opts.Args = append([]string{"--addr", d.addr}, opts.Args...)
	ours = run(oursBin, opts)
	ref = run(referenceBin, opts)
	return ours, ref
}

// requireSameResult fails when stdout or the exit code differ between ours
// and the reference.
func requireSameResult(t *testing.T, ours, ref result) {
	t.Helper()
	if ours.ExitCode != ref.ExitCode {
		t.Errorf("exit code: ours %d, reference %d\nours stderr: %s\nreference stderr: %s", ours.ExitCode, ref.ExitCode, ours.Stderr, ref.Stderr)
	}
	if ours.Stdout != ref.Stdout {
		t.Errorf("stdout differs\n--- ours:\n%s\n--- reference:\n%s", ours.Stdout, ref.Stdout)
	}
}

// writeContext creates a build context from a map of relative paths to file
// contents. The value "@busybox" copies the static busybox binary.
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if content == "@busybox" {
			data, err := os.ReadFile(busyboxBin)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// decodeJSON unmarshals s into v or fails the test with the text.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, s)
	}
}
