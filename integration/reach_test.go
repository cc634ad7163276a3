package integration

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
)

// headLine returns the first line of s.
func headLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// requireSameFailure checks that both binaries failed alike: the same exit
// code, the same stdout and the same first stderr line, which scripts match.
func requireSameFailure(t *testing.T, ours, ref result) {
	t.Helper()
	requireSameResult(t, ours, ref)
	require.NotZero(t, ours.ExitCode, "ours should fail: %s", ours.Stderr)
	require.Equal(t, headLine(ref.Stderr), headLine(ours.Stderr), "first stderr line")
}

// silentListener accepts connections on a unix socket and never responds.
func silentListener(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
}

// staleSocket leaves a socket file that nothing listens on, as a crashed
// daemon does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	l.SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
}

func TestReachFailureReasons(t *testing.T) {
	requireDaemon(t)
	dir := t.TempDir()

	staleSocket(t, filepath.Join(dir, "stale.sock"))
	silentListener(t, filepath.Join(dir, "silent.sock"))
	httpListener, err := net.Listen("unix", filepath.Join(dir, "http.sock"))
	require.NoError(t, err)
	server := &http.Server{Handler: http.NotFoundHandler()}
	go server.Serve(httpListener)
	t.Cleanup(func() { server.Close() })

	cases := []struct {
		name   string
		socket string
		reason string
		// racy is set when the reference's own first line varies between runs.
		racy bool
	}{
		{name: "missing file", socket: "missing.sock", reason: "not found"},
		{name: "stale socket", socket: "stale.sock", reason: "connection refused: stale socket"},
		{name: "silent listener", socket: "silent.sock", reason: "timed out"},
		// The HTTP server closes the connection after its error response, so
		// gRPC reports either the bad preface or the broken pipe.
		{name: "http server", socket: "http.sock", reason: "not a BuildKit daemon", racy: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := "unix://" + filepath.Join(dir, tc.socket)
			opts := runOptions{Args: []string{"--addr", addr, "debug", "workers"}}

			start := time.Now()
			ours := run(oursBin, opts)
			took := time.Since(start)
			ref := run(referenceBin, opts)

			if tc.racy {
				requireSameResult(t, ours, ref)
				require.NotZero(t, ours.ExitCode)
			} else {
				requireSameFailure(t, ours, ref)
			}
			require.Contains(t, ours.Stderr, addr+": "+tc.reason)
			require.Contains(t, ours.Stderr, "To fix it")
			// --timeout is 5 seconds and the diagnosis adds at most one more.
			// The rest is slack for a loaded machine, still under the 20
			// seconds of gRPC's default handshake timeout.
			require.Less(t, took, 12*time.Second)
		})
	}
}

func TestReachPermissionDenied(t *testing.T) {
	requireDaemon(t)
	bins := worldReadableBinaries(t)
	dir := worldReadableDir(t)
	sock := filepath.Join(dir, "root-only.sock")
	silentListener(t, sock)
	require.NoError(t, os.Chmod(sock, 0o660))

	args := []string{"--reuid", "65534", "--regid", "65534", "--clear-groups"}
	opts := runOptions{Args: append(args, bins.ours, "--addr", "unix://"+sock, "debug", "workers")}
	ours := run("setpriv", opts)
	opts.Args = append(args, bins.ref, "--addr", "unix://"+sock, "debug", "workers")
	ref := run("setpriv", opts)

	requireSameFailure(t, ours, ref)
	require.Contains(t, ours.Stderr, "permission denied: socket has owner root (0), group root (0), mode 0660")
	require.Contains(t, ours.Stderr, "buildctl runs as uid 65534 with groups 65534")
	require.NotContains(t, ours.Stderr, "join group", "members of gid 0 get root's files")
	require.Contains(t, ours.Stderr, "ask root (0), the owner of "+sock+", to give a group of yours write permission")
}

