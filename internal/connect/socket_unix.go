//go:build !windows

package connect

import (
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/buildhost/buildctl/internal/address"
)

// socketInfo collects the owner and mode of the socket file or folder at
// path and the ids of the calling process, to explain a denied connection.
func socketInfo(path string, info fs.FileInfo) *address.SocketInfo {
	si := &address.SocketInfo{
		Path:      path,
		Folder:    info.IsDir(),
		Mode:      info.Mode(),
		CallerUID: os.Geteuid(),
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		si.Owner = userName(st.Uid)
		si.Group = groupName(st.Gid)
		si.GID = int(st.Gid)
	}
	si.CallerGroups = append(si.CallerGroups, os.Getegid())
	if groups, err := os.Getgroups(); err == nil {
		for _, g := range groups {
			if g != os.Getegid() {
				si.CallerGroups = append(si.CallerGroups, g)
			}
		}
	}
	return si
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username + " (" + id + ")"
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name + " (" + id + ")"
	}
	return id
}
