package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/stretchr/testify/require"
)

// runDockerfile is the Dockerfile of most build tests: it copies busybox in
// so that a RUN step can write files of several modes.
const runDockerfile = `FROM scratch
COPY busybox /bin/busybox
COPY app.txt /srv/app.txt
RUN ["/bin/busybox","sh","-c","/bin/busybox mkdir -p /out/sub && /bin/busybox cp /srv/app.txt /out/a.txt && /bin/busybox chmod 0640 /out/a.txt && /bin/busybox ln -s a.txt /out/link"]
LABEL org.example.test=build
`

func buildContext(t *testing.T) string {
	t.Helper()
	return writeContext(t, map[string]string{
		"Dockerfile": runDockerfile,
		"busybox":    "@busybox",
		"app.txt":    "payload\n",
	})
}

// treeListing describes every entry under root as "path mode", followed by
// the content of a regular file or the target of a symlink.
func treeListing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		line := rel + " " + fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			line += " " + string(data)
		}
		out = append(out, line)
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestBuildLocalOutputSameTree(t *testing.T) {
	requireDaemon(t)
	ctx := buildContext(t)
	oursDir, refDir := t.TempDir(), t.TempDir()

	ours := run(oursBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "-o", "type=local,dest="+oursDir))})
	ref := run(referenceBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "-o", "type=local,dest="+refDir))})
	requireSameResult(t, ours, ref)
	require.Equal(t, 0, ref.ExitCode, ref.Stderr)
	require.Equal(t, treeListing(t, refDir), treeListing(t, oursDir))
}

// manifestShape reduces manifest.json to what does not depend on digests.
func manifestShape(t *testing.T, image []byte) []map[string]any {
	t.Helper()
	var manifests []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	require.NoError(t, json.Unmarshal(tarFile(t, image, "manifest.json"), &manifests))
	var shape []map[string]any
	for _, m := range manifests {
		shape = append(shape, map[string]any{
			"repoTags":      m.RepoTags,
			"configInBlobs": strings.HasPrefix(m.Config, "blobs/sha256/"),
			"layers":        len(m.Layers),
		})
	}
	return shape
}

func TestBuildDockerToPipe(t *testing.T) {
	requireDaemon(t)
	ctx := buildContext(t)
	args := dockerfileArgs(ctx, "--output=type=docker,name=example.com/demo:1")
	ours, ref := runBoth(t, shared, runOptions{Args: args})
	require.Equal(t, 0, ref.ExitCode, ref.Stderr)
	require.Equal(t, ref.ExitCode, ours.ExitCode, ours.Stderr)

	// The image config carries a creation time, so the reference's own
	// digests change from run to run. Compare with digests masked.
	ref2 := run(referenceBin, runOptions{Args: sharedArgs(args)})
	require.Equal(t, 0, ref2.ExitCode, ref2.Stderr)
	if ref.Stdout != ref2.Stdout {
		t.Log("reference docker tarball differs between runs; comparing with digests masked")
	}

	require.Equal(t, tarEntries(t, []byte(ref.Stdout), true), tarEntries(t, []byte(ours.Stdout), true))
	require.Equal(t, manifestShape(t, []byte(ref.Stdout)), manifestShape(t, []byte(ours.Stdout)))
}

func TestBuildTarToFile(t *testing.T) {
	requireDaemon(t)
	oursTar, refTar := buildBothToTar(t, buildContext(t))
	requireSameTarEntries(t, oursTar, refTar)

	oursInfo, err := os.Stat(oursTar)
	require.NoError(t, err)
	refInfo, err := os.Stat(refTar)
	require.NoError(t, err)
	require.Equal(t, refInfo.Mode(), oursInfo.Mode(), "tarball file mode")
}

func TestBuildMetadataFileKeys(t *testing.T) {
	requireDaemon(t)
	ctx := buildContext(t)
	dir := t.TempDir()

	keysOf := func(bin, name string) (result, map[string]json.RawMessage, os.FileMode) {
		meta := filepath.Join(dir, name+".json")
		res := run(bin, runOptions{Args: sharedArgs(dockerfileArgs(ctx,
			"--output", "type=docker,name=example.com/meta:1,dest="+filepath.Join(dir, name+".tar"),
			"--metadata-file", meta))})
		data, err := os.ReadFile(meta)
		require.NoError(t, err, res.Stderr)
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(data, &m))
		fi, err := os.Stat(meta)
		require.NoError(t, err)
		return res, m, fi.Mode()
	}
	ours, oursMeta, oursMode := keysOf(oursBin, "ours")
	ref, refMeta, refMode := keysOf(referenceBin, "ref")
	requireSameResult(t, ours, ref)
	require.Equal(t, refMode, oursMode)

	var oursKeys, refKeys []string
	for k := range oursMeta {
		oursKeys = append(oursKeys, k)
	}
	for k := range refMeta {
		refKeys = append(refKeys, k)
	}
	sort.Strings(oursKeys)
	sort.Strings(refKeys)
	require.Equal(t, refKeys, oursKeys)
	require.Contains(t, oursKeys, "containerimage.digest")

	var descriptor struct{ Digest string }
	require.NoError(t, json.Unmarshal(oursMeta["containerimage.descriptor"], &descriptor))
	var digest string
	require.NoError(t, json.Unmarshal(oursMeta["containerimage.digest"], &digest))
	require.Equal(t, digest, descriptor.Digest)
}

