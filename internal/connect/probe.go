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
	"github.com/moby/buildkit/util/appdefaults"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"

	"github.com/buildhost/buildctl/internal/address"
)

// prober checks candidate addresses for a daemon. It keeps the client of
// the first address that responds, so the command reuses that connection.
type prober struct {
	clientOpts []client.ClientOpt
	// timeout bounds each probe; zero means no bound.
	timeout time.Duration
	// responded is the client of the last address that responded, or nil.
	responded *client.Client
}

// probe implements address.Probe. A missing socket file is reported without
// dialing. An existing socket is dialed once, so refused and denied
// connections are told apart, and then asked for the daemon's info over gRPC.
func (p *prober) probe(ctx context.Context, addr string) error {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}

	if path, ok := address.UnixPath(addr); ok {
		if !filepath.IsAbs(path) {
			return fmt.Errorf("invalid address: a unix socket address needs an absolute path, such as %s", appdefaults.Address)
		}
		if err := probeSocket(ctx, path); err != nil {
			return err
		}
	}

	c, err := client.New(ctx, addr, p.clientOpts...)
	if err != nil {
		return err
	}
	_, err = c.ControlClient().Info(ctx, &controlapi.InfoRequest{})
	switch code := grpcerrors.Code(err); {
	case err == nil, code == codes.Unimplemented:
		// BuildKit before v0.11 has no Info call, but it responded.
		p.responded = c
		return nil
	case code == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		c.Close()
		return &address.ProbeError{Reason: address.TimedOut, Err: err}
	default:
		c.Close()
		return &address.ProbeError{Reason: address.NotBuildKit, Err: err}
	}
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
