package address

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/moby/buildkit/util/appdefaults"
)

// ErrUnreachable is the sentinel for "no BuildKit daemon responded at any
// address tried". Errors returned by Unreachable match it with errors.Is.
var ErrUnreachable = errors.New("no BuildKit daemon responded")

// UnreachableError adds a diagnosis to the error of a command that could not
// reach buildkitd. Its first line is the command's own error text, unchanged,
// because scripts match BuildKit's wording; the diagnosis follows on later lines.
type UnreachableError struct {
	// Err is the command's error.
	Err error
	// Attempts lists every address tried, in order.
	Attempts []Attempt
}

// Unreachable wraps err with the diagnosis of attempts. It returns err
// unchanged when err is nil or already carries a diagnosis.
func Unreachable(err error, attempts []Attempt) error {
	if err == nil || errors.Is(err, ErrUnreachable) {
		return err
	}
	return &UnreachableError{Err: err, Attempts: attempts}
}

func (e *UnreachableError) Error() string {
	return e.Err.Error() + "\n" + Diagnose(e.Attempts)
}

func (e *UnreachableError) Unwrap() error {
	return e.Err
}

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool {
	return target == ErrUnreachable
}

// Format prints the wrapped error with its own verbs, so "%+v" keeps its
// stack trace, then the diagnosis.
func (e *UnreachableError) Format(s fmt.State, verb rune) {
	if verb == 'v' && s.Flag('+') {
		fmt.Fprintf(s, "%+v\n%s\n", e.Err, Diagnose(e.Attempts))
		return
	}
	io.WriteString(s, e.Error())
}

// Diagnose renders, for each attempt, the address and why it did not respond,
// then the ways to fix it. The text has no trailing newline.
func Diagnose(attempts []Attempt) string {
	var b strings.Builder
	if len(attempts) == 1 {
		b.WriteString("buildctl could not reach buildkitd at this address:\n")
	} else {
		b.WriteString("buildctl could not reach buildkitd at any of these addresses, tried in order:\n")
	}
	var deniedGroups []string
	for _, a := range attempts {
		reason := "responded"
		if a.Err != nil {
			reason = a.Err.Error()
		}
		fmt.Fprintf(&b, "  %s: %s\n", a.Address, reason)

		var pe *ProbeError
		if errors.As(a.Err, &pe) && pe.Reason == PermissionDenied {
			group := "the group that owns the socket or its folder"
			if pe.Socket != nil && pe.Socket.Group != "" {
				group = "group " + pe.Socket.Group
			}
			if !slices.Contains(deniedGroups, group) {
				deniedGroups = append(deniedGroups, group)
			}
		}
	}

	b.WriteString("To fix it, do one of these:\n")
	fmt.Fprintf(&b, "  - start buildkitd with --addr %s\n", appdefaults.Address)
	b.WriteString("  - pass the daemon's address with --addr or the BUILDKIT_HOST environment variable")
	for _, group := range deniedGroups {
		fmt.Fprintf(&b, "\n  - join %s and log in again, or run buildctl as a member of it", group)
	}
	return b.String()
}
