package integration

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Helpers that tests in several files share: build arguments, build cache
// set-up, tarball listings and module versions.

// sharedArgs puts the shared daemon's address before args.
func sharedArgs(args []string) []string {
	return append([]string{"--addr", shared.addr}, args...)
}

// dockerfileArgs returns the build arguments for a Dockerfile build of ctx.
func dockerfileArgs(ctx string, extra ...string) []string {
	args := []string{"build", "--progress=plain", "--frontend=dockerfile.v0",
		"--local", "context=" + ctx, "--local", "dockerfile=" + ctx}
	return append(args, extra...)
}

// buildBothToTar builds the Dockerfile in ctx on the shared daemon with ours
// and with the reference, each exporting a tarball to its own file. It fails
// the test unless both succeed with the same result, and returns the paths
// of the two tarballs.
func buildBothToTar(t *testing.T, ctx string) (oursTar, refTar string) {
	t.Helper()
	dir := t.TempDir()
	oursTar, refTar = filepath.Join(dir, "ours.tar"), filepath.Join(dir, "ref.tar")
	ours := run(oursBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "-o", "type=tar,dest="+oursTar))})
	ref := run(referenceBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "-o", "type=tar,dest="+refTar))})
	requireSameResult(t, ours, ref)
	require.Equal(t, 0, ref.ExitCode, ref.Stderr)
	return oursTar, refTar
}

// requireSameTarEntries fails when the tarballs at oursTar and refTar list
// different entries, and returns their contents for further checks.
func requireSameTarEntries(t *testing.T, oursTar, refTar string) (oursData, refData []byte) {
	t.Helper()
	oursData, err := os.ReadFile(oursTar)
	require.NoError(t, err)
	refData, err = os.ReadFile(refTar)
	require.NoError(t, err)
	require.Equal(t, tarEntries(t, refData, false), tarEntries(t, oursData, false))
	return oursData, refData
}

// tarEntries lists the headers of a tar stream as "name mode linkname".
// With maskDigests, sha256 hex strings are replaced.
func tarEntries(t *testing.T, data []byte, maskDigests bool) []string {
	t.Helper()
	hex := regexp.MustCompile(`[0-9a-f]{64}`)
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		line := h.Name + " " + h.FileInfo().Mode().String() + " " + h.Linkname
		if maskDigests {
			line = hex.ReplaceAllString(line, "<digest>")
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// readTar returns the regular files of a tar stream by name.
func readTar(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		require.NoError(t, err)
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		files[hdr.Name] = body
	}
}

// tarFile returns the content of the regular file name in a tar stream and
// fails the test when the stream has no such file.
func tarFile(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	content, ok := readTar(t, data)[name]
	require.True(t, ok, "regular file %s not found in the tarball", name)
	return content
}

// cacheProbeContext writes a build context whose build leaves local sources,
// a COPY layer and an exec mount with a parent, so du and prune show every
// kind of record.
func cacheProbeContext(t *testing.T) string {
	t.Helper()
	return writeContext(t, map[string]string{
		"busybox": "@busybox",
		"Dockerfile": "FROM scratch\n" +
			"COPY busybox /bin/busybox\n" +
			`RUN ["/bin/busybox","sh","-c","echo inspect-probe > /probe.txt"]` + "\n",
	})
}

// fillCache builds dir on d with the reference buildctl, so that the cache
// state does not depend on our build command.
func fillCache(t *testing.T, d *daemon, dir string) {
	t.Helper()
	res := run(referenceBin, runOptions{Args: []string{
		"--addr", d.addr, "build", "--progress=quiet", "--frontend=dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir,
		"--output", "type=tar,dest=" + t.TempDir() + "/out.tar",
	}})
	require.Equal(t, 0, res.ExitCode, "reference build failed: %s", res.Stderr)
}

// twinDaemons are two private daemons that hold the same build cache, so a
// command that changes the cache can run with ours on one and with the
// reference on the other.
type twinDaemons struct {
	ours, ref *daemon
	// context is the build context whose build fills the cache.
	context string
}

// startTwinDaemons starts two daemons and fills both caches with the build
// of cacheProbeContext.
func startTwinDaemons(t *testing.T) *twinDaemons {
	t.Helper()
	twins := &twinDaemons{ours: startDaemon(t), ref: startDaemon(t), context: cacheProbeContext(t)}
	twins.fill(t)
	return twins
}

// fill builds the context again on both daemons, which restores the cache
// records that a prune deleted.
func (d *twinDaemons) fill(t *testing.T) {
	t.Helper()
	fillCache(t, d.ours, d.context)
	fillCache(t, d.ref, d.context)
}

// buildkitModule is the module path of BuildKit, whose version in go.mod
// selects the reference buildctl and buildkitd.
const buildkitModule = "github.com/moby/buildkit"

// moduleVersion returns the version of module that go.mod requires.
func moduleVersion(module string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", module).Output()
	if err != nil {
		return "", fmt.Errorf("read the version of %s from go.mod: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}
