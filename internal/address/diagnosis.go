package address

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
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
	// Source names where the first address came from.
	Source Source
}

// Unreachable wraps err with the diagnosis of attempts, whose first address
// came from source. It returns err unchanged when err is nil or already
// carries a diagnosis.
func Unreachable(err error, source Source, attempts []Attempt) error {
	if err == nil || errors.Is(err, ErrUnreachable) {
		return err
	}
	return &UnreachableError{Err: err, Attempts: attempts, Source: source}
}

func (e *UnreachableError) Error() string {
	return e.Err.Error() + "\n" + Diagnose(e.Attempts, e.Source)
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
		fmt.Fprintf(s, "%+v\n%s\n", e.Err, Diagnose(e.Attempts, e.Source))
		return
	}
	io.WriteString(s, e.Error())
}

// Diagnose renders, for each attempt, the address and why it did not respond,
// then the ways to fix it. source names where the first address came from.
// The text has no trailing newline.
func Diagnose(attempts []Attempt, source Source) string {
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
	for _, fix := range fixes(attempts, source) {
		fmt.Fprintf(&b, "\n  - %s", fix)
	}
	return b.String()
}

// fixes lists the advice for attempts without repeats: how to run or reach
// buildkitd at the kind of address tried, then how to correct the address,
// then how to get access to denied sockets.
func fixes(attempts []Attempt, source Source) []string {
	var out, access []string
	add := func(list *[]string, fix string) {
		if !slices.Contains(*list, fix) {
			*list = append(*list, fix)
		}
	}
	startAdvised := false
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
		case pe != nil && pe.Reason == TLSFailed:
			add(&out, "check that --tlscacert names the CA that signed the daemon's certificate, that the certificate "+
				"names the address's host or --tlsservername, that --tlscert and --tlskey hold a client certificate "+
				"that the daemon's CA signed, and that buildkitd listens with TLS")
		case isUnix:
			// Discovery tries many sockets, and starting the daemon on the
			// first one is enough. A denied socket is skipped, because a
			// daemon most likely listens there already.
			if !startAdvised && (pe == nil || pe.Reason != PermissionDenied) {
				add(&out, "start buildkitd with --addr "+a.Address)
				startAdvised = true
			}
		case isTCP:
			add(&out, fmt.Sprintf("check that buildkitd runs on %s and listens on port %s, for example started with "+
				"--addr tcp://0.0.0.0:%s, and that no firewall blocks the port", host, port, port))
		default:
			add(&out, "check that the host, container or pod that the address names runs buildkitd")
		}

		if pe != nil && pe.Reason == PermissionDenied {
			add(&access, accessFix(pe.Socket))
		}
	}
	add(&out, addressFix(source))
	return append(out, access...)
}

// addressFix returns the advice to correct the setting that chose the first
// address.
func addressFix(source Source) string {
	switch source {
	case FromFlag:
		return "if buildkitd listens at another address, correct --addr"
	case FromEnv:
		return "if buildkitd listens at another address, correct the BUILDKIT_HOST environment variable, " +
			"or pass the address with --addr"
	}
	return "pass the daemon's address with --addr or the BUILDKIT_HOST environment variable"
}

// accessFix returns the advice for the socket or folder that denied access.
// Joining its group helps only when the group's permission bits grant the
// access, so that advice is given only then, and never for gid 0, whose
// members get root's files.
func accessFix(si *SocketInfo) string {
	if si == nil {
		return "ask the owner of the socket and its folders for access, or run buildctl as root"
	}
	need, access := os.FileMode(0o020), "write"
	if si.Folder {
		need, access = 0o010, "search (x)"
	}
	if si.Mode.Perm()&need != 0 && si.GID != 0 && !slices.Contains(si.CallerGroups, si.GID) {
		return fmt.Sprintf("join group %s and log in again, or run buildctl as a member of it", si.Group)
	}
	if si.Folder {
		return fmt.Sprintf("ask %s, the owner of %s, to change its mode or group so that you get %s permission, "+
			"or run buildctl as root", si.Owner, si.Path, access)
	}
	// buildkitd creates its socket at each start, so a chmod of the file
	// lasts only until the next start, while its --group flag persists.
	return fmt.Sprintf("ask %s, the owner of %s, to give a group of yours %s permission on it, "+
		"for example by starting buildkitd with --group, or run buildctl as root", si.Owner, si.Path, access)
}
