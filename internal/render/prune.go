package render

import (
	"fmt"
	"io"
	"text/template"

	"github.com/moby/buildkit/client"
)

// PrunePrinter writes records as prune deletes them, one at a time, so that
// each record reaches the reader of the output while the prune runs.
//
// With a template, each record is rendered on its own and followed by a
// newline: "{{json .}}" yields one JSON object per line, the stream nerdctl
// decodes. Without one, records form a table (or -v blocks) and Finish
// appends the Total line.
type PrunePrinter struct {
	w       io.Writer
	tmpl    *template.Template
	verbose bool

	headerWritten bool
	total         int64
}

// NewPrunePrinter returns a printer writing to w. A nil tmpl selects the
// table, or the -v blocks when verbose is set. verbose is ignored with a
// template.
func NewPrunePrinter(w io.Writer, tmpl *template.Template, verbose bool) *PrunePrinter {
	return &PrunePrinter{w: w, tmpl: tmpl, verbose: verbose}
}

// Print writes one pruned record. Unlike du, the template receives a single
// client.UsageInfo, not a slice. Only template output returns write errors,
// because table write errors are ignored.
func (p *PrunePrinter) Print(r client.UsageInfo) error {
	if p.tmpl != nil {
		return ExecuteTemplate(p.w, p.tmpl, r)
	}

	p.total += r.Size
	tw := newTabWriter(p.w)
	if p.verbose {
		writeUsageBlock(tw, &r)
		_ = tw.Flush()
		return nil
	}
	if !p.headerWritten {
		writeUsageHeader(tw)
		p.headerWritten = true
	}
	writeUsageRow(tw, &r)
	_ = tw.Flush()
	return nil
}

// Finish writes the "Total:" line with the summed size of all printed
// records, "0B" when none was pruned. It writes nothing with a template.
// Write errors are ignored.
func (p *PrunePrinter) Finish() {
	if p.tmpl != nil {
		return
	}
	tw := newTabWriter(p.w)
	fmt.Fprintf(tw, "Total:\t%s\n", formatSize(p.total))
	_ = tw.Flush()
}
