package history

import (
	"bytes"
	"errors"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestTableRows(t *testing.T) {
	t.Setenv("TZ", "UTC")
	created := timestamppb.New(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	record := &controlapi.BuildHistoryRecord{Ref: "abc", CreatedAt: created, Generation: 2, Pinned: true}
	events := []*controlapi.BuildHistoryEvent{
		{Type: controlapi.BuildHistoryEventType_COMPLETE, Record: record},
		{Type: controlapi.BuildHistoryEventType_DELETED},
	}

	for _, tc := range []struct {
		name     string
		newTable func(w *bytes.Buffer) *Table
		events   []*controlapi.BuildHistoryEvent
		want     string
	}{
		{
			name:     "list header only",
			newTable: func(w *bytes.Buffer) *Table { return NewListTable(w) },
			want:     "TYPE\tREF\tCREATED\tCOMPLETED\tGENERATION\tPINNED\n",
		},
		{
			name:     "list rows flushed one by one",
			newTable: func(w *bytes.Buffer) *Table { return NewListTable(w) },
			events:   events,
			want: "TYPE\t\tREF\tCREATED\t\t\tCOMPLETED\tGENERATION\tPINNED\n" +
				"COMPLETE\tabc\t2024-05-01T10:00:00Z\t\t\t2\t\t*\n" +
				"DELETED\t\t\t\t0\t\n",
		},
		{
			name:     "prune without pinned column",
			newTable: func(w *bytes.Buffer) *Table { return NewPruneTable(w) },
			events:   events[:1],
			want: "TYPE\t\tREF\tCREATED\t\t\tCOMPLETED\tGENERATION\n" +
				"COMPLETE\tabc\t2024-05-01T10:00:00Z\t\t\t2\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			table := tc.newTable(&buf)
			for _, ev := range tc.events {
				require.NoError(t, table.Write(ev))
			}
			require.NoError(t, table.Close())
			require.Equal(t, tc.want, buf.String())
		})
	}
}

func TestChangeValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  Change
		wantErr string
	}{
		{"nothing", Change{}, "must specify one of --pin, --unpin, --delete"},
		{"pin and unpin", Change{Pin: true, Unpin: true}, "cannot specify both --pin and --unpin"},
		{"delete and unpin", Change{Delete: true, Unpin: true}, "cannot specify --delete with --pin or --unpin"},
		{"pin", Change{Pin: true}, ""},
		{"delete", Change{Delete: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.change.Validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.wantErr)
		})
	}
}

// failingWriter rejects every write, like stdout redirected to /dev/full.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestTableWriteErrors(t *testing.T) {
	table := NewListTable(failingWriter{})
	ev := &controlapi.BuildHistoryEvent{Type: controlapi.BuildHistoryEventType_COMPLETE}
	require.NoError(t, table.Write(ev), "row write errors are ignored")
	require.NoError(t, table.Write(ev), "row write errors are ignored")
	require.EqualError(t, table.Close(), "no space left on device")
}
