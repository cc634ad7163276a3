package address

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzNewPlan checks the address plan for any --addr, BUILDKIT_HOST and
// environment. Properties: no panic, at least one address and no repeats,
// a given address comes first in its normalized form, and only a
// well-known socket gets fallback candidates.
func FuzzNewPlan(f *testing.F) {
	f.Fuzz(func(t *testing.T, flagAddr string, flagSet bool, host, runtimeDir, namespace string, rootless, noFallback bool) {
		env := Env{BuildkitHost: host, RuntimeDir: runtimeDir, Namespace: namespace, Rootless: rootless, NoFallback: noFallback}
		plan := NewPlan(flagAddr, flagSet, env)

		require.NotEmpty(t, plan.Addresses)
		seen := map[string]bool{}
		for _, a := range plan.Addresses {
			require.False(t, seen[a], "address %q listed twice in %q", a, plan.Addresses)
			seen[a] = true
		}
		if noFallback {
			require.Len(t, plan.Addresses, 1)
		}

		given := host
		if flagSet {
			given = flagAddr
		}
		if given == "" {
			require.False(t, plan.Given)
			require.Equal(t, Candidates(env)[0], plan.Addresses[0])
			return
		}
		require.True(t, plan.Given)
		require.Equal(t, Normalize(given), plan.Addresses[0])
		if plan.Fallback() {
			require.True(t, IsWellKnown(plan.Addresses[0], env), "fallback for custom address %q", plan.Addresses[0])
		}
	})
}

// FuzzUnixPath checks that a bare absolute path survives Normalize and
// UnixPath unchanged, and that other values are left as they are.
func FuzzUnixPath(f *testing.F) {
	f.Fuzz(func(t *testing.T, addr string) {
		normalized := Normalize(addr)
		if strings.HasPrefix(addr, "/") {
			p, ok := UnixPath(normalized)
			require.True(t, ok)
			require.Equal(t, addr, p)
			return
		}
		require.Equal(t, addr, normalized)
		if p, ok := UnixPath(addr); ok {
			require.Equal(t, "unix://"+p, addr)
		}
	})
}
