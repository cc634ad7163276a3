package address

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestDiagnose(t *testing.T) {
	denied := &ProbeError{
		Reason: PermissionDenied,
		Err:    errors.New("dial unix /run/buildkit/buildkitd.sock: connect: permission denied"),
		Socket: &SocketInfo{
			Path:         "/run/buildkit/buildkitd.sock",
			Owner:        "root (0)",
			Group:        "buildkit (998)",
			GID:          998,
			Mode:         os.ModeSocket | 0o660,
			CallerUID:    1000,
			CallerGroups: []int{1000, 27},
		},
	}
	deniedBy := func(path string, folder bool, mode os.FileMode, group string, gid int) *ProbeError {
		return &ProbeError{
			Reason: PermissionDenied,
			Socket: &SocketInfo{
				Path:         path,
				Folder:       folder,
				Owner:        "root (0)",
				Group:        group,
				GID:          gid,
				Mode:         mode,
				CallerUID:    1000,
				CallerGroups: []int{1000},
			},
		}
	}
	cases := []struct {
		name     string
		source   Source
		attempts []Attempt
	}{
		{
			name: "every reason",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock", Err: denied},
				{Address: "unix:///run/user/1000/buildkit-default/buildkitd.sock", Err: &ProbeError{Reason: NotFound}},
				{Address: "unix:///run/user/1000/buildkit/buildkitd.sock", Err: &ProbeError{Reason: Refused}},
				{Address: "unix:///run/buildkit-k8s.io/buildkitd.sock", Err: &ProbeError{Reason: TimedOut}},
				{Address: "unix:///run/buildkit-default/buildkitd.sock", Err: &ProbeError{
					Reason: NotBuildKit,
					Err:    errors.New(`Unavailable: connection error: desc = "error reading server preface: http2: frame too large"`),
				}},
			},
		},
		{
			name: "folder denied",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock", Err: &ProbeError{
					Reason: PermissionDenied,
					Socket: &SocketInfo{
						Path:         "/run/buildkit",
						Folder:       true,
						Owner:        "root (0)",
						Group:        "root (0)",
						Mode:         os.ModeDir | 0o770,
						CallerUID:    65534,
						CallerGroups: []int{65534},
					},
				}},
			},
		},
		{
			name: "folder without group search",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock",
					Err: deniedBy("/run/buildkit", true, os.ModeDir|0o700, "buildkit (998)", 998)},
			},
		},
		{
			name: "folder group grants search",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock",
					Err: deniedBy("/run/buildkit", true, os.ModeDir|0o710, "buildkit (998)", 998)},
			},
		},
		{
			name: "socket without group write",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock",
					Err: deniedBy("/run/buildkit/buildkitd.sock", false, os.ModeSocket|0o755, "buildkit (998)", 998)},
				{Address: "unix:///run/buildkit-default/buildkitd.sock", Err: &ProbeError{Reason: NotFound}},
			},
		},
		{
			name: "socket of root group",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock",
					Err: deniedBy("/run/buildkit/buildkitd.sock", false, os.ModeSocket|0o660, "root (0)", 0)},
			},
		},
		{
			name: "caller already in group",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock",
					Err: deniedBy("/run/buildkit/buildkitd.sock", false, os.ModeSocket|0o660, "1000", 1000)},
			},
		},
		{
			name: "denied without details",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock", Err: &ProbeError{Reason: PermissionDenied}},
			},
		},
		{
			name:   "custom socket from flag",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "unix:///tmp/x.sock", Err: &ProbeError{Reason: NotFound}},
			},
		},
		{
			name:   "custom socket from env",
			source: FromEnv,
			attempts: []Attempt{
				{Address: "unix:///tmp/x.sock", Err: &ProbeError{Reason: NotFound}},
			},
		},
		{
			name:   "given socket falls back",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "unix:///run/buildkit-default/buildkitd.sock", Err: &ProbeError{Reason: Refused}},
				{Address: "unix:///run/buildkit/buildkitd.sock", Err: &ProbeError{Reason: NotFound}},
			},
		},
		{
			name: "wait ran out",
			attempts: []Attempt{
				{Address: "unix:///run/buildkit/buildkitd.sock", Err: &ProbeError{Reason: TimedOut}},
				{Address: "unix:///run/buildkit-default/buildkitd.sock", Err: &ProbeError{Reason: NotProbed}},
			},
		},
		{
			name:   "one stale socket",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "unix:///tmp/bk/buildkitd.sock", Err: &ProbeError{Reason: Refused}},
			},
		},
		{
			name:   "regular file",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "unix:///tmp/bk/regular.sock", Err: &ProbeError{Reason: Refused, NotSocket: "regular file"}},
			},
		},
		{
			name:   "tcp refused",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "tcp://127.0.0.1:1234", Err: &ProbeError{
					Reason: Refused,
					Host:   "127.0.0.1:1234",
					Err:    errors.New("dial tcp 127.0.0.1:1234: connect: connection refused"),
				}},
			},
		},
		{
			name:   "tcp no route",
			source: FromEnv,
			attempts: []Attempt{
				{Address: "tcp://192.0.2.1:1234", Err: &ProbeError{
					Reason: NoRoute,
					Host:   "192.0.2.1:1234",
					Err:    errors.New("dial tcp 192.0.2.1:1234: connect: no route to host"),
				}},
			},
		},
		{
			name:   "tls handshake failed",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "tcp://127.0.0.1:1234", Err: &ProbeError{
					Reason: TLSFailed,
					Err: errors.New(`Unavailable: connection error: desc = "transport: authentication handshake failed: ` +
						`tls: failed to verify certificate: x509: certificate signed by unknown authority"`),
				}},
			},
		},
		{
			name:   "other grpc service",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "tcp://127.0.0.1:1234", Err: &ProbeError{
					Reason: NotBuildKit,
					Err:    errors.New("Unimplemented: unknown service moby.buildkit.v1.Control"),
				}},
			},
		},
		{
			name:   "unsupported scheme",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "http://127.0.0.1:1234/run/buildkit/buildkitd.sock", Err: &ProbeError{
					Reason: InvalidAddress,
					Err:    errors.New(`unsupported scheme "http"`),
				}},
			},
		},
		{
			name:   "helper dial failed",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "docker-container://buildkitd", Err: &ProbeError{
					Reason: DialFailed,
					Err:    errors.New(`Unavailable: connection error: desc = "transport: Error while dialing: exit status 1"`),
				}},
			},
		},
		{
			name:   "other error",
			source: FromFlag,
			attempts: []Attempt{
				{Address: "tcp://127.0.0.1:1", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Diagnose(tc.attempts, tc.source)
			golden := filepath.Join("testdata", "diagnose-"+slug(tc.name)+".txt")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got+"\n"), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(want), got+"\n")
		})
	}
}

func slug(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == ' ' {
			b[i] = '-'
		}
	}
	return string(b)
}
