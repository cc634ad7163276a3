package connect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	_, err := tlsClientOpts(Options{Address: "tcp://127.0.0.1:1234", TLSDir: "/certs", TLSCACert: "/ca.pem"})
	require.EqualError(t, err, "cannot specify tlsdir and tlscacert/tlscert/tlskey at the same time")
}
