package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Targets for ours/reference, from the project's performance requirements.
const (
	fastPathTarget = 0.8  // wall time of --version and debug workers
	wallTarget     = 1.0  // wall time of every other workload
	memoryTarget   = 0.75 // peak memory of every workload
	sizeTarget     = 0.75 // size of the stripped binary
)

// workload is one thing timed for ours and the reference.
type workload struct {
	name string
	// args are the buildctl arguments after the binary, as shown in the
	// report; the daemon address is written as ADDR.
	args       []string
	wallTarget float64
	// prepare runs once, untimed, before the series.
	prepare func() error
	// reset runs untimed before every run, including the warm-up runs.
	reset func() error
}

// config holds the binaries, daemon address and context sizes of a bench run.
type config struct {
	ours, reference string
	addr            string
	workDir         string
	files           int
	totalBytes      int64
	runs            int
}

// buildArgs returns the arguments of a Dockerfile build of dir that exports
// nothing, so the time is the transfer and the solve.
func buildArgs(dir string, extra ...string) []string {
	args := []string{
		"build", "--progress", "plain",
		"--frontend", "dockerfile.v0",
		"--local", "context=" + dir,
		"--local", "dockerfile=" + dir,
	}
	return append(args, extra...)
}

func workloads(c config) ([]workload, error) {
	tiny := filepath.Join(c.workDir, "tiny")
	if err := writeTinyContext(tiny); err != nil {
		return nil, err
	}
	large := filepath.Join(c.workDir, "large")
	if err := writeLargeContext(large, c.files, c.totalBytes); err != nil {
		return nil, err
	}

	// prune --all removes the build results and the daemon's copy of the
	// transferred context, so every cold build sends the whole context.
	prune := func() error {
		_, err := measure(invocation{bin: c.reference, args: []string{"--addr", c.addr, "prune", "--all"}})
		return err
	}
	warmUp := func() error {
		for _, bin := range []string{c.ours, c.reference} {
			if _, err := measure(invocation{bin: bin, args: append([]string{"--addr", c.addr}, buildArgs(large)...)}); err != nil {
				return err
			}
		}
		return nil
	}

	return []workload{
		{name: "startup", args: []string{"--version"}, wallTarget: fastPathTarget},
		{name: "debug workers", args: []string{"--addr", "ADDR", "debug", "workers"}, wallTarget: fastPathTarget},
		{name: "tiny build", args: append([]string{"--addr", "ADDR"}, buildArgs(tiny)...), wallTarget: wallTarget},
		{name: "du", args: []string{"--addr", "ADDR", "du"}, wallTarget: wallTarget},
		{
			name:       "cold build",
			args:       append([]string{"--addr", "ADDR"}, buildArgs(large, "--no-cache")...),
			wallTarget: wallTarget,
			reset:      prune,
		},
		{
			name:       "warm build",
			args:       append([]string{"--addr", "ADDR"}, buildArgs(large)...),
			wallTarget: wallTarget,
			prepare:    warmUp,
		},
	}, nil
}

func writeTinyContext(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello.txt /\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644)
}

// writeLargeContext writes files files of pseudo-random content, totalBytes
// in all, spread over 100 folders, and a Dockerfile that copies them. The
// content is random so that no layer of the transfer can shortcut it.
func writeLargeContext(dir string, files int, totalBytes int64) error {
	const folders = 100
	if files < 1 {
		return fmt.Errorf("the large context needs at least one file, got %d", files)
	}
	rng := rand.NewChaCha8([32]byte{})
	size := totalBytes / int64(files)
	buf := make([]byte, size)
	for i := 0; i < files; i++ {
		sub := filepath.Join(dir, "data", fmt.Sprintf("d%03d", i%folders))
		if i < folders {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return err
			}
		}
		_, _ = rng.Read(buf)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d.bin", i)), buf, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY data /data\n"), 0o644)
}
