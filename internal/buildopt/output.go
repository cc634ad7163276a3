package buildopt

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session/filesync"
)

// Stdout is the destination of a tarball exporter whose --output value has
// no dest or dest=-.
type Stdout struct {
	// Writer receives the tarball. The client closes it after the export.
	Writer io.WriteCloser
	// IsTerminal rejects such an export, because a tarball would garble
	// the terminal.
	IsTerminal bool
}

// ParseOutput parses the --output values, each a CSV list with type=TYPE.
// Exporters that write one file (tar, and docker and oci unless tar=false)
// get dest=FILE created here, or stdout without dest or with dest=-.
// Exporters that write a directory (local, and docker and oci with
// tar=false) require dest=DIR. Other exporters, such as image, take no dest.
func ParseOutput(values []string, stdout Stdout) ([]client.ExportEntry, error) {
	var entries []client.ExportEntry
	for _, v := range values {
		entry, err := parseOutputCSV(v, stdout)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

func parseOutputCSV(value string, stdout Stdout) (client.ExportEntry, error) {
	typ, attrs, err := parseTypedCSV(value)
	if err != nil {
		return client.ExportEntry{Attrs: map[string]string{}}, err
	}
	entry := client.ExportEntry{Type: typ, Attrs: attrs}

	if entry.Type == "" {
		return entry, errors.New("--output requires type=<type>")
	}
	if v, ok := entry.Attrs["output"]; ok {
		return entry, fmt.Errorf("output=%s not supported for --output, you meant dest=%s?", v, v)
	}

	entry.Output, entry.OutputDir, err = resolveDest(entry.Type, entry.Attrs, stdout)
	if err != nil {
		return entry, fmt.Errorf("invalid output option: output: %w", err)
	}
	if entry.Output != nil || entry.OutputDir != "" {
		delete(entry.Attrs, "dest")
	}
	return entry, nil
}

// resolveDest returns the file writer or the directory for an exporter's
// dest attribute. At most one of the two is set.
func resolveDest(exporter string, attrs map[string]string, stdout Stdout) (filesync.FileOutputFunc, string, error) {
	dest := attrs["dest"]
	var toFile, toDir bool
	switch exporter {
	case client.ExporterLocal:
		toDir = true
	case client.ExporterTar:
		toFile = true
	case client.ExporterOCI, client.ExporterDocker:
		tarball, err := strconv.ParseBool(attrs["tar"])
		if err != nil {
			tarball = true
		}
		toFile, toDir = tarball, !tarball
	}

	switch {
	case toDir:
		if dest == "" {
			return nil, "", fmt.Errorf("output directory is required for %s exporter", exporter)
		}
		return nil, dest, nil
	case toFile && dest != "" && dest != "-":
		w, err := createDestFile(dest)
		if err != nil {
			return nil, "", err
		}
		return fixedWriter(w), "", nil
	case toFile:
		if stdout.IsTerminal {
			return nil, "", fmt.Errorf("output file is required for %s exporter. refusing to write to console", exporter)
		}
		return fixedWriter(stdout.Writer), "", nil
	case dest != "":
		return nil, "", fmt.Errorf("output %s is not supported by %s exporter", dest, exporter)
	}
	return nil, "", nil
}

func createDestFile(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("invalid destination file: %s: %w", path, err)
	}
	if err == nil && fi.IsDir() {
		return nil, errors.New("destination file is a directory")
	}
	return os.Create(path)
}

func fixedWriter(w io.WriteCloser) filesync.FileOutputFunc {
	return func(map[string]string) (io.WriteCloser, error) {
		return w, nil
	}
}
