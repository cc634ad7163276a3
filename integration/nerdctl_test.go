package integration

// These tests replay how nerdctl (v2.3.4-217-g8da50408, observed with
// BuildKit v0.34.2) execs buildctl: the argv shapes, stdin from /dev/null,
// stdout and stderr wired as nerdctl wires them, and the output fields
// nerdctl parses.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nerdctlCall is one buildctl invocation wired the way nerdctl wires it.
type nerdctlCall struct {
	args []string
	dir  string
	env  []string
	// combined sends stdout and stderr into one pipe, as nerdctl's host
	// probe does. Otherwise each stream gets its own pipe.
	combined bool
}

type nerdctlResult struct {
	stdout   []byte
	stderr   []byte
	exitCode int
}

// execLikeNerdctl runs bin with stdin from /dev/null and its output on pipes.
func execLikeNerdctl(t *testing.T, bin string, call nerdctlCall) nerdctlResult {
	t.Helper()
	devNull, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer devNull.Close()

	cmd := exec.Command(bin, call.args...)
	cmd.Dir = call.dir
	cmd.Env = append(cleanEnv(), call.env...)
	cmd.Stdin = devNull
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if call.combined {
		// The same writer for both streams makes os/exec hand the child
		// one pipe as fd 1 and fd 2.
		cmd.Stderr = &stdout
	}

	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not exit within 3 minutes", bin, call.args)
	}

	res := nerdctlResult{stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		res.exitCode = exitErr.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return res
}

// probeHosts picks the first candidate whose "debug workers" exits 0, as
// nerdctl's host selection does, and returns it with the exit code of
// every probe.
func probeHosts(t *testing.T, bin string, candidates []string) (string, []int) {
	t.Helper()
	var codes []int
	for _, host := range candidates {
		res := execLikeNerdctl(t, bin, nerdctlCall{args: []string{"--addr=" + host, "debug", "workers"}, combined: true})
		codes = append(codes, res.exitCode)
		if res.exitCode == 0 {
			return host, codes
		}
	}
	return "", codes
}

func TestNerdctlHostProbe(t *testing.T) {
	requireDaemon(t)
	missing := "unix://" + filepath.Join(t.TempDir(), "buildkit-default", "buildkitd.sock")
	candidates := []string{missing, shared.addr}

	for _, bin := range []struct{ name, path string }{{"ours", oursBin}, {"reference", referenceBin}} {
		t.Run(bin.name, func(t *testing.T) {
			host, codes := probeHosts(t, bin.path, candidates)
			require.Equal(t, shared.addr, host)
			require.Equal(t, []int{1, 0}, codes)
		})
	}

	t.Run("addr wins over BUILDKIT_HOST", func(t *testing.T) {
		res := execLikeNerdctl(t, oursBin, nerdctlCall{
			args:     []string{"--addr=" + shared.addr, "debug", "workers"},
			env:      []string{"BUILDKIT_HOST=unix:///run/nonexistent/buildkitd.sock"},
			combined: true,
		})
		require.Equal(t, 0, res.exitCode, "output: %s", res.stdout)
	})

	t.Run("BUILDKIT_HOST down fails", func(t *testing.T) {
		call := nerdctlCall{args: []string{"--addr=" + missing, "debug", "workers"}, env: []string{"BUILDKIT_HOST=" + missing}, combined: true}
		ours := execLikeNerdctl(t, oursBin, call)
		ref := execLikeNerdctl(t, referenceBin, call)
		require.Equal(t, ref.exitCode, ours.exitCode)
		// Only the exit code reaches the user here. The first line is the
		// one nerdctl logs when --buildkit-host fails, and later hint lines
		// are allowed where the reference fails too.
		require.Equal(t, firstOutputLine(ref.stdout), firstOutputLine(ours.stdout))
	})

	// The reference treats a path without scheme as a TCP address and
	// fails. Ours may reach a socket at that path, but none exists here.
	t.Run("address without scheme", func(t *testing.T) {
		call := nerdctlCall{args: []string{"--addr=" + filepath.Join(t.TempDir(), "buildkitd.sock"), "debug", "workers"}, combined: true}
		ours := execLikeNerdctl(t, oursBin, call)
		ref := execLikeNerdctl(t, referenceBin, call)
		require.Equal(t, 1, ref.exitCode)
		require.Equal(t, ref.exitCode, ours.exitCode, "output: %s", ours.stdout)
	})
}

func firstOutputLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}

func TestNerdctlWorkerLabels(t *testing.T) {
	requireDaemon(t)
	// nerdctl passes "--format" and the template as two argv items and
	// reads stdout only. stderr is captured apart and never shown.
	call := nerdctlCall{args: []string{"--addr=" + shared.addr, "debug", "workers", "--format", "{{json .}}"}}
	ours := execLikeNerdctl(t, oursBin, call)
	ref := execLikeNerdctl(t, referenceBin, call)
	require.Equal(t, 0, ours.exitCode, "stderr: %s", ours.stderr)
	require.Equal(t, string(ref.stdout), string(ours.stdout))

	var workers []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(ours.stdout, &workers))
	require.NotEmpty(t, workers, "nerdctl fails with \"no worker available\" on []")
	raw, ok := workers[0]["labels"]
	require.True(t, ok, "nerdctl fails with \"worker doesn't have labels\"")
	var labels map[string]string
	require.NoError(t, json.Unmarshal(raw, &labels))
	require.Equal(t, "oci", labels["org.mobyproject.buildkit.worker.executor"])
	require.Equal(t, "overlayfs", labels["org.mobyproject.buildkit.worker.snapshotter"])
}

// nerdctlUsage lists the fields and Go types nerdctl decodes from each object
// that "prune --format={{json .}}" prints.
type nerdctlUsage struct {
	ID          string     `json:"id"`
	Mutable     bool       `json:"mutable"`
	InUse       bool       `json:"inUse"`
	Size        int64      `json:"size"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt"`
	UsageCount  int        `json:"usageCount"`
	Parents     []string   `json:"parents"`
	Description string     `json:"description"`
	RecordType  string     `json:"recordType"`
	Shared      bool       `json:"shared"`
}

// decodePruneStream reads concatenated JSON objects until EOF, as nerdctl does.
func decodePruneStream(t *testing.T, stdout []byte) []nerdctlUsage {
	t.Helper()
	var records []nerdctlUsage
	dec := json.NewDecoder(bytes.NewReader(stdout))
	for {
		var r nerdctlUsage
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return records
		}
		require.NoError(t, err, "stdout: %s", stdout)
		records = append(records, r)
	}
}

// pruneSummary is what nerdctl derives from a prune: the record count and
// the total size it prints, and the descriptions as a stand-in for the IDs.
type pruneSummary struct {
	count        int
	total        int64
	descriptions map[string]int
}

func summarizePrune(records []nerdctlUsage) pruneSummary {
	s := pruneSummary{count: len(records), descriptions: map[string]int{}}
	for _, r := range records {
		s.total += r.Size
		s.descriptions[r.Description]++
	}
	return s
}

