package buildopt

import (
	"github.com/tonistiigi/fsutil"
)

// ParseLocal parses the --local NAME=DIR values into file systems that the
// session serves to the daemon. The daemon sends the exclude patterns it
// read from .dockerignore with each request, so no filtering happens here.
func ParseLocal(values []string) (map[string]fsutil.FS, error) {
	dirs, err := keyValueMap(values)
	if err != nil {
		return nil, err
	}
	mounts := make(map[string]fsutil.FS, len(dirs))
	for name, dir := range dirs {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return nil, err
		}
		mounts[name] = fs
	}
	return mounts, nil
}
