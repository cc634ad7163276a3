//go:build !windows

package main

import (
	"syscall"

	fscopy "github.com/tonistiigi/fsutil/copy"
)

// BuildKit's buildctl clears the umask at start. Files it writes then keep
// the modes the daemon sends (local exporter), and created files get mode
// 0666 (tarball dest, --ref-file). A drop-in must produce the same modes.
func init() {
	syscall.Umask(0)
	fscopy.UmaskIsZero = true
}