// TestNerdctlPrune replays "nerdctl builder prune" and "builder prune --all"
// on a daemon for ours and on a twin daemon for the reference.
func TestNerdctlPrune(t *testing.T) {
	twins := startTwinDaemons(t)

	steps := []struct {
		name   string
		args   []string
		pruned bool
	}{
		{name: "builder prune", args: []string{"prune", "--format={{json .}}"}, pruned: true},
		{name: "builder prune all", args: []string{"prune", "--format={{json .}}", "--all"}},
		{name: "builder prune all after refill", args: []string{"prune", "--format={{json .}}", "--all"}, pruned: true},
		{name: "nothing left", args: []string{"prune", "--format={{json .}}", "--all"}},
	}
	for i, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if i == 2 {
				twins.fill(t)
			}
			ours := execLikeNerdctl(t, oursBin, nerdctlCall{args: append([]string{"--addr=" + twins.ours.addr}, step.args...)})
			ref := execLikeNerdctl(t, referenceBin, nerdctlCall{args: append([]string{"--addr=" + twins.ref.addr}, step.args...)})
			require.Equal(t, 0, ours.exitCode, "stderr: %s", ours.stderr)
			require.Equal(t, ref.exitCode, ours.exitCode)

			oursRecords := decodePruneStream(t, ours.stdout)
			refRecords := decodePruneStream(t, ref.stdout)
			require.Equal(t, step.pruned, len(refRecords) > 0)
			require.Equal(t, summarizePrune(refRecords), summarizePrune(oursRecords))
			require.Equal(t, bytes.Count(ref.stdout, []byte("\n")), bytes.Count(ours.stdout, []byte("\n")), "one object per line")
			for _, r := range oursRecords {
				require.Len(t, r.ID, 25)
				require.Positive(t, r.Size)
				require.False(t, r.CreatedAt.IsZero())
			}
		})
	}
}

// TestNerdctlVersionParse splits "buildctl --version" on white space as
// nerdctl does: three or four fields, the first "buildctl", the third the
// version and an optional fourth the commit.
func TestNerdctlVersionParse(t *testing.T) {
	requireDaemon(t)
	res := execLikeNerdctl(t, oursBin, nerdctlCall{args: []string{"--version"}})
	require.Equal(t, 0, res.exitCode)
	fields := strings.Fields(string(res.stdout))
	require.Contains(t, []int{3, 4}, len(fields), "nerdctl warns \"unable to determine buildctl version\" for %q", res.stdout)
	require.Equal(t, "buildctl", fields[0])
	require.NotEmpty(t, fields[2])
	require.Empty(t, res.stderr)
}

// nerdctlBuildArgs returns the argv nerdctl sends for a build: the fixed
// head up to --output, then extra (per --build-context), then the
// Dockerfile location, then tail (per other nerdctl flags).
func nerdctlBuildArgs(host, progress, output, dockerfileDir string, extra, tail []string) []string {
	args := []string{
		"--addr=" + host, "build", "--progress=" + progress, "--frontend=dockerfile.v0",
		"--local=context=.", "--output=" + output,
	}
	args = append(args, extra...)
	args = append(args, "--local=dockerfile="+dockerfileDir, "--opt=filename=Dockerfile")
	return append(args, tail...)
}

// ociIndex is the part of an OCI image index the tests read.
type ociIndex struct {
	MediaType string `json:"mediaType"`
	Manifests []struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
		Platform    *struct {
			Architecture string `json:"architecture"`
			OS           string `json:"os"`
		} `json:"platform"`
	} `json:"manifests"`
}

func blobPath(digest string) string {
	return "blobs/" + strings.Replace(digest, ":", "/", 1)
}

// TestNerdctlBuildDockerToPipe replays "nerdctl build -t demo:1 --iidfile F .":
// the docker archive goes to a stdout pipe that nerdctl loads, and nerdctl
// takes the image ID from containerimage.digest in the metadata file.
func TestNerdctlBuildDockerToPipe(t *testing.T) {
	requireDaemon(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n",
		"hello.txt":  "hello from nerdctl\n",
	})
	// nerdctl creates the metadata file empty before the build.
	metadata := filepath.Join(t.TempDir(), "buildkit-meta-4059130733")
	require.NoError(t, os.WriteFile(metadata, nil, 0o600))

	args := nerdctlBuildArgs(shared.addr, "auto", "type=docker,name=docker.io/library/demo:1", dir, nil,
		[]string{"--metadata-file=" + metadata})
	res := execLikeNerdctl(t, oursBin, nerdctlCall{args: args, dir: dir})
	require.Equal(t, 0, res.exitCode, "stderr: %s", res.stderr)
	require.NotEmpty(t, res.stdout, "nerdctl fails with \"no image was built\" on zero bytes")

	files := readTar(t, res.stdout)
	for _, name := range []string{"manifest.json", "index.json", "oci-layout"} {
		require.Contains(t, files, name)
	}

	var meta map[string]any
	data, err := os.ReadFile(metadata)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &meta))
	digest, ok := meta["containerimage.digest"].(string)
	require.True(t, ok, "containerimage.digest must be a string: %s", data)
	require.True(t, strings.HasPrefix(digest, "sha256:"), digest)
	require.Contains(t, files, blobPath(digest))

	var index ociIndex
	require.NoError(t, json.Unmarshal(files["index.json"], &index))
	require.Len(t, index.Manifests, 1)
	require.Equal(t, digest, index.Manifests[0].Digest, "containerimage.digest is the manifest digest")
	require.Equal(t, "docker.io/library/demo:1", index.Manifests[0].Annotations["io.containerd.image.name"])
}

