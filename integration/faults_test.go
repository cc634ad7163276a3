package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sleepDockerfile has a RUN step that prints a marker and then sleeps, so a
// test can act while the daemon runs the step.
const sleepDockerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox","sh","-c","echo step-running; exec /bin/busybox sleep 30"]
`

// runningBuild is a buildctl build started in the background.
type runningBuild struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

// startBuildUntil starts bin with args and waits until its stderr contains
// marker, failing the test after 60 seconds.
func startBuildUntil(t *testing.T, bin string, args []string, marker string) *runningBuild {
	t.Helper()
	b := &runningBuild{cmd: exec.Command(bin, args...), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	b.cmd.Env = cleanEnv()
	b.cmd.Stderr = b.stderr
	require.NoError(t, b.cmd.Start())
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() { _ = b.cmd.Process.Kill() })

	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(b.stderr.String(), marker) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within 60s:\n%s", bin, marker, b.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return b
}

// wait returns the exit code of the build, or fails the test when the build
// does not exit within limit.
func (b *runningBuild) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case err := <-b.done:
		if err == nil {
			return 0
		}
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr)
		return exitErr.ExitCode()
	case <-time.After(limit):
		_ = b.cmd.Process.Kill()
		t.Fatalf("buildctl did not exit within %s:\n%s", limit, b.stderr.String())
		return -1
	}
}

// waitNotActive fails the test when the daemon at addr still runs the build
// with ref 60 seconds after the client exited. The daemon ends a canceled
// build within a second or two when idle; the bound is for a loaded machine.
func waitNotActive(t *testing.T, addr, ref string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for activeBuild(t, addr, ref) {
		if time.Now().After(deadline) {
			t.Fatalf("build %s is still active on the daemon after 60s", ref)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFaultSIGINTCancelsBuild interrupts ours and the reference during a RUN
// step and compares exit code and last error line. Neither may leave its
// build active on the daemon.
func TestFaultSIGINTCancelsBuild(t *testing.T) {
	requireDaemon(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": sleepDockerfile, "busybox": "@busybox"})

	type outcome struct {
		code     int
		lastLine string
		elapsed  time.Duration
	}
	interrupt := func(t *testing.T, bin string) outcome {
		dir := t.TempDir()
		refFile := filepath.Join(dir, "ref")
		args := sharedArgs(dockerfileArgs(ctx, "--no-cache", "--ref-file", refFile,
			"-o", "type=tar,dest="+filepath.Join(dir, "o.tar")))
		b := startBuildUntil(t, bin, args, " step-running\n")
		require.True(t, activeBuild(t, shared.addr, ""), "no active build seen while the RUN step runs")

		start := time.Now()
		require.NoError(t, b.cmd.Process.Signal(syscall.SIGINT))
		code := b.wait(t, 20*time.Second)
		elapsed := time.Since(start)

		ref, err := os.ReadFile(refFile)
		require.NoError(t, err)
		require.NotEmpty(t, ref)
		waitNotActive(t, shared.addr, string(ref))
		return outcome{code: code, lastLine: lastLine(b.stderr.String()), elapsed: elapsed}
	}

	ours := interrupt(t, oursBin)
	ref := interrupt(t, referenceBin)
	require.Equal(t, ref.code, ours.code)
	require.NotZero(t, ours.code)
	require.Equal(t, ref.lastLine, ours.lastLine)
	t.Logf("exit after SIGINT: ours %s, reference %s", ours.elapsed, ref.elapsed)
}

// stopLeftovers unmounts what a killed buildkitd left mounted under dir and
// kills the container processes it started there, so that the daemon's
// cleanup can remove dir. A container process is one in another mount
// namespace whose mounts name dir, such as its overlay rootfs.
func stopLeftovers(t *testing.T, dir string) {
	t.Helper()
	ownNS, err := os.Readlink("/proc/self/ns/mnt")
	require.NoError(t, err)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "mnt"))
		if err != nil || ns == ownNS {
			continue
		}
		mounts, err := os.ReadFile(filepath.Join("/proc", e.Name(), "mountinfo"))
		if err == nil && strings.Contains(string(mounts), dir+"/") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	var mounts []string
	for _, line := range strings.Split(string(mountinfo), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	// Inner mounts come later in mountinfo, so unmount in reverse order.
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
}

// TestFaultDaemonKilledMidBuild kills buildkitd with SIGKILL during a RUN
// step, once under ours and once under the reference, each with its own
// daemon. Both clients must exit within 30 seconds with the same code.
func TestFaultDaemonKilledMidBuild(t *testing.T) {
	requireDaemon(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": sleepDockerfile, "busybox": "@busybox"})

	kill := func(t *testing.T, bin string) (int, string) {
		d := startDaemon(t)
		t.Cleanup(func() { stopLeftovers(t, d.dir) })
		args := append([]string{"--addr", d.addr}, dockerfileArgs(ctx, "--no-cache",
			"-o", "type=tar,dest="+filepath.Join(t.TempDir(), "o.tar"))...)
		b := startBuildUntil(t, bin, args, " step-running\n")

		require.NoError(t, d.cmd.Process.Kill())
		code := b.wait(t, 30*time.Second)
		return code, b.stderr.String()
	}

	oursCode, oursErr := kill(t, oursBin)
	refCode, refErr := kill(t, referenceBin)
	require.Equal(t, refCode, oursCode, "ours:\n%s\nreference:\n%s", oursErr, refErr)
	require.NotZero(t, oursCode)
	// The client library fails the build from whichever of its streams
	// notices first, so the text varies between "failed to solve" and
	// "failed to receive status" from run to run, in both programs.
	for _, stderr := range []string{oursErr, refErr} {
		require.Contains(t, errorLine(stderr), "Unavailable", stderr)
		require.Contains(t, errorLine(stderr), "error reading from server: EOF", stderr)
	}
	// The daemon responded before it died, so no line may claim that the
	// address could not be reached.
	require.Equal(t, errorLine(oursErr), lastLine(oursErr), "lines after the error:\n%s", oursErr)
}

// errorLine returns the first line of stderr that starts with "error: ".
func errorLine(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "error: ") {
			return line
		}
	}
	return ""
}

// TestFaultConcurrentBuilds runs eight of our builds at once against the
// shared daemon, each with its own build arg, and checks every exported tree
// against the reference's build of the same arg.
func TestFaultConcurrentBuilds(t *testing.T) {
	requireDaemon(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nARG N\n" +
			"RUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo build-$N > /n.txt\"]\n",
		"busybox": "@busybox",
	})
	const builds = 8
	outputs := make([]string, builds)
	results := make([]result, builds)
	var wg sync.WaitGroup
	for i := range builds {
		outputs[i] = t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := sharedArgs(dockerfileArgs(ctx, "--no-cache",
				"--opt", fmt.Sprintf("build-arg:N=%d", i), "-o", "type=local,dest="+outputs[i]))
			results[i] = run(oursBin, runOptions{Args: args, Timeout: 5 * time.Minute})
		}()
	}
	wg.Wait()

	for i := range builds {
		require.Equal(t, 0, results[i].ExitCode, "build %d:\n%s", i, results[i].Stderr)
		got, err := os.ReadFile(filepath.Join(outputs[i], "n.txt"))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("build-%d\n", i), string(got))
	}

	// The reference builds two of the args, one after the other, as the
	// expected trees.
	for _, i := range []int{0, builds - 1} {
		refDir := t.TempDir()
		args := sharedArgs(dockerfileArgs(ctx,
			"--opt", fmt.Sprintf("build-arg:N=%d", i), "-o", "type=local,dest="+refDir))
		ref := run(referenceBin, runOptions{Args: args})
		require.Equal(t, 0, ref.ExitCode, ref.Stderr)
		require.Equal(t, treeListing(t, refDir), treeListing(t, outputs[i]))
	}
}

// specialFilesContext creates a build context with a fifo, a Unix socket, a
// character device, symlinks pointing outside the context, a dangling
// symlink and a file name that is not UTF-8.
func specialFilesContext(t *testing.T) string {
	t.Helper()
	ctx := writeContext(t, map[string]string{
		"Dockerfile":  "FROM scratch\nCOPY . /\n",
		"regular.txt": "regular\n",
		"dir/inner":   "inner\n",
	})
	require.NoError(t, syscall.Mkfifo(filepath.Join(ctx, "fifo"), 0o644))
	ln, err := net.Listen("unix", filepath.Join(ctx, "sock"))
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	require.NoError(t, syscall.Mknod(filepath.Join(ctx, "chardev"), syscall.S_IFCHR|0o644, 1<<8|3))
	require.NoError(t, os.Symlink("/etc/hostname", filepath.Join(ctx, "link_abs")))
	require.NoError(t, os.Symlink("../../outside", filepath.Join(ctx, "dir", "link_up")))
	require.NoError(t, os.Symlink("does-not-exist", filepath.Join(ctx, "link_dangling")))
	require.NoError(t, os.WriteFile(filepath.Join(ctx, "latin1-\xe9t\xe9.txt"), []byte("x"), 0o644))
	return ctx
}

// TestFaultSpecialFilesContext sends a context with special files to the
// daemon through ours and the reference and compares exit code, stdout and
// the exported tar.
func TestFaultSpecialFilesContext(t *testing.T) {
	requireDaemon(t)
	oursTar, refTar := buildBothToTar(t, specialFilesContext(t))
	requireSameTarEntries(t, oursTar, refTar)
}

// TestFaultUnreadableContextFile runs ours and the reference as uid 65534
// against a daemon whose socket belongs to group 65534. The context has a
// file of mode 0000 that this user cannot read. The test compares exit code,
// stdout, the error line and the exported tar.
func TestFaultUnreadableContextFile(t *testing.T) {
	requireDaemon(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv not found: it runs the clients as uid 65534")
	}
	bins := worldReadableBinaries(t)
	dir := worldReadableDir(t)
	addr := "unix://" + filepath.Join(dir, "buildkitd.sock")
	launchDaemonAt(t, dir, "--addr", addr, "--group", "65534")
	waitForDaemon(t, addr)

	ctx := filepath.Join(dir, "ctx")
	require.NoError(t, os.MkdirAll(ctx, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM scratch\nCOPY . /\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(ctx, "readable"), []byte("r\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(ctx, "unreadable"), []byte("u\n"), 0o000))
	home := filepath.Join(dir, "home")
	require.NoError(t, os.MkdirAll(home, 0o777))
	require.NoError(t, os.Chmod(home, 0o777))

	runAs := func(bin, out string) result {
		args := []string{"--reuid", "65534", "--regid", "65534", "--clear-groups", bin,
			"--addr", addr, "build", "--progress=plain", "--frontend=dockerfile.v0",
			"--local", "context=" + ctx, "--local", "dockerfile=" + ctx, "-o", "type=tar,dest=" + out}
		return run("setpriv", runOptions{Args: args, Env: []string{"HOME=" + home, "DOCKER_CONFIG=" + home}})
	}
	oursTar, refTar := filepath.Join(home, "ours.tar"), filepath.Join(home, "ref.tar")
	ours := runAs(bins.ours, oursTar)
	ref := runAs(bins.ref, refTar)
	requireSameResult(t, ours, ref)
	require.Equal(t, errorLine(ref.Stderr), errorLine(ours.Stderr))
	if ref.ExitCode != 0 {
		return
	}
	oursData, refData := requireSameTarEntries(t, oursTar, refTar)
	// NOTE: fsutil's sender ends a file without content when it cannot open
	// it, so the build succeeds and exports the file empty, in BuildKit's
	// buildctl v0.34.2 as in ours, which keeps that behaviour.
	require.Equal(t, tarFile(t, refData, "unreadable"), tarFile(t, oursData, "unreadable"))
	require.Empty(t, tarFile(t, oursData, "unreadable"))
}

// waitForDaemon waits up to 60 seconds until the daemon at addr lists its
// workers.
func waitForDaemon(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := run(referenceBin, runOptions{Args: []string{"--addr", addr, "debug", "workers"}})
		if res.ExitCode == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("buildkitd at %s did not answer within 60s: %s", addr, res.Stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
