package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Markers around the part of the benchmark page that the bench rewrites.
const (
	sectionStart = "<!-- bench results: start -->"
	sectionEnd   = "<!-- bench results: end -->"
)

// row is the result of one workload.
type row struct {
	name       string
	args       []string
	wallTarget float64
	ours, ref  summary
}

// report collects the results and the facts about the run.
type report struct {
	command string
	// workDir is the bench's temporary folder, shown as WORKDIR.
	workDir string
	runs    int
	files   int
	sizeMiB int64

	rows      []row
	discovery map[string][]sample

	machine           string
	buildkit          string
	goVersion         string
	oursSize, refSize int64
	date              string
}

func (r *report) add(w workload, samples map[string][]sample) {
	r.rows = append(r.rows, row{
		name:       w.name,
		args:       w.args,
		wallTarget: w.wallTarget,
		ours:       summarize(samples["ours"]),
		ref:        summarize(samples["reference"]),
	})
}

// describe records the machine, the versions and the binary sizes.
func (r *report) describe(o options) error {
	for _, b := range []struct {
		path string
		size *int64
	}{{o.ours, &r.oursSize}, {o.reference, &r.refSize}} {
		fi, err := os.Stat(b.path)
		if err != nil {
			return err
		}
		*b.size = fi.Size()
	}
	if info, err := buildinfo.ReadFile(o.ours); err == nil {
		r.goVersion = info.GoVersion
	}
	out, err := exec.Command(o.reference, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %w", o.reference, err)
	}
	r.buildkit = strings.TrimSpace(string(out))
	if o.buildkitVersion != "" {
		r.buildkit = "BuildKit " + o.buildkitVersion
	}
	r.machine = machineDescription()
	r.date = time.Now().UTC().Format("2006-01-02")
	return nil
}

func machineDescription() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	memory := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kib); err == nil {
			memory = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
		}
	}
	kernel := "unknown"
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(data))
	}
	return fmt.Sprintf("%d CPUs (%s), %s memory, Linux %s", runtime.NumCPU(), cpu, memory, kernel)
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", sectionStart)
	fmt.Fprintf(&b, "Measured on %s with `make bench`, which runs\n`%s`.\n\n", r.date, r.command)
	fmt.Fprintf(&b, "- Machine: %s.\n", r.machine)
	fmt.Fprintf(&b, "- Toolchain: %s for both binaries; reference and daemon: %s.\n", r.goVersion, r.buildkit)
	fmt.Fprintf(&b, "- %d timed runs per binary and workload, alternating, after one untimed run of each.\n", r.runs)
	fmt.Fprintf(&b, "- Large context: %d files, %d MiB of random bytes.\n\n", r.files, r.sizeMiB)

	b.WriteString("| Workload | Ours | Reference | Ratio | Target | Ours peak RSS | Reference peak RSS | Ratio | Target |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range r.rows {
		wallRatio := ratio(int64(row.ours.Wall), int64(row.ref.Wall))
		rssRatio := ratio(row.ours.MaxRSS, row.ref.MaxRSS)
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s | %s | %s | %.2f | %s |\n",
			row.name, millis(row.ours.Wall), millis(row.ref.Wall), wallRatio, verdict(wallRatio, row.wallTarget),
			mebibytes(row.ours.MaxRSS), mebibytes(row.ref.MaxRSS), rssRatio, verdict(rssRatio, memoryTarget))
	}
	sizeRatio := ratio(r.oursSize, r.refSize)
	fmt.Fprintf(&b, "| binary size | %.1f MB | %.1f MB | %.2f | %s | | | | |\n\n",
		float64(r.oursSize)/1e6, float64(r.refSize)/1e6, sizeRatio, verdict(sizeRatio, sizeTarget))

	if r.discovery != nil {
		r.writeDiscovery(&b)
	}

	b.WriteString("Commands (ADDR is the bench's daemon socket, WORKDIR its temporary folder):\n\n")
	for _, row := range r.rows {
		args := strings.ReplaceAll(strings.Join(row.args, " "), r.workDir, "WORKDIR")
		fmt.Fprintf(&b, "- %s: `buildctl %s`\n", row.name, args)
	}
	fmt.Fprintf(&b, "- discovery: `CONTAINERD_NAMESPACE=%s buildctl debug workers` against "+
		"`buildctl --addr %s debug workers`\n", discoveryNamespace, discoveryAddr)
	fmt.Fprintf(&b, "%s\n", sectionEnd)
	return b.String()
}

func (r *report) writeDiscovery(b *strings.Builder) {
	disc := summarize(r.discovery[oursDiscovery])
	direct := summarize(r.discovery[oursDirect])
	ref := summarize(r.discovery[refDirect])
	fmt.Fprintf(b, "Discovery, skipping two missing sockets (`/run/buildkit`, `/run/buildkit-%s`) "+
		"before the daemon at `%s`, in a mount namespace with an empty tmpfs on `/run`:\n\n",
		discoveryNamespace, discoveryDir)
	b.WriteString("| Variant | Wall | Peak RSS | Ours with discovery / this | Target |\n")
	b.WriteString("|---|--:|--:|--:|--:|\n")
	fmt.Fprintf(b, "| %s | %s | %s | | |\n", oursDiscovery, millis(disc.Wall), mebibytes(disc.MaxRSS))
	directRatio := ratio(int64(disc.Wall), int64(direct.Wall))
	fmt.Fprintf(b, "| %s | %s | %s | %.2f | |\n", oursDirect, millis(direct.Wall), mebibytes(direct.MaxRSS), directRatio)
	refRatio := ratio(int64(disc.Wall), int64(ref.Wall))
	fmt.Fprintf(b, "| %s | %s | %s | %.2f | %s |\n\n", refDirect, millis(ref.Wall), mebibytes(ref.MaxRSS), refRatio, verdict(refRatio, wallTarget))
}

func ratio(ours, ref int64) float64 {
	if ref == 0 {
		return 0
	}
	return float64(ours) / float64(ref)
}

func verdict(ratio, target float64) string {
	if ratio <= target {
		return fmt.Sprintf("≤ %.2f met", target)
	}
	return fmt.Sprintf("≤ %.2f **missed**", target)
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mebibytes(kib int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

// replaceSection writes text over the part of the file at path between the
// result markers, keeping everything around it. The markers must exist.
func replaceSection(path, text string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	start := bytes.Index(data, []byte(sectionStart))
	end := bytes.Index(data, []byte(sectionEnd))
	if start < 0 || end < start {
		return fmt.Errorf("%s: markers %q and %q not found in order", path, sectionStart, sectionEnd)
	}
	end += len(sectionEnd) + 1
	if end > len(data) {
		end = len(data)
	}
	var out bytes.Buffer
	out.Write(data[:start])
	out.WriteString(text)
	out.Write(data[end:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}
