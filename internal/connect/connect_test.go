package connect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

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
