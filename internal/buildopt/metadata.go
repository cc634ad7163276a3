package buildopt

import (
	"encoding/base64"
	"encoding/json"

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
func WriteMetadataFile(path string, exporterResponse map[string]string) error {
	data, err := MarshalMetadata(exporterResponse)
	if err != nil {
		return err
	}
	return continuity.AtomicWriteFile(path, data, 0o666)
}
