package address

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewPlan(t *testing.T) {
	rootless := Env{Rootless: true, RuntimeDir: "/run/user/1000"}
	cases := []struct {
		name    string
		flag    string
		flagSet bool
		env     Env
		want    []string
		given   bool
	}{
		{
			name: "discovery as root",
			want: []string{
				"unix:///run/buildkit/buildkitd.sock",
				"unix:///run/buildkit-default/buildkitd.sock",
			},
		},
		{
			name: "discovery with namespace",
			env:  Env{Namespace: "k8s.io"},
			want: []string{
				"unix:///run/buildkit/buildkitd.sock",
				"unix:///run/buildkit-k8s.io/buildkitd.sock",
				"unix:///run/buildkit-default/buildkitd.sock",
			},
		},
		{
			name: "discovery rootless with namespace",
			env:  Env{Rootless: true, RuntimeDir: "/run/user/1000", Namespace: "k8s.io"},
			want: []string{
				"unix:///run/buildkit/buildkitd.sock",
				"unix:///run/user/1000/buildkit-k8s.io/buildkitd.sock",
				"unix:///run/user/1000/buildkit-default/buildkitd.sock",
				"unix:///run/user/1000/buildkit/buildkitd.sock",
				"unix:///run/buildkit-k8s.io/buildkitd.sock",
				"unix:///run/buildkit-default/buildkitd.sock",
			},
		},
		{
			name: "default namespace is not repeated",
			env:  Env{Rootless: true, RuntimeDir: "/run/user/1000", Namespace: "default"},
			want: []string{
				"unix:///run/buildkit/buildkitd.sock",
				"unix:///run/user/1000/buildkit-default/buildkitd.sock",
				"unix:///run/user/1000/buildkit/buildkitd.sock",
				"unix:///run/buildkit-default/buildkitd.sock",
			},
		},
		{
			name: "runtime dir ignored as root",
			env:  Env{RuntimeDir: "/run/user/0"},
			want: []string{
				"unix:///run/buildkit/buildkitd.sock",
				"unix:///run/buildkit-default/buildkitd.sock",
			},
		},
		{
			name: "discovery without fallback",
			env:  Env{NoFallback: true, Namespace: "k8s.io"},
			want: []string{"unix:///run/buildkit/buildkitd.sock"},
		},
		{
			name:    "flag with well-known socket falls back",
			flag:    "unix:///run/buildkit-default/buildkitd.sock",
			flagSet: true,
			env:     rootless,
			want: []string{
				"unix:///run/buildkit-default/buildkitd.sock",
				"unix:///run/buildkit/buildkitd.sock",
				"unix:///run/user/1000/buildkit-default/buildkitd.sock",
				"unix:///run/user/1000/buildkit/buildkitd.sock",
			},
			given: true,
		},
		{
			name:    "flag with other namespace falls back",
			flag:    "unix:///run/buildkit-k8s.io/buildkitd.sock",
			flagSet: true,
			want: []string{
				"unix:///run/buildkit-k8s.io/buildkitd.sock",
				"unix:///run/buildkit-default/buildkitd.sock",
				"unix:///run/buildkit/buildkitd.sock",
			},
			given: true,
		},
		{
			name:    "bare path becomes unix address",
			flag:    "/run/buildkit/buildkitd.sock",
			flagSet: true,
			want: []string{
				"unix:///run/buildkit/buildkitd.sock",
				"unix:///run/buildkit-default/buildkitd.sock",
			},
			given: true,
		},
		{
			name:    "custom path has no fallback",
			flag:    "unix:///tmp/bk/buildkitd.sock",
			flagSet: true,
			want:    []string{"unix:///tmp/bk/buildkitd.sock"},
			given:   true,
		},
		{
			name:    "custom bare path has no fallback",
			flag:    "/tmp/bk.sock",
			flagSet: true,
			want:    []string{"unix:///tmp/bk.sock"},
			given:   true,
		},
		{
			name:    "tcp has no fallback",
			flag:    "tcp://127.0.0.1:1234",
			flagSet: true,
			want:    []string{"tcp://127.0.0.1:1234"},
			given:   true,
		},
		{
			name:    "connection helper has no fallback",
			flag:    "docker-container://buildkitd",
			flagSet: true,
			want:    []string{"docker-container://buildkitd"},
			given:   true,
		},
		{
			name:    "well-known socket without fallback",
			flag:    "unix:///run/buildkit-default/buildkitd.sock",
			flagSet: true,
			env:     Env{NoFallback: true},
			want:    []string{"unix:///run/buildkit-default/buildkitd.sock"},
			given:   true,
		},
		{
			name:  "BUILDKIT_HOST when flag unset",
			flag:  "ignored",
			env:   Env{BuildkitHost: "tcp://10.0.0.1:1234"},
			want:  []string{"tcp://10.0.0.1:1234"},
			given: true,
		},
		{
			name:    "flag wins over BUILDKIT_HOST",
			flag:    "unix:///tmp/flag.sock",
			flagSet: true,
			env:     Env{BuildkitHost: "tcp://10.0.0.1:1234"},
			want:    []string{"unix:///tmp/flag.sock"},
			given:   true,
		},
		{
			name:  "BUILDKIT_HOST with well-known socket falls back",
			env:   Env{BuildkitHost: "unix:///run/buildkit-default/buildkitd.sock"},
			want:  []string{"unix:///run/buildkit-default/buildkitd.sock", "unix:///run/buildkit/buildkitd.sock"},
			given: true,
		},
		{
			name:    "socket of another name has no fallback",
			flag:    "unix:///run/buildkit-default/other.sock",
			flagSet: true,
			want:    []string{"unix:///run/buildkit-default/other.sock"},
			given:   true,
		},
		{
			name:    "rootless namespace socket of another user has no fallback",
			flag:    "unix:///run/user/1001/buildkit-default/buildkitd.sock",
			flagSet: true,
			env:     rootless,
			want:    []string{"unix:///run/user/1001/buildkit-default/buildkitd.sock"},
			given:   true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := NewPlan(tc.flag, tc.flagSet, tc.env)
			require.Equal(t, tc.want, plan.Addresses)
			require.Equal(t, tc.given, plan.Given)
		})
	}
}

