package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/require"
)

// errOutputLimit stops a template whose output grows past limitWriter's cap.
var errOutputLimit = errors.New("template output limit reached")

// limitWriter accepts up to n bytes and fails after that, so that a fuzzed
// template such as {{range 99999}} cannot fill the memory.
type limitWriter struct{ n int }

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errOutputLimit
	}
	w.n -= len(p)
	return len(p), nil
}

// FuzzParseTemplate feeds hostile --format values to the template parser and
// executes every template that parses against the data that du, prune and
// debug workers pass. Properties: no panic, and a parse error starts with
// "template: " and the position, as text/template reports it.
func FuzzParseTemplate(f *testing.F) {
	usage := usageRecords()
	workers := testWorkers()
	data := []any{usage, *usage[0], workers, nil}

	f.Fuzz(func(t *testing.T, format string) {
		tmpl, err := ParseTemplate(format)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "template: "), "error without position: %v", err)
			return
		}
		// Ranging over a large integer runs for a long time without output,
		// which the limit cannot stop.
		if strings.Contains(format, "range") && strings.ContainsAny(format, "0123456789") {
			t.Skip("range over a number literal")
		}
		for _, d := range data {
			// Execution errors are expected, such as a field that the
			// data does not have; only a panic fails the target.
			_ = ExecuteTemplate(&limitWriter{n: 1 << 20}, tmpl, d)
		}
	})
}

func TestParseTemplateJSONAlias(t *testing.T) {
	tmpl, err := ParseTemplate("json")
	require.NoError(t, err)
	var buf strings.Builder
	require.NoError(t, ExecuteTemplate(&buf, tmpl, []*client.UsageInfo{{ID: "a"}}))
	require.True(t, strings.HasPrefix(buf.String(), `[{"id":"a",`), buf.String())
}