// TestNerdctlBuildOCIMultiPlatform replays "nerdctl build --platform
// linux/amd64,linux/386 -t demo:multi .", which loads an OCI layout.
func TestNerdctlBuildOCIMultiPlatform(t *testing.T) {
	requireDaemon(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n",
		"hello.txt":  "multi\n",
	})
	args := nerdctlBuildArgs(shared.addr, "auto", "type=oci,name=docker.io/library/demo:multi", dir, nil,
		[]string{"--opt=platform=linux/amd64,linux/386"})
	res := execLikeNerdctl(t, oursBin, nerdctlCall{args: args, dir: dir})
	require.Equal(t, 0, res.exitCode, "stderr: %s", res.stderr)

	files := readTar(t, res.stdout)
	require.Contains(t, files, "oci-layout")
	require.NotContains(t, files, "manifest.json")
	var top ociIndex
	require.NoError(t, json.Unmarshal(files["index.json"], &top))
	require.Len(t, top.Manifests, 1)
	require.Equal(t, "application/vnd.oci.image.index.v1+json", top.Manifests[0].MediaType)

	var platformIndex ociIndex
	require.NoError(t, json.Unmarshal(files[blobPath(top.Manifests[0].Digest)], &platformIndex))
	var platforms []string
	for _, m := range platformIndex.Manifests {
		if m.Platform != nil {
			platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
		}
	}
	require.ElementsMatch(t, []string{"linux/amd64", "linux/386"}, platforms)
}

// TestNerdctlBuildLocalRelativeDest replays "nerdctl build -o out ." and
// "-o type=tar,dest=out.tar": no tag, so nerdctl appends
// dangling-name-prefix=<none>, and dest is relative to the working directory.
func TestNerdctlBuildLocalRelativeDest(t *testing.T) {
	requireDaemon(t)
	cases := []struct {
		name   string
		output string
		check  func(t *testing.T, dir string)
	}{
		{
			name:   "local",
			output: "type=local,dest=out,dangling-name-prefix=<none>",
			check: func(t *testing.T, dir string) {
				data, err := os.ReadFile(filepath.Join(dir, "out", "hello.txt"))
				require.NoError(t, err)
				require.Equal(t, "local\n", string(data))
			},
		},
		{
			name:   "tar",
			output: "type=tar,dest=out.tar,dangling-name-prefix=<none>",
			check: func(t *testing.T, dir string) {
				data, err := os.ReadFile(filepath.Join(dir, "out.tar"))
				require.NoError(t, err)
				require.Equal(t, "local\n", string(readTar(t, data)["hello.txt"]))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeContext(t, map[string]string{
				"Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n",
				"hello.txt":  "local\n",
			})
			args := nerdctlBuildArgs(shared.addr, "auto", tc.output, dir, nil, nil)
			res := execLikeNerdctl(t, oursBin, nerdctlCall{args: args, dir: dir})
			require.Equal(t, 0, res.exitCode, "stderr: %s", res.stderr)
			require.Empty(t, res.stdout, "stdout is nerdctl's own stdout in this mode")
			tc.check(t, dir)
		})
	}
}

