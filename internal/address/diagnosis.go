package address

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
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
	for _, a := range attempts {
		reason := "responded"
		if a.Err != nil {
			reason = a.Err.Error()
		}
		fmt.Fprintf(&b, "  %s: %s\n", a.Address, reason)
	}

	b.WriteString("To fix it, do one of these:")
	for _, fix := range fixes(attempts) {
		fmt.Fprintf(&b, "\n  - %s", fix)
	}
	return b.String()
}

// fixes lists the advice for attempts without repeats: how to run or reach
// buildkitd at the kind of address tried, then the flags that choose the
// address, then the groups that grant access to denied sockets.
func fixes(attempts []Attempt) []string {
	var out, groups []string
	add := func(list *[]string, fix string) {
		if !slices.Contains(*list, fix) {
			*list = append(*list, fix)
		}
	}
	socketAdvised := false
	for _, a := range attempts {
		var pe *ProbeError
		errors.As(a.Err, &pe)
		hostPort, isTCP := TCPHostPort(a.Address)
		host, port, splitErr := net.SplitHostPort(hostPort)
		_, isUnix := UnixPath(a.Address)
		switch {
		case pe != nil && pe.Reason == InvalidAddress, isTCP && splitErr != nil:
			add(&out, "use an address of the form unix:///path/to/buildkitd.sock or tcp://HOST:PORT, "+
				"or a connection helper URL such as docker-container://NAME")
		case isUnix:
			// Discovery tries many sockets, and starting the daemon on the
			// first one, BuildKit's default, is enough.
			if !socketAdvised {
				add(&out, "start buildkitd with --addr "+a.Address)
				socketAdvised = true
			}
		case isTCP:
			add(&out, fmt.Sprintf("check that buildkitd runs on %s and listens on port %s, for example started with "+
				"--addr tcp://0.0.0.0:%s, and that no firewall blocks the port", host, port, port))
		default:
			add(&out, "check that the host, container or pod that the address names runs buildkitd")
		}

		if pe != nil && pe.Reason == PermissionDenied {
			group := "the group that owns the socket or its folder"
			if pe.Socket != nil && pe.Socket.Group != "" {
				group = "group " + pe.Socket.Group
			}
			add(&groups, fmt.Sprintf("join %s and log in again, or run buildctl as a member of it", group))
		}
	}
	add(&out, "pass the daemon's address with --addr or the BUILDKIT_HOST environment variable")
	return append(out, groups...)
}
