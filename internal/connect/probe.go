package connect

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/connhelper"
	"github.com/moby/buildkit/util/appdefaults"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/resolver"

	"github.com/buildhost/buildctl/internal/address"
)

// prober checks candidate addresses for a daemon. It keeps the client of
// the first address that responds, so the command reuses that connection.
type prober struct {
	clientOpts []client.ClientOpt
	// timeout bounds each probe; zero means no bound.
	timeout time.Duration
	// tls is true when the client connects with TLS.
	tls bool
	// responded is the client of the last address that responded, or nil.
	responded *client.Client
}

// probe implements address.Probe. The transport is checked first without
// gRPC: a unix socket is looked up and dialed, a TCP host and port dialed, an
// unsupported scheme rejected. Then the daemon is asked for its info.
func (p *prober) probe(ctx context.Context, addr string) error {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}

	if err := probeTransport(ctx, addr); err != nil {
		return err
	}

	// client.New dials lazily, so its errors are about the address as
	// written, such as a connection-helper URL without a container name.
	c, err := client.New(ctx, addr, p.clientOpts...)
	if err != nil {
		return &address.ProbeError{Reason: address.InvalidAddress, Err: err}
	}
	_, err = c.ControlClient().Info(ctx, &controlapi.InfoRequest{})
	if err = classifyInfoError(addr, err, p.tls); err != nil {
		c.Close()
		return err
	}
	p.responded = c
	return nil
}

// classifyInfoError turns the error of the Info call that probes addr into
// a *address.ProbeError, or returns nil when a BuildKit daemon responded.
// Only errors that show another protocol at the address count as NotBuildKit.
// useTLS reports whether the client connects with TLS.
func classifyInfoError(addr string, err error, useTLS bool) error {
	if err == nil {
		return nil
	}
	code := grpcerrors.Code(err)
	switch {
	case code == codes.Unimplemented && strings.Contains(err.Error(), grpcUnknownService):
		// A gRPC server without BuildKit's control service.
		return &address.ProbeError{Reason: address.NotBuildKit, Err: err}
	case code == codes.Unimplemented:
		// BuildKit before v0.11 has no Info call, but it responded.
		return nil
	case code == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		return &address.ProbeError{Reason: address.TimedOut, Err: err}
	case code == codes.Unavailable && strings.Contains(err.Error(), grpcTLSFailure):
		return &address.ProbeError{Reason: address.TLSFailed, Err: err}
	case code == codes.Unavailable && (strings.Contains(err.Error(), grpcDialFailure) || isHelperAddress(addr)):
		// Nothing responded at all, so the listener's protocol is unknown. A
		// connection helper's stream breaks the same way when its command
		// exits, for example because the container does not exist.
		return &address.ProbeError{Reason: address.DialFailed, Err: err}
	case code == codes.Unavailable && useTLS:
		// The TLS handshake succeeded, so the listener speaks TLS. A daemon
		// that requires a client certificate closes the connection once the
		// handshake shows that the client sent none or an untrusted one.
		return &address.ProbeError{Reason: address.TLSFailed, Err: err}
	case code == codes.Unavailable:
		// The connection was opened, but the listener closed it or sent
		// something other than an HTTP/2 server preface.
		return &address.ProbeError{Reason: address.NotBuildKit, Err: err}
	}
	// A gRPC server responded with an error, such as a proxy that rejects
	// the caller, so the protocol is right.
	return &address.ProbeError{Reason: address.ReasonOther, Err: fmt.Errorf("the Info call failed: %w", err)}
}

// grpcUnknownService is the text of the Unimplemented status that a gRPC
// server returns for a service it does not register. BuildKit releases that
// predate the Info call return "unknown method" instead.
const grpcUnknownService = "unknown service"

// grpcTLSFailure is the text grpc-go puts in an Unavailable status when the
// TLS handshake of a new connection failed.
const grpcTLSFailure = "authentication handshake failed"

// grpcDialFailure is the text grpc-go puts in an Unavailable status when the
// dialer itself failed, as opposed to a connection that was opened and then
// broken by a listener that is not a gRPC server.
const grpcDialFailure = "Error while dialing"

