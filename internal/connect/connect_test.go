package connect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	// The helper registers docker-container://, as main's imports do.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/buildhost/buildctl/internal/address"
)

func TestIsConnectionError(t *testing.T) {
	newErr := errors.New(`failed to dial "unix://relative.sock"`)
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{name: "unavailable wrapped", err: fmt.Errorf("failed to list workers: %w", status.Error(codes.Unavailable, "connection error")), want: true},
		{name: "deadline status", err: status.Error(codes.DeadlineExceeded, "deadline"), want: true},
		{name: "context deadline", err: fmt.Errorf("wait: %w", context.DeadlineExceeded), want: true},
		{name: "error from New", err: newErr, want: true},
		{name: "daemon error", err: status.Error(codes.InvalidArgument, "invalid filter"), want: false},
		{name: "plain error", err: errors.New("failed to parse --output"), want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, isConnectionError(tc.err, newErr))
		})
	}
}

func TestTLSFilesInDir(t *testing.T) {
	cases := []struct {
		name    string
		files   []string
		want    [3]string
		wantErr string
	}{
		{name: "docker names", files: []string{"ca.pem", "cert.pem", "key.pem"}, want: [3]string{"ca.pem", "cert.pem", "key.pem"}},
		{name: "kubernetes names", files: []string{"ca.crt", "tls.crt", "tls.key"}, want: [3]string{"ca.crt", "tls.crt", "tls.key"}},
		{name: "docker names win", files: []string{"ca.pem", "ca.crt", "cert.pem", "tls.crt", "key.pem", "tls.key"}, want: [3]string{"ca.pem", "cert.pem", "key.pem"}},
		{name: "missing key", files: []string{"ca.pem", "cert.pem"}, wantErr: "directory did not contain one of the needed files: key.pem or tls.key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o600))
			}
			ca, cert, key, err := tlsFilesInDir(dir)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, filepath.Join(dir, tc.want[0]), ca)
			require.Equal(t, filepath.Join(dir, tc.want[1]), cert)
			require.Equal(t, filepath.Join(dir, tc.want[2]), key)
		})
	}
}

func TestTLSDirConflictsWithFiles(t *testing.T) {
	_, _, err := tlsClientOpts(Options{Address: "tcp://127.0.0.1:1234", TLSDir: "/certs", TLSCACert: "/ca.pem"})
	require.EqualError(t, err, "cannot specify tlsdir and tlscacert/tlscert/tlskey at the same time")
}

func TestTLSFilesLoad(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	cases := []struct {
		name    string
		files   tlsFiles
		wantErr bool
	}{
		{name: "none given", files: tlsFiles{}},
		{name: "missing ca", files: tlsFiles{caCert: filepath.Join(dir, "ca.pem")}, wantErr: true},
		{name: "ca without certificate", files: tlsFiles{caCert: notPEM}, wantErr: true},
		{name: "missing key pair", files: tlsFiles{cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.files.load()
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestProbeTransport(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())

	cases := []struct {
		name   string
		addr   string
		reason address.Reason
	}{
		{name: "tcp refused", addr: "tcp://" + closed, reason: address.Refused},
		{name: "host and port refused", addr: closed, reason: address.Refused},
		{name: "tcp without port", addr: "tcp://127.0.0.1", reason: address.InvalidAddress},
		{name: "unsupported scheme", addr: "http://" + closed + "/run/buildkit/buildkitd.sock", reason: address.InvalidAddress},
		{name: "no scheme", addr: "buildkitd.sock", reason: address.InvalidAddress},
		{name: "relative socket", addr: "unix://buildkitd.sock", reason: address.InvalidAddress},
		{name: "missing socket", addr: "unix://" + filepath.Join(t.TempDir(), "missing.sock"), reason: address.NotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := probeTransport(context.Background(), tc.addr)
			var pe *address.ProbeError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.reason, pe.Reason, "error: %v", err)
		})
	}
}

func TestClassifyInfoError(t *testing.T) {
	const tcpAddr = "tcp://127.0.0.1:1234"
	cases := []struct {
		name string
		addr string
		err  error
		tls  bool
		// responded is true when the error shows a BuildKit daemon.
		responded bool
		reason    address.Reason
	}{
		{name: "no error", addr: tcpAddr, responded: true},
		{
			name:      "old buildkit without Info",
			addr:      tcpAddr,
			err:       status.Error(codes.Unimplemented, "unknown method Info for service moby.buildkit.v1.Control"),
			responded: true,
		},
		{
			name:   "other grpc service",
			addr:   tcpAddr,
			err:    status.Error(codes.Unimplemented, "unknown service moby.buildkit.v1.Control"),
			reason: address.NotBuildKit,
		},
		{
			name:   "http server",
			addr:   tcpAddr,
			err:    status.Error(codes.Unavailable, `connection error: desc = "error reading server preface: http2: frame too large"`),
			reason: address.NotBuildKit,
		},
		{
			name: "tls handshake",
			addr: tcpAddr,
			err: status.Error(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: `+
				`tls: first record does not look like a TLS handshake"`),
			reason: address.TLSFailed,
		},
		{
			name:   "client certificate rejected",
			addr:   tcpAddr,
			err:    status.Error(codes.Unavailable, "write tcp 127.0.0.1:36762->127.0.0.1:1234: write: broken pipe"),
			tls:    true,
			reason: address.TLSFailed,
		},
		{
			name:   "connection closed without tls",
			addr:   tcpAddr,
			err:    status.Error(codes.Unavailable, "write tcp 127.0.0.1:36762->127.0.0.1:1234: write: broken pipe"),
			reason: address.NotBuildKit,
		},
		{
			name:   "dial failure",
			addr:   tcpAddr,
			err:    status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1234: connect: connection refused"`),
			reason: address.DialFailed,
		},
		{
			name:   "helper exited",
			addr:   "docker-container://buildkitd",
			err:    status.Error(codes.Unavailable, "connection closed"),
			reason: address.DialFailed,
		},
		{
			name:   "deadline",
			addr:   tcpAddr,
			err:    status.Error(codes.DeadlineExceeded, "context deadline exceeded"),
			reason: address.TimedOut,
		},
		{
			name:   "rejected by server",
			addr:   tcpAddr,
			err:    status.Error(codes.Unauthenticated, "missing credentials"),
			reason: address.ReasonOther,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := classifyInfoError(tc.addr, tc.err, tc.tls)
			if tc.responded {
				require.NoError(t, err)
				return
			}
			var pe *address.ProbeError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.reason, pe.Reason, "error: %v", err)
			require.ErrorIs(t, err, tc.err)
		})
	}
}

func TestClassifyTCPDialError(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		reason address.Reason
	}{
		{name: "refused", err: syscall.ECONNREFUSED, reason: address.Refused},
		{name: "host unreachable", err: syscall.EHOSTUNREACH, reason: address.NoRoute},
		{name: "network unreachable", err: syscall.ENETUNREACH, reason: address.NoRoute},
		{name: "deadline", err: context.DeadlineExceeded, reason: address.TimedOut},
		{name: "unknown host", err: &net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}, reason: address.DialFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: tc.err}}
			err := classifyTCPDialError("192.0.2.1:1234", dialErr)
			var pe *address.ProbeError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.reason, pe.Reason, "error: %v", err)
			require.Equal(t, "192.0.2.1:1234", pe.Host)
		})
	}
}
