package buildopt

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/containerd/continuity"
)

// MarshalMetadata renders the exporter response for --metadata-file: a
// JSON object with two-space indent and no trailing newline. A value that
// is base64 of a non-empty JSON object, such as containerimage.descriptor,
// is embedded as that object. Every other value stays a string.
func MarshalMetadata(exporterResponse map[string]string) ([]byte, error) {
	out := make(map[string]any, len(exporterResponse))
	for k, v := range exporterResponse {
		out[k] = v
		decoded, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(decoded, &obj); err != nil || len(obj) == 0 {
			continue
		}
		out[k] = json.RawMessage(decoded)
	}
	return json.MarshalIndent(out, "", "  ")
}

// WriteMetadataFile writes MarshalMetadata's rendering to path through a
// temporary file and a rename, with mode 0666 set explicitly so that the
// umask does not apply.
//
// BuildKit's buildctl renames over path itself, which replaces a symbolic
// link with a regular file: --metadata-file /dev/stdout turns the system's
// /dev/stdout link into a file. Here a link to a regular file is resolved
// first, so the rename replaces the target and the link stays. A path that
// is, or links to, something other than a regular file (a pipe, a terminal,
// /dev/null) is written in place, because it cannot be renamed over.
func WriteMetadataFile(path string, exporterResponse map[string]string) error {
	data, err := MarshalMetadata(exporterResponse)
	if err != nil {
		return err
	}
	target, err := metadataTarget(path)
	if err != nil {
		return err
	}
	if target == "" {
		return writeInPlace(path, data)
	}
	return continuity.AtomicWriteFile(target, data, 0o666)
}

// metadataTarget returns the file to rename over for path, or "" when path
// must be written in place.
func metadataTarget(path string) (string, error) {
	info, err := os.Lstat(path)
	if err != nil || info.Mode()&os.ModeSymlink == 0 {
		if err == nil && !info.Mode().IsRegular() && !info.IsDir() {
			return "", nil
		}
		// Missing files, regular files and folders keep BuildKit's behaviour,
		// errors included.
		return path, nil
	}

	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		// A dangling link, or one into /proc/self/fd whose target is not a
		// path, such as a pipe.
		if _, statErr := os.Stat(path); statErr == nil {
			return "", nil
		}
		return path, nil
	}
	target, err := os.Stat(resolved)
	if err != nil {
		return path, nil
	}
	if !target.Mode().IsRegular() && !target.IsDir() {
		return "", nil
	}
	return resolved, nil
}

func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
