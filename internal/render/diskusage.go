package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/moby/buildkit/client"
)

// DiskUsageOptions selects the du layout.
type DiskUsageOptions struct {
	// Verbose writes one block of "Key: value" lines per record instead of a
	// table row.
	Verbose bool
	// Summary appends the Reclaimable and Total lines, preceded by Shared
	// and Private when some records are shared. buildctl omits them when
	// --filter is given.
	Summary bool
}

// DiskUsage writes records as du prints them without --format. Write errors
// are ignored.
func DiskUsage(w io.Writer, records []*client.UsageInfo, opts DiskUsageOptions) {
	tw := newTabWriter(w)
	if opts.Verbose {
		for _, r := range records {
			writeUsageBlock(tw, r)
		}
	} else {
		writeUsageHeader(tw)
		for _, r := range records {
			writeUsageRow(tw, r)
		}
	}
	_ = tw.Flush()
	if opts.Summary {
		writeUsageSummary(tw, records)
	}
}

func writeUsageHeader(w io.Writer) {
	fmt.Fprintln(w, "ID\tRECLAIMABLE\tSIZE\tLAST ACCESSED")
}

// writeUsageRow writes one table row. Mutable records get "*" after the ID
// and shared ones "*" after the size. The ID cell is padded to 71 characters
// so that rows flushed one at a time, as prune does, still line up.
// The LAST ACCESSED column stays empty, as in buildctl v0.34.2.
func writeUsageRow(w io.Writer, r *client.UsageInfo) {
	id := r.ID
	if r.Mutable {
		id += "*"
	}
	size := formatSize(r.Size)
	if r.Shared {
		size += "*"
	}
	fmt.Fprintf(w, "%-71s\t%-11v\t%s\t\n", id, !r.InUse, size)
}

// writeUsageBlock writes one record as "Key:\tvalue" lines and a blank line.
// Parents, Description, Last used and Type are left out when empty.
func writeUsageBlock(w io.Writer, r *client.UsageInfo) {
	field := func(key string, value any) {
		fmt.Fprintf(w, "%s:\t%v\n", key, value)
	}
	field("ID", r.ID)
	if len(r.Parents) > 0 {
		field("Parents", strings.Join(r.Parents, ";"))
	}
	field("Created at", r.CreatedAt)
	field("Mutable", r.Mutable)
	field("Reclaimable", !r.InUse)
	field("Shared", r.Shared)
	field("Size", formatSize(r.Size))
	if r.Description != "" {
		field("Description", r.Description)
	}
	field("Usage count", r.UsageCount)
	if r.LastUsedAt != nil {
		field("Last used", r.LastUsedAt)
	}
	if r.RecordType != "" {
		field("Type", r.RecordType)
	}
	fmt.Fprint(w, "\n")
}

// writeUsageSummary writes the totals. Total and Reclaimable count only
// positive sizes, while Shared adds every shared record's size as reported.
func writeUsageSummary(tw *tabwriter.Writer, records []*client.UsageInfo) {
	var total, reclaimable, shared int64
	for _, r := range records {
		if r.Size > 0 {
			total += r.Size
			if !r.InUse {
				reclaimable += r.Size
			}
		}
		if r.Shared {
			shared += r.Size
		}
	}
	if shared > 0 {
		fmt.Fprintf(tw, "Shared:\t%s\n", formatSize(shared))
		fmt.Fprintf(tw, "Private:\t%s\n", formatSize(total-shared))
	}
	fmt.Fprintf(tw, "Reclaimable:\t%s\n", formatSize(reclaimable))
	fmt.Fprintf(tw, "Total:\t%s\n", formatSize(total))
	_ = tw.Flush()
}
