package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// daemon is the buildkitd the bench starts for itself.
type daemon struct {
	// socketDir contains the socket, named buildkitd.sock as discovery
	// expects, so the folder can be bind-mounted over a discovery path.
	socketDir string
	addr      string
	logPath   string
	cmd       *exec.Cmd
}

// startDaemon starts buildkitd with its root, socket and log under dir and
// waits until reference lists its workers. Only the OCI worker runs, so the
// daemon needs runc but no containerd.
func startDaemon(buildkitd, reference, dir string) (*daemon, error) {
	d := &daemon{
		socketDir: filepath.Join(dir, "socket"),
		logPath:   filepath.Join(dir, "buildkitd.log"),
	}
	d.addr = "unix://" + filepath.Join(d.socketDir, "buildkitd.sock")
	if err := os.MkdirAll(d.socketDir, 0o700); err != nil {
		return nil, err
	}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	d.cmd = exec.Command(buildkitd,
		"--addr", d.addr,
		"--root", filepath.Join(dir, "root"),
		"--oci-worker=true",
		"--containerd-worker=false",
	)
	d.cmd.Env = cleanEnv()
	d.cmd.Stdout = logFile
	d.cmd.Stderr = logFile
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", buildkitd, err)
	}

	ready := invocation{bin: reference, args: []string{"--addr", d.addr, "debug", "workers"}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := measure(ready)
		if err == nil {
			return d, nil
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("buildkitd at %s did not respond within 60s (log: %s): %w", d.addr, d.logPath, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop sends SIGTERM to the daemon and waits up to 30 seconds before SIGKILL.
func (d *daemon) stop() {
	done := make(chan struct{})
	go func() {
		_ = d.cmd.Wait()
		close(done)
	}()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}