// TestReachPermissionHints checks that joining the group is advised only
// when the group's permission bits would grant the access.
func TestReachPermissionHints(t *testing.T) {
	requireDaemon(t)
	bins := worldReadableBinaries(t)
	const usersGID = 100

	cases := []struct {
		name string
		// setUp creates the socket under dir and returns its path.
		setUp    func(t *testing.T, dir string) string
		wantHint string
	}{
		{
			name: "socket group may write",
			setUp: func(t *testing.T, dir string) string {
				sock := filepath.Join(dir, "group.sock")
				silentListener(t, sock)
				require.NoError(t, os.Chown(sock, 0, usersGID))
				require.NoError(t, os.Chmod(sock, 0o660))
				return sock
			},
			wantHint: "join group users (100) and log in again",
		},
		{
			name: "socket group may only read",
			setUp: func(t *testing.T, dir string) string {
				sock := filepath.Join(dir, "read-only.sock")
				silentListener(t, sock)
				require.NoError(t, os.Chown(sock, 0, usersGID))
				require.NoError(t, os.Chmod(sock, 0o755))
				return sock
			},
			wantHint: "to give a group of yours write permission on it",
		},
		{
			name: "folder of owner only",
			setUp: func(t *testing.T, dir string) string {
				folder := filepath.Join(dir, "private")
				require.NoError(t, os.Mkdir(folder, 0o700))
				require.NoError(t, os.Chown(folder, 0, usersGID))
				sock := filepath.Join(folder, "buildkitd.sock")
				silentListener(t, sock)
				return sock
			},
			wantHint: "so that you get search (x) permission",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sock := tc.setUp(t, worldReadableDir(t))
			args := []string{"--reuid", "65534", "--regid", "65534", "--clear-groups"}
			ours := run("setpriv", runOptions{Args: append(args, bins.ours, "--addr", "unix://"+sock, "debug", "workers")})
			ref := run("setpriv", runOptions{Args: append(args, bins.ref, "--addr", "unix://"+sock, "debug", "workers")})

			requireSameFailure(t, ours, ref)
			require.Contains(t, ours.Stderr, tc.wantHint)
			if !strings.HasPrefix(tc.wantHint, "join") {
				require.NotContains(t, ours.Stderr, "join group")
			}
		})
	}
}

// TestReachWaitBoundedByTimeout runs discovery with --wait where no daemon
// listens: the whole wait, probing both candidates once a second, must end
// after --timeout as BuildKit's buildctl does on its one address.
func TestReachWaitBoundedByTimeout(t *testing.T) {
	requireDaemon(t)
	ns := newRunNamespace(t)
	opts := runOptions{Args: []string{"--wait", "--timeout", "4", "debug", "workers"}}

	start := time.Now()
	ours := ns.run(oursBin, opts)
	took := time.Since(start)

	// The reference sometimes reports the expired deadline as a gRPC status
	// instead, when it expires during a call, so it gets three tries to print
	// the same first line.
	var ref result
	for range 3 {
		ref = ns.run(referenceBin, opts)
		if headLine(ref.Stderr) == headLine(ours.Stderr) {
			break
		}
	}
	requireSameFailure(t, ours, ref)
	// Waiting --timeout per candidate would take 8 seconds. The 3 seconds
	// over 4 are slack for process start on a loaded machine.
	require.Less(t, took, 7*time.Second, "--timeout 4 must bound the whole wait")
	require.Contains(t, ours.Stderr, "unix://"+defaultSocket+": not found")
	require.Contains(t, ours.Stderr, "unix://"+nerdctlSocket+": not found")
}

func TestReachWaitForLateDaemon(t *testing.T) {
	requireDaemon(t)
	dir := worldReadableDir(t)
	addr := "unix://" + filepath.Join(dir, "buildkitd.sock")
	opts := runOptions{Args: []string{"--addr", addr, "--wait", "--timeout", "30", "debug", "workers"}}

	results := make(chan result, 2)
	start := time.Now()
	go func() { results <- run(oursBin, opts) }()
	time.Sleep(2 * time.Second)
	d := launchDaemonAt(t, dir, "--addr", addr)
	ours := <-results
	ref := run(referenceBin, opts)

	require.Greater(t, time.Since(start), 2*time.Second)
	requireSameResult(t, ours, ref)
	require.Zero(t, ours.ExitCode, ours.Stderr)
	require.NotNil(t, d)
}

// launchDaemonAt starts buildkitd with extra arguments and its state in dir,
// without waiting for it, and stops it at cleanup.
func launchDaemonAt(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	logFile, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	require.NoError(t, err)
	args = append(args, "--root", filepath.Join(dir, "root"), "--oci-worker=true", "--containerd-worker=false")
	cmd := exec.Command(buildkitdBin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stopProcess(cmd)
		logFile.Close()
		os.RemoveAll(filepath.Join(dir, "root"))
	})
	return cmd
}

