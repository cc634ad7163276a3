package address

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Probe checks whether a BuildKit daemon responds at addr. It returns nil when
// one does, and otherwise an error, preferably a *ProbeError naming the Reason.
type Probe func(ctx context.Context, addr string) error

// Attempt is the outcome of probing one address.
type Attempt struct {
	Address string
	// Err is nil when the daemon responded.
	Err error
}

// Find probes addrs in order and returns the first that responds, or "" when
// none does. The attempts list every address probed, in order.
func Find(ctx context.Context, addrs []string, probe Probe) (string, []Attempt) {
	attempts := make([]Attempt, 0, len(addrs))
	for _, addr := range addrs {
		err := probe(ctx, addr)
		attempts = append(attempts, Attempt{Address: addr, Err: err})
		if err == nil {
			return addr, attempts
		}
		if ctx.Err() != nil {
			break
		}
	}
	return "", attempts
}

// Poll probes addrs in rounds, one interval apart, until one responds or ctx
// ends, so the caller bounds the whole wait with ctx's deadline. It returns
// the address that responded, or "" when none did.
//
// The attempts hold the latest outcome of every address in addrs, in order,
// even when the last round ended early. An address that no round reached
// before ctx ended gets a *ProbeError with Reason NotProbed.
func Poll(ctx context.Context, addrs []string, probe Probe, interval time.Duration) (string, []Attempt) {
	latest := make([]Attempt, len(addrs))
	for i, addr := range addrs {
		latest[i] = Attempt{Address: addr, Err: &ProbeError{Reason: NotProbed}}
	}
	for {
		chosen, round := Find(ctx, addrs, probe)
		// Find probes in the order of addrs, so round is a prefix of latest.
		copy(latest, round)
		if chosen != "" {
			return chosen, latest[:len(round)]
		}
		if ctx.Err() != nil {
			return "", latest
		}
		logrus.WithField("interval", interval).Debug("no buildkitd responded yet, probing again")
		select {
		case <-ctx.Done():
			return "", latest
		case <-time.After(interval):
		}
	}
}

// Reason classifies why an address did not respond.
type Reason int

const (
	// ReasonOther is any failure the other reasons do not cover.
	ReasonOther Reason = iota
	// NotFound means the socket file does not exist, so nothing was dialed.
	NotFound
	// PermissionDenied means the caller may not connect to the socket.
	PermissionDenied
	// Refused means the socket exists but no process listens on it, which is
	// what a daemon that died without removing its socket leaves behind.
	Refused
	// TimedOut means something accepted the connection but did not respond
	// within the timeout.
	TimedOut
	// NotBuildKit means something responded, but not with BuildKit's gRPC API.
	NotBuildKit
	// InvalidAddress means the address cannot be dialed as written: an
	// unsupported scheme, a relative socket path or a malformed URL.
	InvalidAddress
	// DialFailed means the connection could not be opened for a reason the
	// others do not cover, such as an unknown host or a connection helper
	// that exited.
	DialFailed
	// NoRoute means the network has no path to the TCP host.
	NoRoute
	// TLSFailed means the connection was opened but TLS failed: the CA
	// does not sign the daemon's certificate, the daemon rejected the client
	// certificate, or the daemon listens without TLS.
	TLSFailed
	// NotProbed means the wait ended before the address was probed, because
	// probing the addresses before it took the whole time.
	NotProbed
)

// ProbeError is a probe failure with its Reason.
type ProbeError struct {
	Reason Reason
	// Err is the underlying error. It may be nil for NotFound.
	Err error
	// Socket describes the socket file and the caller, for PermissionDenied.
	Socket *SocketInfo
	// NotSocket is set when the path exists but is a regular file or folder.
	NotSocket string
	// Host is the host:port dialed for a TCP address, or empty for a socket.
	Host string
}

func (e *ProbeError) Error() string {
	var b strings.Builder
	switch e.Reason {
	case NotFound:
		b.WriteString("not found: no socket at this path")
	case PermissionDenied:
		b.WriteString("permission denied")
		if e.Socket != nil {
			b.WriteString(": ")
			b.WriteString(e.Socket.String())
		}
	case Refused:
		b.WriteString("connection refused: ")
		switch {
		case e.Host != "":
			fmt.Fprintf(&b, "nothing listens on %s", e.Host)
		case e.NotSocket != "":
			fmt.Fprintf(&b, "the path is a %s, not a socket", e.NotSocket)
		default:
			b.WriteString("stale socket, no daemon listens on it")
		}
	case TimedOut:
		if e.Host != "" {
			fmt.Fprintf(&b, "timed out: %s did not accept the connection in time", e.Host)
		} else {
			b.WriteString("timed out: the connection was accepted but no response came")
		}
	case NotBuildKit:
		b.WriteString("not a BuildKit daemon: the listener does not speak BuildKit's gRPC API")
		if e.Err != nil {
			fmt.Fprintf(&b, " (%v)", e.Err)
		}
	case InvalidAddress:
		b.WriteString("invalid address")
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	case NoRoute:
		fmt.Fprintf(&b, "no route to host: the network has no path to %s", e.Host)
	case TLSFailed:
		b.WriteString("TLS handshake failed")
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	case NotProbed:
		b.WriteString("not probed: the wait timed out before buildctl probed this address")
	case DialFailed:
		b.WriteString("dial failed")
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	default:
		if e.Err != nil {
			b.WriteString(e.Err.Error())
		} else {
			b.WriteString("failed")
		}
	}
	return b.String()
}

func (e *ProbeError) Unwrap() error {
	return e.Err
}

// SocketInfo describes the file that denied access, either the socket or a
// folder on its path, and who tried to connect. Names fall back to numeric
// ids when they cannot be resolved.
type SocketInfo struct {
	// Path is the socket or folder whose permissions deny access.
	Path string
	// Folder is true when Path is a folder that buildctl may not search.
	Folder bool
	Owner  string
	Group  string
	// GID is the numeric id of Group. Zero means the root group, so a
	// SocketInfo whose GID is unknown is never advised as a group to join.
	GID  int
	Mode os.FileMode
	// CallerUID is the effective user id of buildctl.
	CallerUID int
	// CallerGroups are the group ids of buildctl, the effective group first.
	CallerGroups []int
}

func (s *SocketInfo) String() string {
	groups := make([]string, len(s.CallerGroups))
	for i, g := range s.CallerGroups {
		groups[i] = fmt.Sprint(g)
	}
	kind := "socket"
	if s.Folder {
		kind = "folder " + s.Path
	}
	return fmt.Sprintf("%s has owner %s, group %s, mode %04o; buildctl runs as uid %d with groups %s",
		kind, s.Owner, s.Group, s.Mode.Perm(), s.CallerUID, strings.Join(groups, ","))
}
