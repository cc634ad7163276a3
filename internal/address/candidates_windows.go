//go:build windows

package address

import "github.com/moby/buildkit/util/appdefaults"

// Candidates lists the addresses discovery tries. On Windows buildkitd
// listens on one named pipe by default and nerdctl has no per-namespace
// sockets, so the list holds BuildKit's default only.
func Candidates(Env) []string {
	return []string{appdefaults.Address}
}
