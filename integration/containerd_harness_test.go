package integration

// Harness for the tests of buildkitd's containerd worker: a private
// containerd, and a buildkitd whose only worker runs builds in it.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
)

const (
	// containerdModule is the Go module that containerd is built from, at
	// the version that go.mod selects.
	containerdModule = "github.com/containerd/containerd/v2"
	// shimBinary is the runtime shim of containerd's default runtime
	// io.containerd.runc.v2. containerd looks it up in PATH, then next to
	// its own binary.
	shimBinary = "containerd-shim-runc-v2"
	// maxShimSocketDir is containerd v2.4's limit on the length of the
	// shim socket folder (socket_dir), set by the unix socket path limit.
	maxShimSocketDir = 42
)

// containerdBuild caches the containerd lookup, so that one test run builds
// it once.
var containerdBuild struct {
	once sync.Once
	path string
	err  error
}

// containerdPath returns the containerd binary to start: $CONTAINERD, or the
// one "make containerd" builds into the cache folder next to the reference
// binaries. The runc shim must be next to it or in PATH.
func containerdPath(t *testing.T) string {
	t.Helper()
	containerdBuild.once.Do(func() {
		containerdBuild.path, containerdBuild.err = findContainerd()
	})
	if containerdBuild.err != nil {
		t.Fatal(containerdBuild.err)
	}
	return containerdBuild.path
}

func findContainerd() (string, error) {
	bin := os.Getenv("CONTAINERD")
	if bin == "" {
		dir, err := containerdCacheDir()
		if err != nil {
			return "", err
		}
		cmd := exec.Command("make", "-C", "..", "containerd", "CONTAINERD_DIR="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build containerd with make containerd: %v\n%s", err, out)
		}
		bin = filepath.Join(dir, "containerd")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("containerd binary: %w", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(bin), shimBinary)); err == nil {
		return bin, nil
	}
	if _, err := exec.LookPath(shimBinary); err != nil {
		return "", fmt.Errorf("%s not found next to %s or in PATH, and the containerd worker needs it to run build steps", shimBinary, bin)
	}
	return bin, nil
}

// containerdCacheDir returns the folder that "make containerd" writes to:
// the user cache folder, keyed by the containerd version in go.mod.
func containerdCacheDir() (string, error) {
	version, err := moduleVersion(containerdModule)
	if err != nil {
		return "", err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "buildctl-reference", "containerd-"+version), nil
}

// skipUnlessCI skips the test with reason, or fails it under CI=true, where
// every requirement is expected to be met.
func skipUnlessCI(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required under CI=true: %s", reason)
	}
	t.Skip(reason)
}

// containerdDaemon is a containerd process started by a test, with its root,
// state and sockets in a private folder.
type containerdDaemon struct {
	// address is the path of the gRPC socket.
	address string
	dir     string
	cmd     *exec.Cmd
	log     *os.File
	// exited is closed when the process has exited, and exitErr is then
	// the result of Wait.
	exited  chan struct{}
	exitErr error
}

// startContainerd starts a private containerd, waits until it responds and
// its overlayfs snapshotter is loaded, and stops it at cleanup. When
// containerd cannot run on this host, the test is skipped with the reason
// (failed under CI=true).
func startContainerd(t *testing.T) *containerdDaemon {
	t.Helper()
	requireDaemon(t)
	bin := containerdPath(t)

	// The folder name stays short because the shim sockets live in it.
	dir, err := os.MkdirTemp("", "ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerdDaemon{address: filepath.Join(dir, "containerd.sock"), dir: dir, exited: make(chan struct{})}
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(containerdConfig(dir, c.address)), 0o600); err != nil {
		t.Fatal(err)
	}
	c.log, err = os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}

	c.cmd = exec.Command(bin, "--config", configPath)
	c.cmd.Stdout = c.log
	c.cmd.Stderr = c.log
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		c.log.Close()
		t.Fatalf("start containerd: %v", err)
	}
	go func() {
		c.exitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		if err := c.stop(); err != nil {
			t.Errorf("stop containerd: %v", err)
		}
	})

	if reason := c.waitReady(); reason != "" {
		skipUnlessCI(t, reason)
	}
	return c
}

