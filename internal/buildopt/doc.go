// Package buildopt turns the raw values of buildctl build's flags into the
// parts of a client.SolveOpt. Each flag has its own parser in its own file.
//
// The parsers talk to no daemon. Some touch the local file system the way
// BuildKit's buildctl v0.34.2 does at the same step: --output creates the
// destination file of a tarball exporter, --local resolves its directories,
// --oci-layout opens its content stores and --secret checks its source files.
// Error texts are kept identical to that buildctl's, because scripts match them.
package buildopt

import (
	"fmt"
	"strings"

	"github.com/tonistiigi/go-csvvalue"
)

// keyValueMap splits each value at its first "=" into a map entry. A later
// value with the same key replaces an earlier one.
func keyValueMap(values []string) (map[string]string, error) {
	m := make(map[string]string, len(values))
	for _, v := range values {
		key, value, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("invalid value %s", v)
		}
		m[key] = value
	}
	return m, nil
}

// invalidValueError reports a CSV field without "=" as BuildKit's buildctl
// does: "invalid value FIELD". An empty field, as in "a=1,,b=2", would leave
// nothing after those words, so the whole flag value is added in quotes.
func invalidValueError(field, value string) error {
	if field == "" {
		return fmt.Errorf("invalid value %q in %q", field, value)
	}
	return fmt.Errorf("invalid value %s", field)
}

// parseTypedCSV splits a "type=TYPE,KEY=VALUE,..." flag value, as --output
// and the cache flags take it, into the type and the other attributes.
// Keys are case insensitive. A missing type is returned as "", for the caller
// to reject with the flag's name.
func parseTypedCSV(value string) (typ string, attrs map[string]string, err error) {
	fields, err := csvvalue.Fields(value, nil)
	if err != nil {
		return "", nil, err
	}
	attrs = map[string]string{}
	for _, field := range fields {
		key, v, ok := strings.Cut(field, "=")
		if !ok {
			return "", nil, invalidValueError(field, value)
		}
		key = strings.ToLower(key)
		if key == "type" {
			typ = v
			continue
		}
		attrs[key] = v
	}
	return typ, attrs, nil
}
