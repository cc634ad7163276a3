package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// The discovery workload runs in a private mount namespace with an empty
// tmpfs on /run, so that no socket of the host interferes. With
// CONTAINERD_NAMESPACE=bench, discovery as root tries /run/buildkit,
// /run/buildkit-bench and /run/buildkit-default in that order (see
// internal/address.Candidates). The bench's daemon socket folder is
// bind-mounted on /run/buildkit-default, so discovery skips two missing
// sockets before it reaches the daemon.
const (
	discoveryNamespace = "bench"
	discoveryDir       = "/run/buildkit-default"
	discoveryAddr      = "unix://" + discoveryDir + "/buildkitd.sock"

	// Names of the variants of the discovery workload.
	oursDiscovery = "ours, discovery"
	oursDirect    = "ours, --addr"
	refDirect     = "reference, --addr"
)

// childFlag makes the bench binary run the discovery series inside the mount
// namespace its parent created, and print the samples as JSON.
const childFlag = "-discovery-child"

// runDiscovery re-executes the bench binary in a new mount namespace and
// returns the samples it measured there.
func runDiscovery(c config, socketDir string) (map[string][]sample, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, childFlag, c.ours, c.reference, socketDir, strconv.Itoa(c.runs))
	cmd.Env = cleanEnv()
	// Go makes the mounts of the new namespace private before exec, so the
	// tmpfs on /run stays invisible to the rest of the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("discovery workload in a mount namespace: %w\n%s", err, stderr.String())
	}
	var samples map[string][]sample
	if err := json.Unmarshal(stdout.Bytes(), &samples); err != nil {
		return nil, fmt.Errorf("decode discovery samples: %w", err)
	}
	return samples, nil
}

// discoveryChild is the body of the re-executed bench binary. args are ours,
// reference, the daemon's socket folder and the number of runs.
func discoveryChild(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("%s needs 4 arguments, got %d", childFlag, len(args))
	}
	ours, reference, socketDir := args[0], args[1], args[2]
	runs, err := strconv.Atoi(args[3])
	if err != nil {
		return fmt.Errorf("invalid run count %q: %w", args[3], err)
	}

	if err := syscall.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on /run: %w", err)
	}
	if err := os.MkdirAll(discoveryDir, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount(socketDir, discoveryDir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mount %s on %s: %w", socketDir, discoveryDir, err)
	}
	for _, missing := range []string{"/run/buildkit", "/run/buildkit-" + discoveryNamespace} {
		if _, err := os.Stat(filepath.Join(missing, "buildkitd.sock")); !os.IsNotExist(err) {
			return fmt.Errorf("%s/buildkitd.sock should be missing in the namespace: %v", missing, err)
		}
	}

	variants := []variant{
		{name: oursDiscovery, inv: invocation{
			bin:  ours,
			args: []string{"debug", "workers"},
			env:  []string{"CONTAINERD_NAMESPACE=" + discoveryNamespace},
		}},
		{name: oursDirect, inv: invocation{bin: ours, args: []string{"--addr", discoveryAddr, "debug", "workers"}}},
		{name: refDirect, inv: invocation{bin: reference, args: []string{"--addr", discoveryAddr, "debug", "workers"}}},
	}
	samples, err := series(variants, runs, nil)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(samples)
}