// containerdConfig returns a config that keeps every path of this containerd
// under dir, so that it runs beside any other containerd on the host.
func containerdConfig(dir, address string) string {
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "version = 3\nroot = %s\nstate = %s\n", q(filepath.Join(dir, "root")), q(filepath.Join(dir, "state")))
	// By default NRI listens on /var/run/nri/nri.sock, one path for every
	// containerd on the host. CRI is not built by "make containerd", but a containerd from
	// $CONTAINERD may have it.
	b.WriteString(`disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"]` + "\n")
	fmt.Fprintf(&b, "\n[grpc]\n  address = %s\n", q(address))
	fmt.Fprintf(&b, "\n[ttrpc]\n  address = %s\n", q(address+".ttrpc"))
	fmt.Fprintf(&b, "\n[plugins.\"io.containerd.internal.v1.opt\"]\n  path = %s\n", q(filepath.Join(dir, "opt")))
	// Without socket_dir, a containerd run as root puts shim sockets in
	// /run/containerd/s. The socket names there are hashes of the address,
	// so sharing that folder would be safe, but a private folder is removed
	// with the test.
	if socketDir := filepath.Join(dir, "s"); len(socketDir) <= maxShimSocketDir {
		fmt.Fprintf(&b, "\n[plugins.\"io.containerd.shim.v1.manager\"]\n  socket_dir = %s\n", q(socketDir))
	}
	return b.String()
}

// waitReady waits until containerd responds on its socket and returns why
// it cannot be used here, or "" when it can.
func (c *containerdDaemon) waitReady() string {
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-c.exited:
			return fmt.Sprintf("containerd exited at start (%v). Its log ends with:\n%s", c.exitErr, c.logText())
		default:
		}
		if _, err := os.Stat(c.address); err == nil {
			reason, err := c.checkOverlayfs()
			if err == nil {
				return reason
			}
			if time.Now().After(deadline) {
				return fmt.Sprintf("containerd at %s did not respond within 30s: %v. Its log ends with:\n%s", c.address, err, c.logText())
			}
		} else if time.Now().After(deadline) {
			return fmt.Sprintf("containerd did not create %s within 30s. Its log ends with:\n%s", c.address, c.logText())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkOverlayfs returns why the overlayfs snapshotter, which the containerd
// worker uses by default, did not load, or "" when it did. The error is set
// when containerd did not respond.
func (c *containerdDaemon) checkOverlayfs() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cli, err := client.New(c.address, client.WithTimeout(2*time.Second))
	if err != nil {
		return "", err
	}
	defer cli.Close()
	resp, err := cli.IntrospectionService().Plugins(ctx, "type==io.containerd.snapshotter.v1,id==overlayfs")
	if err != nil {
		return "", err
	}
	if len(resp.Plugins) == 0 {
		return "containerd has no overlayfs snapshotter plugin", nil
	}
	if initErr := resp.Plugins[0].InitErr; initErr != nil {
		return "containerd's overlayfs snapshotter did not load: " + initErr.Message, nil
	}
	return "", nil
}

// client returns a containerd client that works in namespace ns and is
// closed at cleanup.
func (c *containerdDaemon) client(t *testing.T, ns string) *client.Client {
	t.Helper()
	cli, err := client.New(c.address, client.WithDefaultNamespace(ns), client.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("connect to containerd at %s: %v", c.address, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// logText returns the last 20 lines of containerd's log, which contain the
// error that stopped it. The lines before are mostly one per loaded plugin.
func (c *containerdDaemon) logText() string {
	data, _ := os.ReadFile(c.log.Name())
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// stop ends containerd by pid, SIGTERM then SIGKILL after 20 seconds, and
// removes its folder. Shims of finished build steps have exited by then.
func (c *containerdDaemon) stop() error {
	defer c.log.Close()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	return os.RemoveAll(c.dir)
}

// startContainerdWorker starts a buildkitd whose only worker is the
// containerd worker of c in namespace ns, as nerdctl expects it for a shared
// containerd, and stops it at cleanup (before c, because cleanups run in
// reverse order).
func startContainerdWorker(t *testing.T, c *containerdDaemon, ns string) *daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "bkd-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{addr: "unix://" + filepath.Join(dir, "buildkitd.sock"), dir: dir, log: logFile}
	d.cmd = exec.Command(buildkitdBin,
		"--addr", d.addr,
		"--root", filepath.Join(dir, "root"),
		"--oci-worker=false",
		"--containerd-worker=true",
		"--containerd-worker-addr="+c.address,
		"--containerd-worker-namespace="+ns,
	)
	d.cmd.Stdout = logFile
	d.cmd.Stderr = logFile
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start buildkitd: %v", err)
	}
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("stop buildkitd: %v", err)
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		res := run(referenceBin, runOptions{Args: []string{"--addr", d.addr, "debug", "workers"}})
		if res.ExitCode == 0 {
			return d
		}
		if time.Now().After(deadline) {
			logText, _ := os.ReadFile(logFile.Name())
			t.Fatalf("buildkitd at %s with the containerd worker did not respond within 60s: %s\nlog:\n%s", d.addr, res.Stderr, logText)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
