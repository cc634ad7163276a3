//go:build windows

package connect

import (
	"io/fs"

	"github.com/buildhost/buildctl/internal/address"
)

// socketInfo returns nil because Windows has no owner and mode bits to show.
func socketInfo(string, fs.FileInfo) *address.SocketInfo {
	return nil
}