// stopProcess ends a process the test started: SIGTERM, then SIGKILL.
func stopProcess(cmd *exec.Cmd) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

type binaries struct{ ours, ref string }

// worldReadableBinaries copies ours and the reference where an unprivileged
// user can run them, because the work folder of the tests is private to root.
func worldReadableBinaries(t *testing.T) binaries {
	t.Helper()
	dir := worldReadableDir(t)
	b := binaries{ours: filepath.Join(dir, "buildctl"), ref: filepath.Join(dir, "buildctl-ref")}
	for src, dst := range map[string]string{oursBin: b.ours, referenceBin: b.ref} {
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst, data, 0o755))
	}
	return b
}

func worldReadableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "reach-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// runNamespace is a private mount namespace with an empty tmpfs on /run, so
// tests can create the well-known sockets without touching the host's /run.
type runNamespace struct {
	holder *exec.Cmd
	mntNS  string
}

func newRunNamespace(t *testing.T) *runNamespace {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not found (apt-get install util-linux)")
	}
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		"mount -t tmpfs tmpfs /run && echo ready && exec sleep 3600")
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := holder.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, holder.Start())
	t.Cleanup(func() {
		_ = holder.Process.Kill()
		_ = holder.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	return &runNamespace{holder: holder, mntNS: fmt.Sprintf("/proc/%d/ns/mnt", holder.Process.Pid)}
}

// command returns the arguments that run argv inside the namespace.
func (ns *runNamespace) command(argv ...string) []string {
	return append([]string{"--mount=" + ns.mntNS, "--"}, argv...)
}

// run runs bin inside the namespace.
func (ns *runNamespace) run(bin string, opts runOptions) result {
	opts.Args = ns.command(append([]string{bin}, opts.Args...)...)
	return run("nsenter", opts)
}

// sh runs a shell script inside the namespace and fails the test when it fails.
func (ns *runNamespace) sh(t *testing.T, script string) {
	t.Helper()
	out, err := exec.Command("nsenter", ns.command("sh", "-ec", script)...).CombinedOutput()
	require.NoError(t, err, "%s\n%s", script, out)
}

// startDaemon starts buildkitd inside the namespace on the unix socket
// path and waits until the reference lists its workers there.
func (ns *runNamespace) startDaemon(t *testing.T, path string) {
	t.Helper()
	dir := t.TempDir()
	ns.sh(t, "mkdir -p "+filepath.Dir(path))
	logFile, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	require.NoError(t, err)
	cmd := exec.Command("nsenter", ns.command(buildkitdBin, "--addr", "unix://"+path,
		"--root", filepath.Join(dir, "root"), "--oci-worker=true", "--containerd-worker=false")...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stopProcess(cmd)
		logFile.Close()
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		res := ns.run(referenceBin, runOptions{Args: []string{"--addr", "unix://" + path, "debug", "workers"}})
		if res.ExitCode == 0 {
			return
		}
		if time.Now().After(deadline) {
			logText, _ := os.ReadFile(logFile.Name())
			t.Fatalf("buildkitd at %s did not respond: %s\nlog:\n%s", path, res.Stderr, logText)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const (
	defaultSocket   = "/run/buildkit/buildkitd.sock"
	nerdctlSocket   = "/run/buildkit-default/buildkitd.sock"
	namespaceSocket = "/run/buildkit-k8s.io/buildkitd.sock"
)

// TestReachDefaultSocketOnly is the case this product exists for: buildkitd
// listens only on BuildKit's default socket while nerdctl requests its
// per-namespace one.
func TestReachDefaultSocketOnly(t *testing.T) {
	requireDaemon(t)
	ns := newRunNamespace(t)
	ns.startDaemon(t, defaultSocket)
	direct := ns.run(referenceBin, runOptions{Args: []string{"--addr", "unix://" + defaultSocket, "debug", "workers"}})
	require.Zero(t, direct.ExitCode, direct.Stderr)
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM scratch\n"})

	t.Run("discovery", func(t *testing.T) {
		ours := ns.run(oursBin, runOptions{Args: []string{"debug", "workers"}})
		ref := ns.run(referenceBin, runOptions{Args: []string{"debug", "workers"}})
		requireSameResult(t, ours, ref)
		require.Equal(t, direct.Stdout, ours.Stdout)
	})

	t.Run("missing nerdctl socket falls back", func(t *testing.T) {
		ours := ns.run(oursBin, runOptions{Args: []string{"--debug", "--addr", "unix://" + nerdctlSocket, "debug", "workers"}})
		require.Zero(t, ours.ExitCode, ours.Stderr)
		require.Equal(t, direct.Stdout, ours.Stdout)
		require.Contains(t, ours.Stderr, "using a fallback candidate")
		require.Contains(t, ours.Stderr, `address="unix://`+defaultSocket+`"`)
	})

	t.Run("bare path", func(t *testing.T) {
		ours := ns.run(oursBin, runOptions{Args: []string{"--addr", defaultSocket, "debug", "workers"}})
		require.Zero(t, ours.ExitCode, ours.Stderr)
		require.Equal(t, direct.Stdout, ours.Stdout)
	})

	t.Run("build through fallback", func(t *testing.T) {
		ours := ns.run(oursBin, runOptions{Args: []string{"--addr", "unix://" + nerdctlSocket, "build",
			"--progress=plain", "--frontend", "dockerfile.v0", "--local", "context=" + ctx, "--local", "dockerfile=" + ctx}})
		require.Zero(t, ours.ExitCode, ours.Stderr)
	})

	t.Run("stale nerdctl socket falls back", func(t *testing.T) {
		ns.sh(t, "mkdir -p /run/buildkit-default && python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "+nerdctlSocket)
		t.Cleanup(func() { ns.sh(t, "rm -f "+nerdctlSocket) })
		ours := ns.run(oursBin, runOptions{Args: []string{"--addr", "unix://" + nerdctlSocket, "debug", "workers"}})
		require.Zero(t, ours.ExitCode, ours.Stderr)
		require.Equal(t, direct.Stdout, ours.Stdout)
	})

	t.Run("fallback switched off", func(t *testing.T) {
		opts := runOptions{
			Args: []string{"--addr", "unix://" + nerdctlSocket, "debug", "workers"},
			Env:  []string{"BUILDCTL_NO_FALLBACK=1"},
		}
		requireSameFailure(t, ns.run(oursBin, opts), ns.run(referenceBin, opts))
	})
}

func TestReachNamespaceAndRootlessCandidates(t *testing.T) {
	requireDaemon(t)
	bins := worldReadableBinaries(t)
	ns := newRunNamespace(t)
	ns.startDaemon(t, namespaceSocket)
	workers := []string{"debug", "workers", "--format", "{{len .}}"}

	t.Run("namespace socket without namespace", func(t *testing.T) {
		ours := ns.run(oursBin, runOptions{Args: workers})
		ref := ns.run(referenceBin, runOptions{Args: workers})
		requireSameFailure(t, ours, ref)
		require.Contains(t, ours.Stderr, "unix://"+defaultSocket+": not found")
		require.Contains(t, ours.Stderr, "unix://"+nerdctlSocket+": not found")
	})

	t.Run("namespace socket found", func(t *testing.T) {
		ours := ns.run(oursBin, runOptions{Args: workers, Env: []string{"CONTAINERD_NAMESPACE=k8s.io"}})
		require.Zero(t, ours.ExitCode, ours.Stderr)
		require.Equal(t, "1\n", ours.Stdout)
	})

	// Moving the socket file keeps the daemon listening under the new name.
	runtimeDir := "/run/user/65534"
	rootlessSocket := runtimeDir + "/buildkit/buildkitd.sock"
	ns.sh(t, fmt.Sprintf("mkdir -p %[1]s/buildkit && chown -R 65534:65534 %[1]s && chmod 0700 %[1]s && mv %s %s && chmod 0666 %[3]s",
		runtimeDir, namespaceSocket, rootlessSocket))
	asNobody := func(bin string, env ...string) result {
		argv := []string{"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "env"}
		argv = append(argv, env...)
		argv = append(argv, bin)
		return ns.run(argv[0], runOptions{Args: append(argv[1:], workers...)})
	}

	t.Run("rootless socket found", func(t *testing.T) {
		ours := asNobody(bins.ours, "XDG_RUNTIME_DIR="+runtimeDir)
		require.Zero(t, ours.ExitCode, ours.Stderr)
		require.Equal(t, "1\n", ours.Stdout)
	})

	t.Run("rootless socket without runtime dir", func(t *testing.T) {
		ours := asNobody(bins.ours, "XDG_RUNTIME_DIR=")
		ref := asNobody(bins.ref, "XDG_RUNTIME_DIR=")
		requireSameFailure(t, ours, ref)
	})

	t.Run("root-owned socket denied", func(t *testing.T) {
		ns.sh(t, fmt.Sprintf("mkdir -p /run/buildkit && chmod 0755 /run/buildkit && mv %s %s && chmod 0660 %[2]s", rootlessSocket, defaultSocket))
		ours := asNobody(bins.ours, "XDG_RUNTIME_DIR="+runtimeDir)
		ref := asNobody(bins.ref, "XDG_RUNTIME_DIR="+runtimeDir)
		requireSameFailure(t, ours, ref)
		require.Contains(t, ours.Stderr, "unix://"+defaultSocket+": permission denied: socket has owner root (0), group root (0), mode 0660")
		require.Contains(t, ours.Stderr, "unix://"+rootlessSocket+": not found")
	})

	t.Run("root-only folder denied", func(t *testing.T) {
		ns.sh(t, "chmod 0770 /run/buildkit")
		ours := asNobody(bins.ours, "XDG_RUNTIME_DIR="+runtimeDir)
		ref := asNobody(bins.ref, "XDG_RUNTIME_DIR="+runtimeDir)
		requireSameFailure(t, ours, ref)
		require.Contains(t, ours.Stderr, "unix://"+defaultSocket+": permission denied: folder /run/buildkit has owner root (0), group root (0), mode 0770")
	})
}

// TestReachConnectionHelpers runs each connection helper against stand-in
// docker, podman, nerdctl, kubectl and ssh commands. Each stand-in logs its
// arguments and runs the "buildctl dial-stdio" part locally, where buildctl
// is our binary and BUILDKIT_HOST names the shared daemon.
func TestReachConnectionHelpers(t *testing.T) {
	requireDaemon(t)
	dir := t.TempDir()
	require.NoError(t, os.Symlink(oursBin, filepath.Join(dir, "buildctl")))
	standIn := `#!/bin/sh
echo "$0 $*" >> ` + filepath.Join(dir, "calls.log") + `
while [ "$#" -gt 0 ] && [ "$1" != buildctl ]; do shift; done
shift
exec "` + oursBin + `" "$@"
`
	for _, name := range []string{"docker", "podman", "nerdctl", "kubectl", "ssh"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(standIn), 0o755))
	}
	sockPath := strings.TrimPrefix(shared.addr, "unix://")

	cases := []struct {
		name string
		addr string
		call string
	}{
		{name: "docker", addr: "docker-container://bk1", call: "docker exec -i bk1 buildctl dial-stdio"},
		{name: "podman", addr: "podman-container://bk2", call: "podman exec -i bk2 buildctl dial-stdio"},
		{name: "nerdctl", addr: "nerdctl-container://bk3?namespace=k8s.io", call: "nerdctl exec --namespace k8s.io -i bk3 buildctl dial-stdio"},
		{name: "kubectl", addr: "kube-pod://bk4?namespace=ci&container=buildkitd", call: "kubectl --context= --namespace=ci exec --container=buildkitd -i bk4 -- buildctl dial-stdio"},
		{name: "ssh", addr: "ssh://builder@bkhost:2222" + sockPath, call: "ssh -l builder -p 2222 -- bkhost buildctl --addr unix://" + sockPath + " dial-stdio"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "calls.log"), nil, 0o644))
			opts := runOptions{
				Args: []string{"--addr", tc.addr, "debug", "workers"},
				Env:  []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "BUILDKIT_HOST=" + shared.addr},
			}
			ours := run(oursBin, opts)
			ref := run(referenceBin, opts)
			requireSameResult(t, ours, ref)
			require.Zero(t, ours.ExitCode, ours.Stderr)

			calls, err := os.ReadFile(filepath.Join(dir, "calls.log"))
			require.NoError(t, err)
			require.Contains(t, string(calls), dir+"/"+tc.call)
		})
	}
}

