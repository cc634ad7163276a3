// Package version reports the module path, version and VCS revision this
// binary was built from, as recorded by the Go toolchain.
package version

import (
	"runtime/debug"
	"sync"
)

const fallbackModule = "github.com/buildhost/buildctl"

// Set with -ldflags "-X github.com/buildhost/buildctl/internal/version.version=..."
// by release builds; otherwise taken from the build information.
var (
	version  string
	revision string
)

var readBuildInfo = sync.OnceValue(func() *debug.BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return &debug.BuildInfo{}
	}
	return info
})

// Module returns the Go module path of the main package.
func Module() string {
	if p := readBuildInfo().Main.Path; p != "" {
		return p
	}
	return fallbackModule
}

// Version returns the release version, the module version of a
// "go install pkg@version" build, or "v0.0.0+unknown".
func Version() string {
	if version != "" {
		return version
	}
	if v := readBuildInfo().Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "v0.0.0+unknown"
}

// Revision returns the VCS commit, with a "+dirty" suffix for a modified
// work tree, or "unknown" when the build carries no VCS information. It is
// never empty, so that "buildctl --version" always prints four fields.
func Revision() string {
	if revision != "" {
		return revision
	}
	var rev, modified string
	for _, s := range readBuildInfo().Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "unknown"
	}
	if modified == "true" {
		rev += "+dirty"
	}
	return rev
}
