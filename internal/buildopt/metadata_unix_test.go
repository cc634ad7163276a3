//go:build !windows

package buildopt

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteMetadataFileMode(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })

	path := filepath.Join(t.TempDir(), "meta.json")
	require.NoError(t, WriteMetadataFile(path, map[string]string{"k": "v"}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o666), fi.Mode().Perm())
}

func TestWriteMetadataFileKeepsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	require.NoError(t, os.WriteFile(target, []byte("old"), 0o644))
	link := filepath.Join(dir, "link.json")
	require.NoError(t, os.Symlink("real.json", link))

	require.NoError(t, WriteMetadataFile(link, map[string]string{"k": "v"}))

	info, err := os.Lstat(link)
	require.NoError(t, err)
	require.NotZero(t, info.Mode()&os.ModeSymlink, "the link was replaced by a file")
	data, err := os.ReadFile(target)
	require.NoError(t, err)
	require.JSONEq(t, `{"k":"v"}`, string(data))
}

func TestWriteMetadataFileToPipe(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	// /proc/self/fd/N is a link to "pipe:[...]", which is not a path, as
	// /dev/stdout is when stdout is a pipe.
	path := fmt.Sprintf("/proc/self/fd/%d", w.Fd())

	done := make(chan []byte)
	go func() {
		data, _ := io.ReadAll(r)
		done <- data
	}()
	require.NoError(t, WriteMetadataFile(path, map[string]string{"k": "v"}))
	require.NoError(t, w.Close())
	require.JSONEq(t, `{"k":"v"}`, string(<-done))
}

func TestWriteMetadataFileDevNull(t *testing.T) {
	require.NoError(t, WriteMetadataFile(os.DevNull, map[string]string{"k": "v"}))
	info, err := os.Stat(os.DevNull)
	require.NoError(t, err)
	require.NotZero(t, info.Mode()&os.ModeCharDevice, "/dev/null was replaced")
}