// tlsFiles are PEM files of a test CA, a server and a client certificate.
type tlsFiles struct {
	dir, caCert, serverCert, serverKey, clientCert, clientKey string
}

func writeTLSFiles(t *testing.T, dir string) tlsFiles {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "buildctl test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	f := tlsFiles{dir: dir, caCert: filepath.Join(dir, "ca.pem")}
	writePEM(t, f.caCert, "CERTIFICATE", caDER)
	issue := func(serial int64, name string, usage x509.ExtKeyUsage) (certPath, keyPath string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		template := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     []string{"buildkitd.test"},
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		keyDER, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		certPath, keyPath = filepath.Join(dir, name+"-cert.pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, certPath, "CERTIFICATE", der)
		writePEM(t, keyPath, "EC PRIVATE KEY", keyDER)
		return certPath, keyPath
	}
	f.serverCert, f.serverKey = issue(2, "server", x509.ExtKeyUsageServerAuth)
	f.clientCert, f.clientKey = issue(3, "client", x509.ExtKeyUsageClientAuth)
	return f
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestReachTCPRefused checks that a TCP port where nothing listens is
// reported as refused, not as a listener of another protocol.
func TestReachTCPRefused(t *testing.T) {
	requireDaemon(t)
	addr := fmt.Sprintf("tcp://127.0.0.1:%d", freeTCPPort(t))
	opts := runOptions{Args: []string{"--addr", addr, "debug", "workers"}}
	ours := run(oursBin, opts)
	ref := run(referenceBin, opts)

	requireSameFailure(t, ours, ref)
	require.Contains(t, ours.Stderr, addr+": connection refused: nothing listens on")
	require.NotContains(t, ours.Stderr, "not a BuildKit daemon")
}

// TestReachSkipsOtherGRPCServer puts a gRPC server without BuildKit's
// services on BuildKit's default socket: discovery must report it as not a
// BuildKit daemon and use the daemon on nerdctl's socket.
func TestReachSkipsOtherGRPCServer(t *testing.T) {
	requireDaemon(t)
	ns := newRunNamespace(t)
	ns.startDaemon(t, nerdctlSocket)
	ns.sh(t, "mkdir -p "+filepath.Dir(defaultSocket))
	// The namespace's /run is reachable from here through the holder's root.
	l, err := net.Listen("unix", fmt.Sprintf("/proc/%d/root%s", ns.holder.Process.Pid, defaultSocket))
	require.NoError(t, err)
	server := grpc.NewServer()
	go server.Serve(l)
	t.Cleanup(server.Stop)

	direct := ns.run(referenceBin, runOptions{Args: []string{"--addr", "unix://" + nerdctlSocket, "debug", "workers"}})
	require.Zero(t, direct.ExitCode, direct.Stderr)
	ours := ns.run(oursBin, runOptions{Args: []string{"--debug", "debug", "workers"}})
	require.Zero(t, ours.ExitCode, ours.Stderr)
	require.Equal(t, direct.Stdout, ours.Stdout)
	require.Contains(t, ours.Stderr, "not a BuildKit daemon")
	require.Contains(t, ours.Stderr, "unknown service")
	require.Contains(t, ours.Stderr, `address="unix://`+nerdctlSocket+`"`)
}

func TestReachTLS(t *testing.T) {
	requireDaemon(t)
	dir := t.TempDir()
	good := writeTLSFiles(t, mkdir(t, filepath.Join(dir, "good")))
	wrong := writeTLSFiles(t, mkdir(t, filepath.Join(dir, "wrong")))

	addr := fmt.Sprintf("tcp://127.0.0.1:%d", freeTCPPort(t))
	launchDaemonAt(t, mkdir(t, filepath.Join(dir, "daemon")), "--addr", addr,
		"--tlscacert", good.caCert, "--tlscert", good.serverCert, "--tlskey", good.serverKey)
	waitForTCP(t, addr)

	tlsDir := mkdir(t, filepath.Join(dir, "tlsdir"))
	for src, name := range map[string]string{good.caCert: "ca.crt", good.clientCert: "tls.crt", good.clientKey: "tls.key"} {
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tlsDir, name), data, 0o600))
	}

	workers := []string{"debug", "workers", "--format", "{{len .}}"}
	clientFlags := []string{"--tlscacert", good.caCert, "--tlscert", good.clientCert, "--tlskey", good.clientKey}
	cases := []struct {
		name string
		args []string
		fail bool
	}{
		{name: "files", args: clientFlags},
		{name: "tlsdir", args: []string{"--tlsdir", tlsDir}},
		{name: "server name", args: append([]string{"--tlsservername", "buildkitd.test"}, clientFlags...)},
		{name: "wrong server name", args: append([]string{"--tlsservername", "other.test"}, clientFlags...), fail: true},
		{name: "wrong CA", args: []string{"--tlscacert", wrong.caCert, "--tlscert", good.clientCert, "--tlskey", good.clientKey}, fail: true},
		{name: "no client certificate", args: []string{"--tlscacert", good.caCert}, fail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := runOptions{Args: append(append([]string{"--addr", addr}, tc.args...), workers...)}
			ours := run(oursBin, opts)
			ref := run(referenceBin, opts)
			if !tc.fail {
				requireSameResult(t, ours, ref)
				require.Zero(t, ours.ExitCode, ours.Stderr)
				require.Equal(t, "1\n", ours.Stdout)
				return
			}
			requireSameResult(t, ours, ref)
			require.NotZero(t, ours.ExitCode)
			if tc.name == "wrong CA" {
				require.Equal(t, headLine(ref.Stderr), headLine(ours.Stderr))
				require.Contains(t, headLine(ours.Stderr), "certificate signed by unknown authority")
			}
			require.Contains(t, ours.Stderr, addr+": TLS handshake failed")
			require.NotContains(t, ours.Stderr, "not a BuildKit daemon")
		})
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	return dir
}

