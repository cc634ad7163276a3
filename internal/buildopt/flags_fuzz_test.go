package buildopt

import (
	"encoding/csv"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"github.com/tonistiigi/go-csvvalue"
)

// The fuzz targets below feed one hostile value to each build flag parser.
// Properties: no panic, and every error locates the problem in the value
// (see requireErrorNamesValue). Seeds live in testdata/fuzz/<target>, so a
// plain `go test` runs them; `go test -fuzz=<target>` searches further.

// requireErrorNamesValue fails unless err is nil or points at the offending
// part of value: its text contains the value or one of its fields, keys or
// values, or it is a CSV syntax error, which gives the column. fixed lists
// texts of BuildKit's buildctl v0.34.2 that name a missing key instead of a
// value; they are kept because scripts match them. A value of only white
// space is exempt: the CSV reader reports it as "EOF", as BuildKit's buildctl
// prints it for --output "".
func requireErrorNamesValue(t *testing.T, err error, value string, fixed ...string) {
	t.Helper()
	if err == nil || strings.TrimSpace(value) == "" {
		return
	}
	msg := err.Error()
	for _, f := range fixed {
		if strings.Contains(msg, f) {
			return
		}
	}
	var parseErr *csv.ParseError
	if errors.As(err, &parseErr) {
		return
	}
	for _, piece := range valuePieces(value) {
		if strings.Contains(msg, piece) || strings.Contains(msg, strconv.Quote(piece)) {
			return
		}
	}
	t.Fatalf("error does not name the value %q: %v", value, err)
}

// valuePieces returns the non-empty parts a message may quote: the value,
// its CSV fields (unquoted), the key and value of each field, and the cleaned
// form and parent folders of each part that is a path. The folders count
// because a failed lstat names the first missing folder, not the whole path.
func valuePieces(value string) []string {
	// The part after the first "=" is the whole value of NAME=VALUE flags
	// such as --local and --opt.
	_, afterKey, _ := strings.Cut(value, "=")
	pieces := []string{value, afterKey}
	pieces = append(pieces, strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == '=' })...)
	if fields, err := csvvalue.Fields(value, nil); err == nil {
		for _, f := range fields {
			key, v, _ := strings.Cut(f, "=")
			pieces = append(pieces, f, key, strings.ToLower(key), v)
		}
	}
	for _, p := range pieces {
		if !strings.Contains(p, "/") {
			continue
		}
		// filepath.EvalSymlinks reports the cleaned path, such as "a" for "./a".
		pieces = append(pieces, path.Clean(p))
		for dir := path.Dir(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
			pieces = append(pieces, dir)
		}
	}
	nonEmpty := pieces[:0]
	for _, p := range pieces {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	return nonEmpty
}

func quietLogs(f *testing.F) {
	old := logrus.StandardLogger().Out
	logrus.SetOutput(io.Discard)
	f.Cleanup(func() { logrus.SetOutput(old) })
}

func noEnv(string) (string, bool) { return "", false }

// destOutsideDir reports whether value has a dest that could name a file
// outside the working directory, which the fuzz target must not create.
func destOutsideDir(value string) bool {
	fields, err := csvvalue.Fields(value, nil)
	if err != nil {
		return false
	}
	for _, f := range fields {
		key, v, _ := strings.Cut(f, "=")
		if strings.EqualFold(key, "dest") && (strings.ContainsAny(v, `/\`) || strings.HasPrefix(v, "..")) {
			return true
		}
	}
	return false
}

func FuzzParseOutput(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string, isTerminal bool) {
		// ParseOutput creates the dest file of tarball exporters, so such
		// values run in a temporary folder, and a dest that leaves it is
		// skipped. The chdir is per value, because testing.F looks up
		// testdata/fuzz relative to the working directory.
		if destOutsideDir(value) {
			t.Skip("dest outside the working folder")
		}
		if strings.Contains(strings.ToLower(value), "dest") {
			t.Chdir(t.TempDir())
		}
		stdout := Stdout{Writer: nopWriteCloser{io.Discard}, IsTerminal: isTerminal}
		entries, err := ParseOutput([]string{value}, stdout)
		requireErrorNamesValue(t, err, value,
			"--output requires type=<type>",
			"destination file is a directory",
		)
		for _, e := range entries {
			if e.Output == nil {
				continue
			}
			w, err := e.Output(nil)
			require.NoError(t, err)
			require.NoError(t, w.Close())
		}
		if err == nil {
			require.Len(t, entries, 1)
			require.NotEmpty(t, entries[0].Type)
		}
	})
}

func FuzzParseSecret(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string) {
		_, err := ParseSecret([]string{value})
		requireErrorNamesValue(t, err, value, "secret missing ID")
	})
}

func FuzzParseSSH(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string) {
		configs, err := ParseSSH([]string{value})
		requireErrorNamesValue(t, err, value)
		if err == nil {
			require.Len(t, configs, 1)
			id, _, _ := strings.Cut(value, "=")
			require.Equal(t, id, configs[0].ID)
		}
	})
}

func FuzzParseOpt(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string) {
		env := func(name string) (string, bool) {
			if name == "SET" {
				return "from-env", true
			}
			return "", false
		}
		attrs, err := ParseOpt([]string{value}, env)
		requireErrorNamesValue(t, err, value)
		if err != nil {
			return
		}
		// The value part after the first "=" is kept byte for byte.
		if key, v, ok := strings.Cut(value, "="); ok {
			require.Equal(t, v, attrs[key])
		}
	})
}

func FuzzParseLocal(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string) {
		_, err := ParseLocal([]string{value})
		requireErrorNamesValue(t, err, value)
	})
}

func FuzzParseCache(f *testing.F) {
	quietLogs(f)
	f.Fuzz(func(t *testing.T, value string, export bool) {
		fixed := []string{
			"cache with type gha requires url parameter to be set",
			"cache with type gha requires token parameter or $ACTIONS_RUNTIME_TOKEN",
		}
		var err error
		if export {
			_, err = ParseExportCache([]string{value}, noEnv)
			fixed = append(fixed, "--export-cache requires type=<type>")
		} else {
			_, err = ParseImportCache([]string{value}, noEnv)
			fixed = append(fixed, "--import-cache requires type=<type>")
		}
		requireErrorNamesValue(t, err, value, fixed...)
	})
}

func FuzzValidateAllow(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string) {
		err := ValidateAllow([]string{value})
		requireErrorNamesValue(t, err, value)
	})
}

func FuzzParseRegistryAuthTLSContext(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string) {
		configs, err := ParseRegistryAuthTLSContext([]string{value})
		requireErrorNamesValue(t, err, value,
			"--registry-auth-tlscontext requires host=<host>",
			"--registry-auth-tlscontext requires ca=<ca> or cert=<cert>,key=<key> or insecure=true",
			"--registry-auth-tlscontext requires cert=<cert>,key=<key>",
		)
		if err == nil {
			require.Len(t, configs, 1)
		}
	})
}
