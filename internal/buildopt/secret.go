package buildopt

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/tonistiigi/go-csvvalue"
)

// ParseSecret parses the --secret values into a session provider. Each value
// is a CSV list of id=ID plus src=PATH (or source=PATH), env=VAR, or
// type=file|env. A value with only an id reads the environment variable of
// that name when it is set, else the file of that name. The provider reads
// secret contents only when the daemon requests them.
func ParseSecret(values []string) (session.Attachable, error) {
	sources := make([]secretsprovider.Source, 0, len(values))
	for _, v := range values {
		src, err := parseSecretSource(v)
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	store, err := secretsprovider.NewStore(sources)
	if err != nil {
		return nil, err
	}
	return secretsprovider.NewSecretProvider(store), nil
}

func parseSecretSource(value string) (secretsprovider.Source, error) {
	var src secretsprovider.Source
	fields, err := csvvalue.Fields(value, nil)
	if err != nil {
		return src, fmt.Errorf("failed to parse csv secret: %w", err)
	}

	var typ string
	for _, field := range fields {
		key, v, ok := strings.Cut(field, "=")
		if !ok {
			// An empty field would leave the message without a location.
			if field == "" {
				return src, fmt.Errorf("invalid field '' must be a key=value pair in %q", value)
			}
			return src, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
		}
		key = strings.ToLower(key)
		switch key {
		case "type":
			if v != "file" && v != "env" {
				return src, fmt.Errorf("unsupported secret type %q", v)
			}
			typ = v
		case "id":
			src.ID = v
		case "source", "src":
			src.FilePath = v
		case "env":
			src.Env = v
		default:
			return src, fmt.Errorf("unexpected key '%s' in '%s'", key, field)
		}
	}

	// With type=env, src= names the variable rather than a file.
	if typ == "env" && src.Env == "" {
		src.Env, src.FilePath = src.FilePath, ""
	}
	return src, nil
}