// TestNerdctlBuildNamedContext replays "nerdctl build
// --build-context extra=DIR -o out .".
func TestNerdctlBuildNamedContext(t *testing.T) {
	requireDaemon(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY --from=extra f.txt /f.txt\n",
	})
	extra := writeContext(t, map[string]string{"f.txt": "from the named context\n"})
	args := nerdctlBuildArgs(shared.addr, "auto", "type=local,dest=out,dangling-name-prefix=<none>", dir,
		[]string{"--local=extra=" + extra, "--opt=context:extra=local:extra"}, nil)
	res := execLikeNerdctl(t, oursBin, nerdctlCall{args: args, dir: dir})
	require.Equal(t, 0, res.exitCode, "stderr: %s", res.stderr)

	data, err := os.ReadFile(filepath.Join(dir, "out", "f.txt"))
	require.NoError(t, err)
	require.Equal(t, "from the named context\n", string(data))
}

// TestNerdctlBuildSecretNoCachePlain replays "nerdctl build --secret
// id=s,src=F --target export --no-cache --progress=plain -o DIR .".
func TestNerdctlBuildSecretNoCachePlain(t *testing.T) {
	requireDaemon(t)
	dir := writeContext(t, map[string]string{
		"busybox": "@busybox",
		"Dockerfile": "FROM scratch AS base\n" +
			"COPY busybox /bin/busybox\n" +
			"FROM base AS withsecret\n" +
			`RUN --mount=type=secret,id=s ["/bin/busybox","sh","-c","/bin/busybox cat /run/secrets/s > /got.txt"]` + "\n" +
			"FROM scratch AS export\n" +
			"COPY --from=withsecret /got.txt /got.txt\n",
		"secret.txt": "s3cret-value",
	})
	out := t.TempDir()
	// The RUN stage contains busybox, and the export stage keeps only the
	// file the RUN wrote, so the export stage is the target.
	args := nerdctlBuildArgs(shared.addr, "plain", "type=local,dest="+out+",dangling-name-prefix=<none>", dir, nil,
		[]string{"--opt=target=export", "--no-cache", "--secret=id=s,src=" + filepath.Join(dir, "secret.txt")})
	res := execLikeNerdctl(t, oursBin, nerdctlCall{args: args, dir: dir})
	require.Equal(t, 0, res.exitCode, "stderr: %s", res.stderr)
	require.Empty(t, res.stdout)
	require.Contains(t, string(res.stderr), "#1 ", "plain progress goes to stderr")

	data, err := os.ReadFile(filepath.Join(out, "got.txt"))
	require.NoError(t, err)
	require.Equal(t, "s3cret-value", string(data))
}

// TestNerdctlBuildFailingRun replays a build whose RUN fails, in load mode
// (nerdctl reports "no image was built" on empty stdout) and with -o
// (nerdctl exits with buildctl's exit code).
func TestNerdctlBuildFailingRun(t *testing.T) {
	requireDaemon(t)
	dir := writeContext(t, map[string]string{
		"busybox":    "@busybox",
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n" + `RUN ["/bin/busybox","sh","-c","exit 3"]` + "\n",
	})
	outputs := map[string]string{
		"load mode": "type=docker,name=docker.io/library/demo:fail",
		"local":     "type=local,dest=out,dangling-name-prefix=<none>",
	}
	for name, output := range outputs {
		t.Run(name, func(t *testing.T) {
			args := nerdctlBuildArgs(shared.addr, "plain", output, dir, nil, nil)
			ours := execLikeNerdctl(t, oursBin, nerdctlCall{args: args, dir: dir})
			ref := execLikeNerdctl(t, referenceBin, nerdctlCall{args: args, dir: dir})
			require.Equal(t, 1, ref.exitCode)
			require.Equal(t, ref.exitCode, ours.exitCode, "stderr: %s", ours.stderr)
			require.Empty(t, ours.stdout)
			require.Contains(t, string(ours.stderr), "error: failed to solve: ")
		})
	}
}
