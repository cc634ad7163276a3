// Command bench times our buildctl against BuildKit's buildctl of the same
// version on one buildkitd that it starts itself, and writes the medians and
// the ratios ours/reference as Markdown.
//
// It needs root (buildkitd with the OCI worker, and a mount namespace for the
// discovery workload), runc, and binaries built with the same flags. "make
// bench" builds them and runs it through bench/run.sh. It sends traffic only
// to the daemon it starts, and the builds use "FROM scratch" so the daemon
// pulls nothing.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		if err := discoveryChild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command-line flags of the bench.
type options struct {
	ours, reference, buildkitd string
	runs                       int
	files                      int
	sizeMiB                    int64
	doc                        string
	only                       string
	// buildkitVersion labels the reference and the daemon in the report,
	// because "make reference" builds them without version information.
	buildkitVersion string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.ours, "ours", "bin/buildctl", "our buildctl, built by make build")
	fs.StringVar(&o.reference, "reference", "", "BuildKit's buildctl, built by make reference (required)")
	fs.StringVar(&o.buildkitd, "buildkitd", "", "buildkitd of the same BuildKit version (required)")
	fs.IntVar(&o.runs, "runs", 7, "timed runs of each binary per workload")
	fs.IntVar(&o.files, "files", 10000, "number of files in the large build context")
	fs.Int64Var(&o.sizeMiB, "size-mib", 500, "total size of the large build context, in MiB")
	fs.StringVar(&o.doc, "doc", "", "Markdown file whose results section is replaced; empty writes to stdout only")
	fs.StringVar(&o.buildkitVersion, "buildkit-version", "", "BuildKit version of -reference and -buildkitd, for the report")
	fs.StringVar(&o.only, "only", "", "comma-separated workload names to run (default all), for trying changes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.reference == "" || o.buildkitd == "" {
		return o, fmt.Errorf("-reference and -buildkitd are required")
	}
	if o.runs < 1 {
		return o, fmt.Errorf("-runs must be at least 1, got %d", o.runs)
	}
	for _, p := range []*string{&o.ours, &o.reference, &o.buildkitd} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return o, err
		}
		if _, err := os.Stat(abs); err != nil {
			return o, err
		}
		*p = abs
	}
	return o, nil
}

func run(args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	selected := func(name string) bool {
		return o.only == "" || slices.Contains(strings.Split(o.only, ","), name)
	}

	workDir, err := os.MkdirTemp("", "buildctl-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(workDir)

	d, err := startDaemon(o.buildkitd, o.reference, filepath.Join(workDir, "daemon"))
	if err != nil {
		return err
	}
	defer d.stop()

	c := config{
		ours:       o.ours,
		reference:  o.reference,
		addr:       d.addr,
		workDir:    workDir,
		files:      o.files,
		totalBytes: o.sizeMiB << 20,
		runs:       o.runs,
	}
	list, err := workloads(c)
	if err != nil {
		return err
	}

	rep := report{command: "go run ./bench " + strings.Join(args, " "), workDir: workDir, runs: o.runs, files: o.files, sizeMiB: o.sizeMiB}
	for _, w := range list {
		if !selected(w.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s\n", w.name)
		samples, err := runWorkload(c, w)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		rep.add(w, samples)
	}
	if selected("discovery") {
		fmt.Fprintln(os.Stderr, "bench: discovery")
		samples, err := runDiscovery(c, d.socketDir)
		if err != nil {
			return err
		}
		rep.discovery = samples
	}
	if err := rep.describe(o); err != nil {
		return err
	}

	text := rep.markdown()
	if _, err := io.WriteString(stdout, text); err != nil {
		return err
	}
	if o.doc != "" {
		return replaceSection(o.doc, text)
	}
	return nil
}

func runWorkload(c config, w workload) (map[string][]sample, error) {
	if w.prepare != nil {
		if err := w.prepare(); err != nil {
			return nil, err
		}
	}
	variants := make([]variant, 0, 2)
	for _, side := range []struct{ name, bin string }{{"ours", c.ours}, {"reference", c.reference}} {
		args := slices.Clone(w.args)
		for i, a := range args {
			if a == "ADDR" {
				args[i] = c.addr
			}
		}
		variants = append(variants, variant{name: side.name, inv: invocation{bin: side.bin, args: args}})
	}
	return series(variants, c.runs, w.reset)
}
