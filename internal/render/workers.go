package render

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Workers writes the workers as debug workers prints them without --format:
// an ID and PLATFORMS table, or with verbose one block per worker. Write
// errors are ignored.
func Workers(w io.Writer, workers []*client.WorkerInfo, verbose bool) {
	tw := newTabWriter(w)
	if verbose {
		for _, wi := range workers {
			writeWorkerBlock(tw, wi)
		}
		_ = tw.Flush()
		return
	}

	fmt.Fprintln(tw, "ID\tPLATFORMS")
	for _, wi := range workers {
		fmt.Fprintf(tw, "%s\t%s\n", wi.ID, joinPlatforms(wi.Platforms))
	}
	_ = tw.Flush()
}

// writeWorkerBlock writes the identity, labels (sorted by key), CDI devices
// and GC policy rules of one worker, followed by a blank line. GC policy
// values that are zero are left out.
func writeWorkerBlock(w io.Writer, wi *client.WorkerInfo) {
	v := wi.BuildkitVersion
	fmt.Fprintf(w, "ID:\t%s\n", wi.ID)
	fmt.Fprintf(w, "Platforms:\t%s\n", joinPlatforms(wi.Platforms))
	fmt.Fprintf(w, "BuildKit:\t%s %s %s\n", v.Package, v.Version, v.Revision)
	if v.DockerfileVersion != "" {
		fmt.Fprintf(w, "Dockerfile:\t%s\n", v.DockerfileVersion)
	}

	fmt.Fprint(w, "Labels:\n")
	for _, k := range slices.Sorted(maps.Keys(wi.Labels)) {
		fmt.Fprintf(w, "\t%s:\t%s\n", k, wi.Labels[k])
	}

	writeCDIDevices(w, wi.CDIDevices)
	for i, rule := range wi.GCPolicy {
		writeGCRule(w, i, rule)
	}
	fmt.Fprint(w, "\n")
}

// writeCDIDevices lists the devices a worker offers. An on-demand device
// shows OnDemand, any other shows whether it is allowed without a request.
func writeCDIDevices(w io.Writer, devices []client.CDIDevice) {
	if len(devices) == 0 {
		return
	}
	fmt.Fprint(w, "Devices:\n")
	for _, d := range devices {
		fmt.Fprintf(w, "\tName:\t%s\n", d.Name)
		if d.OnDemand {
			fmt.Fprintf(w, "\tOnDemand:\t%v\n", d.OnDemand)
		} else {
			fmt.Fprintf(w, "\tAutoAllow:\t%v\n", d.AutoAllow)
		}
		for _, k := range slices.Sorted(maps.Keys(d.Annotations)) {
			fmt.Fprintf(w, "\tAnnotations:\t%s:\t%s\n", k, d.Annotations[k])
		}
	}
	fmt.Fprint(w, "\n")
}

func writeGCRule(w io.Writer, index int, rule client.PruneInfo) {
	fmt.Fprintf(w, "GC Policy rule#%d:\n", index)
	fmt.Fprintf(w, "\tAll:\t%v\n", rule.All)
	if len(rule.Filter) > 0 {
		fmt.Fprintf(w, "\tFilters:\t%s\n", strings.Join(rule.Filter, " "))
	}
	if rule.KeepDuration > 0 {
		fmt.Fprintf(w, "\tKeep duration:\t%s\n", rule.KeepDuration)
	}
	if rule.ReservedSpace > 0 {
		fmt.Fprintf(w, "\tReserved space:\t%s\n", formatSpace(rule.ReservedSpace))
	}
	if rule.MinFreeSpace > 0 {
		fmt.Fprintf(w, "\tMinimum free space:\t%s\n", formatSpace(rule.MinFreeSpace))
	}
	if rule.MaxUsedSpace > 0 {
		fmt.Fprintf(w, "\tMaximum used space:\t%s\n", formatSpace(rule.MaxUsedSpace))
	}
}

// joinPlatforms formats each platform in normalized os/arch[/variant] form,
// comma-separated.
func joinPlatforms(ps []ocispecs.Platform) string {
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, platforms.Format(platforms.Normalize(p)))
	}
	return strings.Join(names, ",")
}
