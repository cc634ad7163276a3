// Package render writes the results of du, prune and debug workers in the
// layouts of BuildKit v0.34.2's buildctl: tab-aligned tables, the -v blocks
// and user-supplied Go templates. Other tools parse this output, nerdctl among
// them, so every byte is part of the interface.
//
// All functions write to the io.Writer they are given and never to os.Stdout.
//
// Tables and -v blocks ignore write errors, so they return none: buildctl
// v0.34.2 discards the errors of its tabwriter, and a du or prune whose
// stdout is full or closed still exits 0 there. Template output reports its
// write errors, as buildctl's does.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/tonistiigi/units"
)

// templateAliases maps --format shorthands to the template they stand for.
// "json" is the alias nerdctl and docker accept.
var templateAliases = map[string]string{
	"json": "{{json .}}",
}

// ParseTemplate parses a --format value. The value "json" is an alias for
// "{{json .}}". Templates may call json, which encodes its argument on one
// line without HTML escaping.
func ParseTemplate(format string) (*template.Template, error) {
	if alias, ok := templateAliases[format]; ok {
		format = alias
	}
	funcs := template.FuncMap{"json": encodeJSON}
	return template.New("").Funcs(funcs).Parse(format)
}

// encodeJSON encodes v as a single line. Encoding errors yield an empty
// string, as in docker's template helper that scripts are written against.
func encodeJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSpace(buf.String())
}

// ExecuteTemplate applies tmpl to data and ends the output with a newline.
// Output written before a failure stays in w.
func ExecuteTemplate(w io.Writer, tmpl *template.Template, data any) error {
	if err := tmpl.Execute(w, data); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Template parses format with ParseTemplate and applies it to data with
// ExecuteTemplate, for a command that prints one value.
func Template(w io.Writer, format string, data any) error {
	tmpl, err := ParseTemplate(format)
	if err != nil {
		return err
	}
	return ExecuteTemplate(w, tmpl, data)
}

// newTabWriter returns the tabwriter layout that all tables and -v blocks
// use: cells padded with tabs to 8-column stops, at least one tab apart.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 1, 8, 1, '\t', 0)
}

// formatSize writes n bytes in decimal units with two decimals, such as
// "1.23MB", or as a plain byte count below 1kB, such as "512B".
func formatSize(n int64) string {
	return fmt.Sprintf("%.2f", units.Bytes(n))
}

// formatSpace writes n bytes in decimal units with the shortest exact
// decimals, such as "512MB" or "2.5GB", as the worker GC policy shows them.
func formatSpace(n int64) string {
	return fmt.Sprintf("%g", units.Bytes(n))
}