func TestFindOrder(t *testing.T) {
	errRefused := &ProbeError{Reason: Refused}
	cases := []struct {
		name       string
		responding map[string]bool
		wantChosen string
		wantProbed []string
	}{
		{
			name:       "first responds",
			responding: map[string]bool{"a": true, "b": true},
			wantChosen: "a",
			wantProbed: []string{"a"},
		},
		{
			name:       "falls back to second",
			responding: map[string]bool{"b": true, "c": true},
			wantChosen: "b",
			wantProbed: []string{"a", "b"},
		},
		{
			name:       "none responds",
			responding: map[string]bool{},
			wantChosen: "",
			wantProbed: []string{"a", "b", "c"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var probed []string
			probe := func(_ context.Context, addr string) error {
				probed = append(probed, addr)
				if tc.responding[addr] {
					return nil
				}
				return errRefused
			}
			chosen, attempts := Find(context.Background(), []string{"a", "b", "c"}, probe)
			require.Equal(t, tc.wantChosen, chosen)
			require.Equal(t, tc.wantProbed, probed)
			require.Len(t, attempts, len(probed))
		})
	}
}

func TestUnreachableKeepsFirstLine(t *testing.T) {
	cmdErr := errors.New("failed to list workers: Unavailable: connection refused")
	err := Unreachable(cmdErr, FromDiscovery, []Attempt{{Address: "unix:///a.sock", Err: &ProbeError{Reason: NotFound}}})

	require.ErrorIs(t, err, ErrUnreachable)
	require.ErrorIs(t, err, cmdErr)
	require.Equal(t, cmdErr.Error(), firstLine(err.Error()))
	require.Same(t, err, Unreachable(err, FromDiscovery, nil), "a second wrap must not add a second diagnosis")
	require.NoError(t, Unreachable(nil, FromDiscovery, nil))
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

func TestNewPlanSource(t *testing.T) {
	cases := []struct {
		name    string
		flag    string
		flagSet bool
		env     Env
		want    Source
	}{
		{name: "discovery", want: FromDiscovery},
		{name: "empty flag means discovery", flagSet: true, want: FromDiscovery},
		{name: "flag", flag: "unix:///tmp/x.sock", flagSet: true, env: Env{BuildkitHost: "tcp://10.0.0.1:1234"}, want: FromFlag},
		{name: "well-known flag", flag: "unix:///run/buildkit-default/buildkitd.sock", flagSet: true, want: FromFlag},
		{name: "environment", env: Env{BuildkitHost: "unix:///tmp/x.sock"}, want: FromEnv},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, NewPlan(tc.flag, tc.flagSet, tc.env).Source)
		})
	}
}

func TestPoll(t *testing.T) {
	const interval = 50 * time.Millisecond
	// responded marks, in wantReasons, an address that responded.
	const responded Reason = -1
	addrs := []string{"a", "b"}
	cases := []struct {
		name string
		// probe returns the outcome of the n-th probe of addr, counting from 1.
		probe       func(ctx context.Context, addr string, n int) error
		wantChosen  string
		wantReasons []Reason
	}{
		{
			name: "responds in a later round",
			probe: func(_ context.Context, addr string, n int) error {
				if addr == "b" && n == 3 {
					return nil
				}
				return &ProbeError{Reason: Refused}
			},
			wantChosen:  "b",
			wantReasons: []Reason{Refused, responded},
		},
		{
			name: "none responds",
			probe: func(_ context.Context, addr string, n int) error {
				return &ProbeError{Reason: NotFound}
			},
			wantReasons: []Reason{NotFound, NotFound},
		},
		{
			name: "last reason of each address",
			probe: func(ctx context.Context, addr string, n int) error {
				switch {
				case addr == "a" && n >= 2:
					// The second round of a uses up the wait.
					<-ctx.Done()
					return &ProbeError{Reason: TimedOut}
				case addr == "a":
					return &ProbeError{Reason: Refused}
				}
				return &ProbeError{Reason: NotFound}
			},
			wantReasons: []Reason{TimedOut, NotFound},
		},
		{
			name: "slow first address",
			probe: func(ctx context.Context, addr string, n int) error {
				<-ctx.Done()
				return &ProbeError{Reason: TimedOut}
			},
			wantReasons: []Reason{TimedOut, NotProbed},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			calls := map[string]int{}
			probe := func(ctx context.Context, addr string) error {
				calls[addr]++
				return tc.probe(ctx, addr, calls[addr])
			}

			start := time.Now()
			chosen, attempts := Poll(ctx, addrs, probe, interval)
			took := time.Since(start)

			require.Equal(t, tc.wantChosen, chosen)
			require.Less(t, took, 450*time.Millisecond, "the deadline must bound the whole wait")
			require.Len(t, attempts, len(tc.wantReasons))
			for i, want := range tc.wantReasons {
				require.Equal(t, addrs[i], attempts[i].Address)
				if want == responded {
					require.NoError(t, attempts[i].Err, "address %s", addrs[i])
					continue
				}
				var pe *ProbeError
				require.ErrorAs(t, attempts[i].Err, &pe, "address %s", addrs[i])
				require.Equal(t, want, pe.Reason, "address %s", addrs[i])
			}
		})
	}
}
