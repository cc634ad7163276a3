//go:build !windows

package address

import (
	"path/filepath"

	"github.com/moby/buildkit/util/appdefaults"
)

// Candidates lists the sockets discovery tries, in order and without
// duplicates. BuildKit's default socket comes first, so that wherever
// BuildKit's buildctl reaches a daemon, discovery picks the same one. Then
// come the rootless sockets under env.RuntimeDir (only when not root), then
// the sockets nerdctl uses per containerd namespace under /run.
func Candidates(env Env) []string {
	addrs := []string{appdefaults.Address}
	namespaced := env.Namespace != "" && env.Namespace != "default"

	if env.Rootless && env.RuntimeDir != "" {
		if namespaced {
			addrs = append(addrs, socketAddress(filepath.Join(env.RuntimeDir, "buildkit-"+env.Namespace)))
		}
		addrs = append(addrs,
			socketAddress(filepath.Join(env.RuntimeDir, "buildkit-default")),
			socketAddress(filepath.Join(env.RuntimeDir, "buildkit")),
		)
	}

	if namespaced {
		addrs = append(addrs, socketAddress("/run/buildkit-"+env.Namespace))
	}
	addrs = append(addrs, socketAddress("/run/buildkit-default"))
	return dedupe(addrs)
}