func waitForTCP(t *testing.T, addr string) {
	t.Helper()
	hostPort := strings.TrimPrefix(addr, "tcp://")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", hostPort)
		if err == nil {
			c.Close()
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("buildkitd did not listen on %s: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestReachDialStdioErrors(t *testing.T) {
	requireDaemon(t)
	dir := t.TempDir()
	staleSocket(t, filepath.Join(dir, "stale.sock"))
	cases := []struct {
		name string
		addr string
	}{
		{name: "missing socket", addr: "unix://" + filepath.Join(dir, "missing.sock")},
		{name: "stale socket", addr: "unix://" + filepath.Join(dir, "stale.sock")},
		{name: "unsupported scheme", addr: "docker-container://bk"},
		{name: "no scheme", addr: "bk.sock"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := runOptions{Args: []string{"--addr", tc.addr, "dial-stdio"}, Stdin: strings.NewReader("")}
			requireSameFailure(t, run(oursBin, opts), run(referenceBin, opts))
		})
	}
}

// TestReachNamespaceFallbackFollowsNerdctl starts separate daemons on
// nerdctl's socket and on BuildKit's default socket. nerdctl probes a
// missing namespace socket, then nerdctl's socket; a fallback from the
// namespace socket must land on the daemon nerdctl would pick next.
func TestReachNamespaceFallbackFollowsNerdctl(t *testing.T) {
	requireDaemon(t)
	ns := newRunNamespace(t)
	ns.startDaemon(t, nerdctlSocket)
	ns.startDaemon(t, defaultSocket)

	workerID := func(bin, addr string) string {
		t.Helper()
		res := ns.run(bin, runOptions{Args: []string{"--addr=" + addr, "debug", "workers", "--format", "{{range .}}{{.ID}}{{end}}"}})
		require.Equal(t, 0, res.ExitCode, "%s at %s: %s", bin, addr, res.Stderr)
		return res.Stdout
	}
	nerdctlDaemon := workerID(referenceBin, "unix://"+nerdctlSocket)
	defaultDaemon := workerID(referenceBin, "unix://"+defaultSocket)
	require.NotEqual(t, nerdctlDaemon, defaultDaemon, "the two daemons must be distinct")

	ref := ns.run(referenceBin, runOptions{Args: []string{"--addr=unix://" + namespaceSocket, "debug", "workers"}})
	require.Equal(t, 1, ref.ExitCode, "the reference must fail on the missing namespace socket")

	require.Equal(t, nerdctlDaemon, workerID(oursBin, "unix://"+namespaceSocket),
		"ours fell back to another daemon than nerdctl's next candidate")
	require.Equal(t, defaultDaemon, workerID(oursBin, "unix://"+defaultSocket),
		"a live default socket must be used as given")
}