func TestBuildLLBFromStdin(t *testing.T) {
	requireDaemon(t)
	st := llb.Scratch().
		File(llb.Mkdir("/dir", 0o755)).
		File(llb.Mkfile("/dir/hello.txt", 0o640, []byte("hello from llb\n")))
	def, err := st.Marshal(context.Background())
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, llb.WriteTo(def, &buf))

	for _, noCache := range []bool{false, true} {
		name := "cached"
		args := []string{"build", "--progress=plain", "-o", "type=tar"}
		if noCache {
			name = "no-cache"
			args = append(args, "--no-cache")
		}
		t.Run(name, func(t *testing.T) {
			// Each run reads its own copy of the definition.
			args := sharedArgs(args)
			ours := run(oursBin, runOptions{Args: args, Stdin: bytes.NewReader(buf.Bytes())})
			ref := run(referenceBin, runOptions{Args: args, Stdin: bytes.NewReader(buf.Bytes())})
			require.Equal(t, 0, ref.ExitCode, ref.Stderr)
			require.Equal(t, ref.ExitCode, ours.ExitCode, ours.Stderr)
			require.Equal(t, tarEntries(t, []byte(ref.Stdout), false), tarEntries(t, []byte(ours.Stdout), false))
		})
	}
}

func TestBuildFailingRun(t *testing.T) {
	requireDaemon(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo failing; exit 3\"]\n",
		"busybox":    "@busybox",
	})
	ours, ref := runBoth(t, shared, runOptions{Args: dockerfileArgs(ctx, "-o", "type=tar")})
	requireSameResult(t, ours, ref)
	require.Equal(t, 1, ours.ExitCode)
	require.Empty(t, ours.Stdout)
	require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// activeBuild reports whether the daemon still runs the build with ref, or
// any build when ref is empty.
func activeBuild(t *testing.T, addr, ref string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	require.NoError(t, err)
	defer c.Close()

	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{ActiveOnly: true, EarlyExit: true})
	require.NoError(t, err)
	active := false
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return active
		}
		require.NoError(t, err)
		if ev.Record != nil && (ref == "" || ev.Record.Ref == ref) {
			active = true
		}
	}
}

func TestBuildSignalCancelsSolve(t *testing.T) {
	requireDaemon(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo step-running; exec /bin/busybox sleep 120\"]\n",
		"busybox":    "@busybox",
	})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			refFile := filepath.Join(t.TempDir(), "ref")
			args := sharedArgs(dockerfileArgs(ctx, "--no-cache", "--ref-file", refFile, "-o", "type=tar,dest="+filepath.Join(t.TempDir(), "o.tar")))
			cmd := exec.Command(oursBin, args...)
			cmd.Env = cleanEnv()
			var stderr lockedBuffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())

			deadline := time.Now().Add(60 * time.Second)
			for !strings.Contains(stderr.String(), " step-running\n") {
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("RUN step did not start:\n%s", stderr.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			// Shows that the check below can see a running build.
			require.True(t, activeBuild(t, shared.addr, ""), "no active build seen while the RUN step runs")
			require.NoError(t, cmd.Process.Signal(sig))

			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var exitErr *exec.ExitError
				require.ErrorAs(t, err, &exitErr)
				require.Equal(t, 1, exitErr.ExitCode())
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("buildctl did not exit within 20s of the signal")
			}
			require.Equal(t, "error: failed to solve: Canceled: context canceled", lastLine(stderr.String()))

			ref, err := os.ReadFile(refFile)
			require.NoError(t, err)
			require.NotEmpty(t, ref)
			waitNotActive(t, shared.addr, string(ref))
		})
	}
}

func TestBuildSecretNotInOutput(t *testing.T) {
	requireDaemon(t)
	const secret = "s3cr3t-value-7f1e"
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch AS run\nCOPY busybox /bin/busybox\n" +
			"RUN --mount=type=secret,id=tok [\"/bin/busybox\",\"sh\",\"-c\",\"/bin/busybox cat /run/secrets/tok > /got.txt; echo done\"]\n" +
			"FROM scratch\nCOPY --from=run /got.txt /\n",
		"busybox": "@busybox",
	})
	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(secret), 0o600))

	for _, mode := range []string{"plain", "rawjson"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			args := []string{"--debug", "--addr", shared.addr, "build", "--progress=" + mode, "--no-cache",
				"--frontend=dockerfile.v0", "--local", "context=" + ctx, "--local", "dockerfile=" + ctx,
				"--secret", "id=tok,src=" + secretFile, "-o", "type=local,dest=" + out}
			res := run(oursBin, runOptions{Args: args})
			require.Equal(t, 0, res.ExitCode, res.Stderr)

			got, err := os.ReadFile(filepath.Join(out, "got.txt"))
			require.NoError(t, err)
			require.Equal(t, secret, string(got), "secret did not reach the RUN step")
			require.NotContains(t, res.Stderr, secret)
			require.NotContains(t, res.Stdout, secret)
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
