package connect

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/buildhost/buildctl/internal/address"
)

// DialRaw opens a plain stream to the daemon that opts select, for
// "buildctl dial-stdio". It follows the same address plan as New, but tries
// each address by dialing it, without gRPC. The caller closes the connection.
//
// BuildKit's buildctl accepts only unix:// here; DialRaw also takes a bare
// socket path and tcp://, and keeps BuildKit's error text for other schemes.
// When no address accepts, the error starts with the first address's error
// and lists why each failed.
func DialRaw(ctx context.Context, opts Options) (net.Conn, error) {
	timeout := time.Duration(opts.TimeoutSeconds) * time.Second
	plan := address.NewPlan(opts.Address, opts.AddressFromFlag, address.EnvFromOS())

	var firstErr error
	attempts := make([]address.Attempt, 0, len(plan.Addresses))
	for _, addr := range plan.Addresses {
		conn, err := dialStream(ctx, addr, timeout)
		if err == nil {
			if addr != plan.Addresses[0] {
				logrus.WithFields(logrus.Fields{"requested": plan.Addresses[0], "address": addr}).
					Debug("buildkitd did not accept at the first address, using a fallback candidate")
			}
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if path, ok := address.UnixPath(addr); ok {
			err = classifyDialError(path, err)
		} else if hostPort, ok := address.TCPHostPort(addr); ok && strings.HasPrefix(addr, "tcp://") {
			err = classifyTCPDialError(hostPort, err)
		}
		logrus.WithField("address", addr).WithError(err).Debug("buildkitd candidate did not accept")
		attempts = append(attempts, address.Attempt{Address: addr, Err: err})
	}
	return nil, address.Unreachable(firstErr, plan.Source, attempts)
}

func dialStream(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, fmt.Errorf("invalid address %s", addr)
	}
	d := net.Dialer{Timeout: timeout}
	switch scheme {
	case "unix":
		return d.DialContext(ctx, "unix", rest)
	case "tcp":
		u, err := url.Parse(addr)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, "tcp", u.Host)
	}
	return nil, fmt.Errorf("invalid address %s (expected unix://, got %s://)", addr, scheme)
}
