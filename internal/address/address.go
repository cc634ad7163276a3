// Package address decides which buildkitd addresses buildctl tries, in which
// order, and explains why none of them responded.
//
// The order is --addr, then BUILDKIT_HOST, then discovery over well-known
// socket paths (see Candidates). Probing is injected, so the decisions are
// tested without a daemon.
package address

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// NoFallbackEnv names the environment variable that turns discovery and
// fallback off when set to a true value ("1", "true"): buildctl then uses
// exactly the address BuildKit's own buildctl would use.
const NoFallbackEnv = "BUILDCTL_NO_FALLBACK"

// socketName is the file name buildkitd and nerdctl use inside each socket folder.
const socketName = "buildkitd.sock"

// Env is the part of the process environment that address selection reads.
// The zero value means: no BUILDKIT_HOST, root, no XDG_RUNTIME_DIR, no
// containerd namespace and fallback enabled.
type Env struct {
	// BuildkitHost is the value of BUILDKIT_HOST.
	BuildkitHost string
	// RuntimeDir is the first entry of XDG_RUNTIME_DIR.
	RuntimeDir string
	// Namespace is the value of CONTAINERD_NAMESPACE.
	Namespace string
	// Rootless is true when the effective user is not root.
	Rootless bool
	// NoFallback is true when NoFallbackEnv is set to a true value.
	NoFallback bool
}

// EnvFromOS reads Env from the environment of the current process.
func EnvFromOS() Env {
	runtimeDir, _, _ := strings.Cut(os.Getenv("XDG_RUNTIME_DIR"), ":")
	noFallback := strings.ToLower(os.Getenv(NoFallbackEnv))
	return Env{
		BuildkitHost: os.Getenv("BUILDKIT_HOST"),
		RuntimeDir:   runtimeDir,
		Namespace:    os.Getenv("CONTAINERD_NAMESPACE"),
		Rootless:     os.Geteuid() != 0,
		NoFallback:   noFallback == "1" || noFallback == "true" || noFallback == "yes",
	}
}

// Plan is the ordered list of addresses to try for one connection.
type Plan struct {
	// Addresses lists the address in use first, then the fallback
	// candidates. It always has at least one entry.
	Addresses []string
	// Given is true when the first address came from --addr or BUILDKIT_HOST.
	Given bool
	// Source names where the first address came from.
	Source Source
}

// Source names where the first address of a plan came from, so advice can
// name the setting to correct.
type Source string

// The sources of an address, in the order NewPlan consults them.
const (
	FromFlag      Source = "--addr"
	FromEnv       Source = "BUILDKIT_HOST"
	FromDiscovery Source = ""
)

// Fallback reports whether the plan has candidates after the first address.
func (p Plan) Fallback() bool {
	return len(p.Addresses) > 1
}

// NewPlan orders the addresses to try. flagAddr is the --addr value and
// flagSet reports whether it was given on the command line; without it,
// env.BuildkitHost is used, and without that, discovery.
//
// A given address that is one of the well-known sockets (see IsWellKnown)
// gets the other candidates as fallbacks. Custom paths, tcp:// and the
// connection-helper schemes never fall back. With env.NoFallback the plan
// holds exactly the address BuildKit's buildctl would use.
func NewPlan(flagAddr string, flagSet bool, env Env) Plan {
	given, source := "", FromDiscovery
	switch {
	case flagSet:
		given, source = flagAddr, FromFlag
	case env.BuildkitHost != "":
		given, source = env.BuildkitHost, FromEnv
	}

	if given == "" {
		candidates := Candidates(env)
		if env.NoFallback {
			return Plan{Addresses: candidates[:1]}
		}
		return Plan{Addresses: candidates}
	}

	given = Normalize(given)
	if env.NoFallback || !IsWellKnown(given, env) {
		return Plan{Addresses: []string{given}, Given: true, Source: source}
	}
	addrs := append([]string{given}, nerdctlNext(given)...)
	return Plan{Addresses: dedupe(append(addrs, Candidates(env)...)), Given: true, Source: source}
}

// nerdctlNext returns the sockets that nerdctl probes after addr when addr is
// one of its per-namespace sockets: buildkit-NS, then buildkit-default, then
// buildkit, in the same folder. Falling back in that order reaches the daemon
// that nerdctl with BuildKit's buildctl would have picked, even when separate
// daemons listen on buildkit-default and buildkit.
func nerdctlNext(addr string) []string {
	p, ok := UnixPath(addr)
	if !ok || path.Base(p) != socketName {
		return nil
	}
	dir := path.Dir(p)
	root := path.Dir(dir)
	switch name := path.Base(dir); {
	case name == "buildkit-default":
		return []string{socketAddress(path.Join(root, "buildkit"))}
	case strings.HasPrefix(name, "buildkit-"):
		return []string{
			socketAddress(path.Join(root, "buildkit-default")),
			socketAddress(path.Join(root, "buildkit")),
		}
	}
	return nil
}

// Normalize turns a bare absolute path into a unix:// address and returns
// every other value unchanged. BuildKit's buildctl rejects a bare path with
// "missing port in address", so accepting it changes no working call.
func Normalize(addr string) string {
	if strings.HasPrefix(addr, "/") {
		return "unix://" + addr
	}
	return addr
}

// UnixPath returns the socket path of a unix:// address.
func UnixPath(addr string) (string, bool) {
	p, ok := strings.CutPrefix(addr, "unix://")
	if !ok || p == "" {
		return "", false
	}
	return p, true
}

// TCPHostPort returns the host:port that BuildKit's client dials for addr:
// the host of a tcp:// URL, or addr itself when it has no "://" and is of
// the form host:port, which gRPC dials over TCP as it is.
func TCPHostPort(addr string) (string, bool) {
	if rest, ok := strings.CutPrefix(addr, "tcp://"); ok {
		u, err := url.Parse(addr)
		if err != nil {
			return rest, true
		}
		return u.Host, true
	}
	if strings.Contains(addr, "://") {
		return "", false
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", false
	}
	return addr, true
}

// IsWellKnown reports whether addr is a discovery candidate, or a socket
// that follows the same naming for another containerd namespace:
// <dir>/buildkit-<namespace>/buildkitd.sock under /run or, when rootless,
// under the runtime folder. nerdctl probes such paths for the namespace it
// runs in, which buildctl does not always see in its environment.
func IsWellKnown(addr string, env Env) bool {
	for _, c := range Candidates(env) {
		if addr == c {
			return true
		}
	}
	p, ok := UnixPath(addr)
	if !ok || path.Base(p) != socketName {
		return false
	}
	dir := path.Dir(p)
	if !strings.HasPrefix(path.Base(dir), "buildkit-") {
		return false
	}
	parent := path.Dir(dir)
	if parent == "/run" {
		return true
	}
	return env.Rootless && env.RuntimeDir != "" && parent == filepath.ToSlash(filepath.Clean(env.RuntimeDir))
}

func socketAddress(dir string) string {
	return "unix://" + path.Join(filepath.ToSlash(dir), socketName)
}

func dedupe(addrs []string) []string {
	seen := make(map[string]bool, len(addrs))
	out := addrs[:0:0]
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
