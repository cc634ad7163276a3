package history

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Table writes build-history events as a tab-aligned table. Each row is
// flushed as soon as it is written, so that a long listing appears while it
// streams. As in BuildKit's buildctl, that makes the header line up with the
// first row only, and every later row is padded on its own.
type Table struct {
	tw *tabwriter.Writer
	// pinned adds the PINNED column, marked "*" for pinned records.
	pinned bool
}

// NewListTable returns the table of "debug histories", with a PINNED column.
func NewListTable(w io.Writer) *Table {
	return newTable(w, true)
}

// NewPruneTable returns the table of "prune-histories", without the PINNED
// column because pinned records are never pruned.
func NewPruneTable(w io.Writer) *Table {
	return newTable(w, false)
}

func newTable(w io.Writer, pinned bool) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 1, 8, 1, '\t', 0), pinned: pinned}
	header := "TYPE\tREF\tCREATED\tCOMPLETED\tGENERATION"
	if pinned {
		header += "\tPINNED"
	}
	fmt.Fprintln(t.tw, header)
	return t
}

// Write adds one row. An event without a record gets empty cells and
// generation 0. Write errors of the underlying writer are ignored, as in
// BuildKit v0.34.2's buildctl, so the listing or pruning goes on when stdout
// is full or closed, and Write always returns nil.
func (t *Table) Write(ev *controlapi.BuildHistoryEvent) error {
	var (
		ref, created, completed, pinned string
		generation                      int32
	)
	if r := ev.Record; r != nil {
		ref = r.Ref
		created = formatTime(r.CreatedAt)
		completed = formatTime(r.CompletedAt)
		generation = r.Generation
		if r.Pinned {
			pinned = "*"
		}
	}
	row := fmt.Sprintf("%s\t%s\t%s\t%s\t%d", ev.Type, ref, created, completed, generation)
	if t.pinned {
		row += "\t" + pinned
	}
	fmt.Fprintln(t.tw, row)
	_ = t.tw.Flush()
	return nil
}

// Close writes what is still buffered, the header alone when no row was
// written, and returns the write error. The writer is written to even when
// nothing is buffered, so a full stdout fails here after any number of rows.
func (t *Table) Close() error {
	return t.tw.Flush()
}

// formatTime renders ts in the local time zone as RFC 3339, or "" when unset.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().Local().Format(time.RFC3339)
}
