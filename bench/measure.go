package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// invocation is one buildctl command line to time.
type invocation struct {
	bin  string
	args []string
	// env is added to the bench's own environment, from which BUILDKIT_HOST,
	// BUILDKIT_PROGRESS and OTEL_* are removed.
	env []string
}

// sample is the cost of one run of an invocation.
type sample struct {
	Wall time.Duration
	// MaxRSS is the peak resident set size of the process, in KiB, as
	// reported by wait4.
	MaxRSS int64
}

// runTimeout bounds one timed run; the cold build of the large context is the
// slowest workload by far.
const runTimeout = 5 * time.Minute

// measure runs inv once and returns its wall time and peak memory. A non-zero
// exit is an error, because a failing command would time something else.
func measure(inv invocation) (sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, inv.bin, inv.args...)
	cmd.Env = append(cleanEnv(), inv.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s %s: %w\n%s", inv.bin, strings.Join(inv.args, " "), err, tail(stderr.String(), 2000))
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, fmt.Errorf("%s: no resource usage reported", inv.bin)
	}
	return sample{Wall: wall, MaxRSS: usage.Maxrss}, nil
}

// cleanEnv returns the environment without variables that would change what
// buildctl does or where it sends traces.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "BUILDKIT_HOST", name == "BUILDKIT_PROGRESS", name == "CONTAINERD_NAMESPACE",
			name == "BUILDCTL_NO_FALLBACK", strings.HasPrefix(name, "OTEL_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// variant is one side of a comparison: a name ("ours", "reference") and the
// command line it runs.
type variant struct {
	name string
	inv  invocation
}

// series runs every variant runs times, rotating which variant goes first in
// each round so that neither always runs right after the reset or right
// after the other. reset, when not nil, runs untimed before every timed run.
// One untimed run of each variant comes first, to load the binaries into the
// page cache.
func series(variants []variant, runs int, reset func() error) (map[string][]sample, error) {
	for _, v := range variants {
		if reset != nil {
			if err := reset(); err != nil {
				return nil, err
			}
		}
		if _, err := measure(v.inv); err != nil {
			return nil, err
		}
	}

	samples := make(map[string][]sample, len(variants))
	for round := 0; round < runs; round++ {
		for i := range variants {
			v := variants[(round+i)%len(variants)]
			if reset != nil {
				if err := reset(); err != nil {
					return nil, err
				}
			}
			s, err := measure(v.inv)
			if err != nil {
				return nil, err
			}
			samples[v.name] = append(samples[v.name], s)
		}
	}
	return samples, nil
}

// summary holds the medians of a series of samples.
type summary struct {
	Wall   time.Duration
	MaxRSS int64
	Runs   int
}

func summarize(samples []sample) summary {
	walls := make([]time.Duration, len(samples))
	rss := make([]int64, len(samples))
	for i, s := range samples {
		walls[i] = s.Wall
		rss[i] = s.MaxRSS
	}
	return summary{Wall: median(walls), MaxRSS: median(rss), Runs: len(samples)}
}

// median returns the middle value, or the mean of the two middle values for
// an even count. It returns zero for no values.
func median[T ~int64](values []T) T {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}
