package main

import (
	"os"
	"regexp"
	"strings"

	"github.com/moby/buildkit/util/stack"
)

// redactedValue replaces private key paths in printed command lines.
const redactedValue = "<redacted>"

// tlsContextKey and quotedTLSContextKey match the key= field of a
// --registry-auth-tlscontext value, plain or in CSV quotes.
var (
	tlsContextKey       = regexp.MustCompile(`(?i)(^|,)(key=)[^,]*`)
	quotedTLSContextKey = regexp.MustCompile(`(?i)(^|,)"(key=)[^"]*("|$)`)
)

func redactTLSContext(value string) string {
	value = quotedTLSContextKey.ReplaceAllString(value, `${1}"${2}`+redactedValue+`"`)
	return tlsContextKey.ReplaceAllString(value, "${1}${2}"+redactedValue)
}

// redactStackCmdlines replaces the private key paths of --tlskey and
// --registry-auth-tlscontext key= in the command lines that the stack traces
// of err carry, because --debug prints each trace with its command line.
// Traces of pkg/errors stacks are built when printed and read os.Args then,
// so os.Args is replaced too and the returned function restores it. Stacks
// that came back from buildkitd are redacted the same way.
func redactStackCmdlines(err error) (restore func()) {
	args := os.Args
	os.Args = redactArgs(args)
	for _, s := range stack.Traces(err) {
		s.Cmdline = redactArgs(s.Cmdline)
	}
	return func() { os.Args = args }
}

// redactArgs returns a copy of args with the key paths replaced. args itself
// is not changed, because a local stack shares its slice with os.Args.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		prev := ""
		if i > 0 {
			prev = strings.TrimLeft(args[i-1], "-")
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case prev == "tlskey":
			out[i] = redactedValue
		case prev == "registry-auth-tlscontext":
			out[i] = redactTLSContext(a)
		case strings.HasPrefix(a, "-") && hasValue && name == "tlskey":
			out[i] = a[:len(a)-len(value)] + redactedValue
		case strings.HasPrefix(a, "-") && hasValue && name == "registry-auth-tlscontext":
			out[i] = a[:len(a)-len(value)] + redactTLSContext(value)
		default:
			out[i] = a
		}
	}
	return out
}