// probeTransport checks what can be checked of addr without gRPC. It returns
// nil for the schemes it cannot check, which connection helpers serve.
func probeTransport(ctx context.Context, addr string) error {
	if path, ok := address.UnixPath(addr); ok {
		if !filepath.IsAbs(path) {
			return &address.ProbeError{
				Reason: address.InvalidAddress,
				Err:    fmt.Errorf("a unix socket address needs an absolute path, such as %s", appdefaults.Address),
			}
		}
		return probeSocket(ctx, path)
	}
	if hostPort, ok := address.TCPHostPort(addr); ok {
		return probeTCP(ctx, hostPort)
	}

	scheme, _, found := strings.Cut(addr, "://")
	if !found {
		return &address.ProbeError{Reason: address.InvalidAddress, Err: errors.New("no scheme such as unix:// or tcp://")}
	}
	// A malformed URL, or a helper's URL without its container or host.
	helper, err := connhelper.GetConnectionHelper(addr)
	if err != nil {
		return &address.ProbeError{Reason: address.InvalidAddress, Err: err}
	}
	if helper != nil {
		return nil
	}
	// gRPC itself resolves dns:, passthrough: and unix-abstract: targets.
	// Any other scheme makes it dial the whole address as a host name.
	if resolver.Get(scheme) == nil {
		return &address.ProbeError{Reason: address.InvalidAddress, Err: fmt.Errorf("unsupported scheme %q", scheme)}
	}
	return nil
}

// isHelperAddress reports whether a registered connection helper, such as
// docker-container:// or ssh://, serves addr.
func isHelperAddress(addr string) bool {
	helper, err := connhelper.GetConnectionHelper(addr)
	return err == nil && helper != nil
}

// probeTCP dials hostPort once.
func probeTCP(ctx context.Context, hostPort string) error {
	if _, _, err := net.SplitHostPort(hostPort); err != nil {
		return &address.ProbeError{Reason: address.InvalidAddress, Err: err}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", hostPort)
	if err != nil {
		return classifyTCPDialError(hostPort, err)
	}
	conn.Close()
	return nil
}

// classifyTCPDialError turns the error of dialing hostPort into a
// *address.ProbeError.
func classifyTCPDialError(hostPort string, err error) error {
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &address.ProbeError{Reason: address.Refused, Err: err, Host: hostPort}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &address.ProbeError{Reason: address.TimedOut, Err: err, Host: hostPort}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &address.ProbeError{Reason: address.NoRoute, Err: err, Host: hostPort}
	}
	return &address.ProbeError{Reason: address.DialFailed, Err: err, Host: hostPort}
}

// probeSocket checks the socket file at path and dials it once.
func probeSocket(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &address.ProbeError{Reason: address.NotFound, Err: err}
	}

	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return classifyDialError(path, err)
	}
	conn.Close()
	return nil
}

// classifyDialError turns the error of dialing the unix socket at path into
// a *address.ProbeError when its reason is known, or returns it unchanged.
func classifyDialError(path string, err error) error {
	info, statErr := os.Stat(path)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		pe := &address.ProbeError{Reason: address.Refused, Err: err}
		if statErr == nil && info.Mode()&fs.ModeSocket == 0 {
			pe.NotSocket = fileKind(info)
		}
		return pe
	case errors.Is(err, fs.ErrPermission):
		return &address.ProbeError{Reason: address.PermissionDenied, Err: err, Socket: deniedPathInfo(path)}
	case errors.Is(err, context.DeadlineExceeded):
		return &address.ProbeError{Reason: address.TimedOut, Err: err}
	case errors.Is(err, fs.ErrNotExist):
		return &address.ProbeError{Reason: address.NotFound, Err: err}
	}
	return err
}

// deniedPathInfo describes the path that denies access to the socket at
// path: the first folder on the way that buildctl may not search, or else
// the socket itself. It returns nil when nothing can be inspected.
func deniedPathInfo(path string) *address.SocketInfo {
	path = filepath.Clean(path)
	dir := filepath.Dir(path)
	parts := strings.Split(strings.TrimPrefix(dir, string(filepath.Separator)), string(filepath.Separator))
	current := string(filepath.Separator)
	for _, part := range append(parts, filepath.Base(path)) {
		next := filepath.Join(current, part)
		if _, err := os.Stat(next); errors.Is(err, fs.ErrPermission) {
			// current exists but may not be searched, so next is out of reach.
			if info, err := os.Stat(current); err == nil {
				return socketInfo(current, info)
			}
			return nil
		}
		current = next
	}
	if info, err := os.Stat(path); err == nil {
		return socketInfo(path, info)
	}
	return nil
}

func fileKind(info fs.FileInfo) string {
	if info.IsDir() {
		return "folder"
	}
	if info.Mode().IsRegular() {
		return "regular file"
	}
	return "file of mode " + info.Mode().String()
}
