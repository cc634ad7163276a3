package integration

// These tests replay how nerdctl (v2.3.4-217-g8da50408, observed with
// BuildKit v0.34.2 and containerd v2.4.2) execs buildctl: the argv shapes,
// stdin from /dev/null, stdout and stderr wired as nerdctl wires them, and
// the output fields nerdctl parses.
//
// nerdctl picks a host by probing "--addr=H debug workers" (stdout and
// stderr on one pipe, exit status only): the --buildkit-host value or
// BUILDKIT_HOST alone, else unix:///run/buildkit-<ns>/buildkitd.sock (for a
// namespace other than default), /run/buildkit-default/buildkitd.sock and
// /run/buildkit/buildkitd.sock in that order. Without -o it then runs
// "debug workers --format {{json .}}" and reads labels of element [0] to
// choose type=image,unpack=true or a docker/OCI archive that it loads from
// buildctl's stdout. The tests run the /run probes in a private mount
// namespace with a tmpfs on /run.
//
// Scenario rows and the tests that cover buildctl's side of them
// (S = TestNerdctlScenarios):
//
//	row  nerdctl command (buildkitd)            test
//	a    build -t (OCI at default socket only)  SDefaultSocket/a, TestNerdctlBuildDockerToPipe
//	b1   build -t (OCI at nerdctl's socket)     SNerdctlSocket/b1
//	b2   build -t (containerd worker, shared)   SContainerdWorker/b2, TestContainerdWorker
//	c1   CONTAINERD_NAMESPACE=k8s.io build      SNerdctlSocket/c1
//	c2   -n foo build                           SNerdctlSocket/c2
//	c3   k8s.io, containerd worker of default   SContainerdWorker/c3
//	c4   -n foo, containerd worker of foo       SContainerdWorker/c4, TestContainerdWorker
//	d1   -o type=local,dest=out                 SDefaultSocket/d1, TestNerdctlBuildLocalRelativeDest
//	d2   -o out2                                SDefaultSocket/d2
//	d3   -o type=docker -t                      SDefaultSocket/d3
//	d4   -o type=oci,dest= / type=tar,dest=     SDefaultSocket/d4 (both), TestNerdctlBuildLocalRelativeDest
//	e1   -f - (Dockerfile from stdin)           SDefaultSocket/e1
//	e2   -f sub/Alt.Dockerfile / Containerfile  SDefaultSocket/e2 (both), TestReportsRound2
//	f1   --build-arg                            SDefaultSocket/f1
//	f2   --target                               SDefaultSocket/f2
//	f3   --label                                SDefaultSocket/f3
//	f4   --iidfile                              SDefaultSocket/f4, SContainerdWorker/f4,
//	                                            TestContainerdWorker, TestReportsRound2
//	f5   --no-cache / --progress=plain          SDefaultSocket/f5 (both), TestNerdctlBuildSecretNoCachePlain
//	f6   --secret --target withsecret           SDefaultSocket/f6, TestNerdctlBuildSecretNoCachePlain
//	f7   --platform linux/amd64                 SDefaultSocket/f7
//	f8   -q                                     SDefaultSocket/f8, SContainerdWorker/f8
//	f9   all of f1-f8, two tags                 SDefaultSocket/f9
//	f10  --platform linux/amd64,linux/386       SDefaultSocket/f10, TestNerdctlBuildOCIMultiPlatform
//	g1   builder prune                          SPrune/g1, TestNerdctlPrune
//	g2   builder prune --all -f                 SPrune/g2 (both), TestNerdctlPrune
//	g3   builder prune, prompt answered "n"     SPrune/g3 (the probes only)
//	h1   no buildctl in PATH                    nerdctl only: no buildctl runs, the exec lookup fails
//	h2   no buildkitd                           SNoDaemon
//	i1   BUILDKIT_HOST=default socket           SDefaultSocket/i1
//	i2   BUILDKIT_HOST without daemon           SDefaultSocket/i2, TestNerdctlHostProbe
//	i3   --buildkit-host, bad BUILDKIT_HOST     SDefaultSocket/i3, TestNerdctlHostProbe
//	i4   --buildkit-host without scheme         SDefaultSocket/i4, TestNerdctlHostProbe
//	k1   failing RUN, load mode                 SDefaultSocket/k1, TestNerdctlBuildFailingRun
//	k2   failing RUN, -o out / type=image       SDefaultSocket/k2, SContainerdWorker/k2,
//	                                            TestNerdctlBuildFailingRun, TestContainerdWorker
//
// Other nerdctl commands:
//
//	nerdctl version             "buildctl --version", split on white space: TestNerdctlVersionParse
//	nerdctl system prune [-a]   the calls of g1/g2, nerdctl prints each id: SPrune/g2;
//	                            when no host responds nerdctl only warns, and the probes are h2's
//	builder build, image build  the same calls as build
//	compose build               an absolute --local=context= and compose args: SDefaultSocket/compose
//	builder debug               nerdctl only: it execs buildg, not buildctl
//	--build-context             --local=NAME=DIR --opt=context:NAME=local:NAME: TestNerdctlBuildNamedContext
//
// Prune output: nerdctl decodes stdout as a stream of JSON objects and sums
// "size", and empty output means "Total: 0B" (TestNerdctlPrune,
// SPrune/g2). nerdctl's own texts for undecodable output or a non-zero
// exit are nerdctl only: buildctl's side is its exit code.
//
// Two differences from the reference are intended, and the tests check
// that they happen only where the reference fails:
//   - Ours falls back from a missing well-known socket to another one that
//     responds. A probe that fails with the reference then succeeds, so
//     nerdctl keeps the earlier address for every later call, which falls
//     back too. requireSameDaemon checks that the fallback reaches the
//     daemon that the reference picks later (a, c1, c2, c3, g1-g3).
//   - Ours dials a bare path as a unix socket where the reference reports
//     "missing port in address" (i4), so nerdctl goes on and builds.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
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
	// discardStderr sends stderr to /dev/null, as "nerdctl build -q" does.
	discardStderr bool
	// ns runs the call inside that mount namespace, whose /run contains
	// the sockets nerdctl probes. nsenter execs buildctl with the same streams.
	ns *runNamespace
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

	name, args := bin, call.args
	if call.ns != nil {
		// Entering a mount namespace resets the working folder to its root,
		// so --wd keeps relative arguments such as --local=context=. and
		// dest=out relative to call.dir, as nerdctl runs buildctl in its cwd.
		wd := call.dir
		if wd == "" {
			wd, err = os.Getwd()
			require.NoError(t, err)
		}
		name = "nsenter"
		args = append([]string{"--mount=" + call.ns.mntNS, "--wd=" + wd, "--", bin}, call.args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = call.dir
	cmd.Env = append(nerdctlEnv(), call.env...)
	cmd.Stdin = devNull
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	switch {
	case call.combined:
		// The same writer for both streams makes os/exec hand the child
		// one pipe as fd 1 and fd 2.
		cmd.Stderr = &stdout
	case call.discardStderr:
		// An *os.File is passed to the child as it is, without a pipe.
		cmd.Stderr = devNull
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

// nerdctlEnv returns the environment buildctl inherits from nerdctl in these
// tests: the test's own, without the variables cleanEnv drops and without
// CONTAINERD_NAMESPACE, which "nerdctl -n NS" does not set.
func nerdctlEnv() []string {
	var env []string
	for _, kv := range cleanEnv() {
		if !strings.HasPrefix(kv, "CONTAINERD_NAMESPACE=") {
			env = append(env, kv)
		}
	}
	return env
}

// probeHosts picks the first candidate whose "debug workers" exits 0, as
// nerdctl's host selection does, and returns it with the exit code of
// every probe.
func probeHosts(t *testing.T, bin string, candidates []string) (string, []int) {
	t.Helper()
	sel := selectHost(t, bin, nil, nil, candidates)
	return sel.host, sel.codes
}

// hostSelection is the outcome of nerdctl's host selection with one binary.
type hostSelection struct {
	// host is the first candidate whose probe exited 0, or "" when none did.
	host string
	// codes are the exit codes of the probes run, in order.
	codes []int
	// output is what the last probe wrote to the shared pipe.
	output string
}

// selectHost runs "--addr=H debug workers" for each candidate in order,
// inside ns when it is set, with stdout and stderr on one pipe, and stops at
// the first that exits 0, as nerdctl does.
func selectHost(t *testing.T, bin string, ns *runNamespace, env, candidates []string) hostSelection {
	t.Helper()
	var sel hostSelection
	for _, host := range candidates {
		res := execLikeNerdctl(t, bin, nerdctlCall{args: []string{"--addr=" + host, "debug", "workers"}, env: env, combined: true, ns: ns})
		sel.codes = append(sel.codes, res.exitCode)
		sel.output = string(res.stdout)
		if res.exitCode == 0 {
			sel.host = host
			return sel
		}
	}
	return sel
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

// Addresses nerdctl probes. Inside a runNamespace, /run is a private tmpfs.
const (
	buildkitDefaultHost = "unix://" + defaultSocket
	nerdctlDefaultHost  = "unix://" + nerdctlSocket
	nerdctlK8sHost      = "unix://" + namespaceSocket
	nerdctlFooHost      = "unix:///run/buildkit-foo/buildkitd.sock"
	// missingHost is the BUILDKIT_HOST value of the recorded failure: a
	// path outside the well-known folders, where nothing listens.
	missingHost = "unix:///run/nonexistent/buildkitd.sock"
)

// nerdctlSetup is where scenarios run: a mount namespace whose /run
// contains the daemons' sockets, and the containerd that nerdctl talks to.
type nerdctlSetup struct {
	ns *runNamespace
	// containerdUUID is the UUID of nerdctl's containerd, which nerdctl
	// compares with the worker's label. It is empty when the scenario has
	// no containerd.
	containerdUUID string
}

// nerdctlScenario is one recorded nerdctl command: its host selection, the
// sharability probe and the build call, with the argv nerdctl sends.
type nerdctlScenario struct {
	name string
	// candidates are the hosts nerdctl probes, in order. One entry stands
	// for --buildkit-host or BUILDKIT_HOST, which nerdctl probes alone.
	candidates []string
	// refHost is the host that nerdctl picks with the reference buildctl.
	refHost string
	// env is added to buildctl's environment.
	env []string
	// namespace is nerdctl's containerd namespace. Empty means "default".
	namespace string
	// files is the build context, relative to the working folder. Nil
	// means scenarioFiles.
	files map[string]string
	// stdinDockerfile, when set, is the Dockerfile of "nerdctl build -f -",
	// which nerdctl writes into a temporary folder that {tmpdockerfile}
	// names in the arguments.
	stdinDockerfile string
	// context, dockerfile and filename are the values of --local=context=,
	// --local=dockerfile= and --opt=filename=. Defaults: ".", "{dir}" and
	// "Dockerfile". {dir} is replaced with the absolute working folder.
	context, dockerfile, filename string
	// progress is the --progress value. Empty means "auto".
	progress string
	// output is the --output value. Without userOutput, nerdctl derived
	// its type from the worker labels, which the test checks.
	output     string
	userOutput bool
	// multiPlatform is set for --platform with more than one value.
	multiPlatform bool
	// tail is the argv after --opt=filename=. {dir} is replaced as above.
	tail []string
	// metadata adds --metadata-file=<empty file> last, as --iidfile does.
	metadata bool
	// quiet wires stderr to /dev/null, as "nerdctl build -q" does.
	quiet    bool
	wantExit int
	// check runs after each binary's successful build.
	check func(t *testing.T, b scenarioBuild)
}

// scenarioBuild is what one binary's build call produced.
type scenarioBuild struct {
	bin string
	dir string
	res nerdctlResult
	// archive is the image on stdout in load mode.
	archive *loadArchive
	// metadataDigest is containerimage.digest of the metadata file, the
	// value nerdctl writes to the --iidfile file.
	metadataDigest string
}

// scenarioFiles is the default build context: the last stage reads a
// secret, the first writes two build arguments into a file.
var scenarioFiles = map[string]string{
	"busybox": "@busybox",
	"Dockerfile": "FROM scratch AS base\n" +
		"COPY busybox /bin/busybox\n" +
		"ARG GREETING\nARG FROMENV\n" +
		`RUN ["/bin/busybox","sh","-c","echo \"$GREETING $FROMENV\" > /greeting.txt"]` + "\n" +
		"FROM base AS withsecret\n" +
		`RUN --mount=type=secret,id=s,required=false ["/bin/busybox","sh","-c","/bin/busybox cat /run/secrets/s > /got.txt || true"]` + "\n",
	"secret.txt": "s3cret-value",
}

// secretFiles is a context whose RUN step requires the secret s. BuildKit
// leaves secrets out of the cache key, so a RUN step that a build without
// the secret has cached would hide whether the secret arrives.
var secretFiles = map[string]string{
	"busybox": "@busybox",
	"Dockerfile": "FROM scratch AS withsecret\n" +
		"COPY busybox /bin/busybox\n" +
		`RUN --mount=type=secret,id=s ["/bin/busybox","sh","-c","/bin/busybox cat /run/secrets/s > /secret-copy.txt"]` + "\n",
	"secret.txt": "s3cret-value",
}

// copyOnlyFiles is a context without RUN steps, which builds for any
// platform.
var copyOnlyFiles = map[string]string{
	"Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n",
	"hello.txt":  "hello\n",
}

// failingFiles is a context whose RUN step exits 3.
var failingFiles = map[string]string{
	"busybox":    "@busybox",
	"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n" + `RUN ["/bin/busybox","sh","-c","exit 3"]` + "\n",
}

// replayScenario runs a scenario's buildctl calls in order with ours and
// with the reference, each binary using the host its own probes selected,
// and compares every step.
func replayScenario(t *testing.T, setup nerdctlSetup, sc nerdctlScenario) {
	t.Helper()
	ours := selectHost(t, oursBin, setup.ns, sc.env, sc.candidates)
	ref := selectHost(t, referenceBin, setup.ns, sc.env, sc.candidates)
	require.Equal(t, sc.refHost, ref.host, "the setup does not match the scenario: reference probe codes %v, output %s", ref.codes, ref.output)
	requireSameDaemon(t, sc.candidates, ours, ref)

	if !sc.userOutput {
		labels := requireSameSharabilityProbe(t, setup.ns, ours.host, ref.host, sc.env)
		want := nerdctlOutputType(labels, setup.containerdUUID, sc.namespace, sc.multiPlatform)
		require.True(t, strings.HasPrefix(sc.output, want+","), "nerdctl picks %s from the labels %v, the scenario has %s", want, labels, sc.output)
	}

	// Each build is checked before the next one runs, because both may
	// write the same image name into containerd.
	oursBuild := runScenarioBuild(t, setup, sc, oursBin, ours.host)
	refBuild := runScenarioBuild(t, setup, sc, referenceBin, ref.host)
	require.Equal(t, sc.wantExit, refBuild.res.exitCode, "reference stderr: %s", refBuild.res.stderr)
	require.Equal(t, refBuild.res.exitCode, oursBuild.res.exitCode, "stderr: %s", oursBuild.res.stderr)
	if oursBuild.archive != nil {
		require.Equal(t, tarEntries(t, refBuild.res.stdout, true), tarEntries(t, oursBuild.res.stdout, true))
		require.Equal(t, refBuild.archive.index, oursBuild.archive.index.masked(refBuild.archive.index))
	}
	if sc.progress == "plain" && !sc.quiet {
		require.Contains(t, string(refBuild.res.stderr), "#1 ")
		require.Contains(t, string(oursBuild.res.stderr), "#1 ", "plain progress goes to stderr")
	}
}

// requireSameDaemon checks ours' host selection against the reference's.
// Both may pick the same candidate. Ours may also pick an earlier one, but
// only where the reference's probe of it failed and ours reached the daemon
// that the reference picked later, through its fallback to the other
// well-known sockets. nerdctl then passes that earlier address to every
// later call, which falls back the same way.
func requireSameDaemon(t *testing.T, candidates []string, ours, ref hostSelection) {
	t.Helper()
	require.NotEmpty(t, ours.host, "no probe of ours succeeded: codes %v, output %s", ours.codes, ours.output)
	if ours.host == ref.host {
		require.Equal(t, ref.codes, ours.codes)
		return
	}
	t.Logf("ours picked %s through its fallback, the reference %s", ours.host, ref.host)
	i := indexOf(candidates, ours.host)
	require.Less(t, i, indexOf(candidates, ref.host), "ours picked a later candidate than the reference")
	require.NotZero(t, ref.codes[i], "the reference's probe of %s succeeded, so ours must pick the same", ours.host)
	// The probe prints the worker IDs of the daemon it reached.
	require.Equal(t, ref.output, ours.output, "ours reached another daemon than the reference")
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// requireSameSharabilityProbe runs "debug workers --format {{json .}}" on
// each binary's host, with stdout and stderr on separate pipes. It requires
// the same stdout and returns the labels of element [0], the only part
// nerdctl reads.
func requireSameSharabilityProbe(t *testing.T, ns *runNamespace, oursHost, refHost string, env []string) map[string]string {
	t.Helper()
	format := []string{"debug", "workers", "--format", "{{json .}}"}
	ours := execLikeNerdctl(t, oursBin, nerdctlCall{args: append([]string{"--addr=" + oursHost}, format...), env: env, ns: ns})
	ref := execLikeNerdctl(t, referenceBin, nerdctlCall{args: append([]string{"--addr=" + refHost}, format...), env: env, ns: ns})
	require.Equal(t, 0, ref.exitCode, "reference stderr: %s", ref.stderr)
	require.Equal(t, ref.exitCode, ours.exitCode, "stderr: %s", ours.stderr)
	require.Equal(t, string(ref.stdout), string(ours.stdout))

	var workers []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(ours.stdout, &workers), "nerdctl requires one JSON array: %s", ours.stdout)
	require.NotEmpty(t, workers, "nerdctl fails with \"no worker available\" on []")
	raw, ok := workers[0]["labels"]
	require.True(t, ok, "nerdctl fails with \"worker doesn't have labels\"")
	var labels map[string]string
	require.NoError(t, json.Unmarshal(raw, &labels))
	return labels
}

// nerdctlOutputType returns the output type nerdctl builds with when no -o
// is given: type=image,unpack=true when buildkitd's worker writes into the
// containerd, namespace and snapshotter that nerdctl uses and only the
// default platform is built, else type=oci for several platforms and
// type=docker otherwise.
func nerdctlOutputType(labels map[string]string, containerdUUID, namespace string, multiPlatform bool) string {
	if namespace == "" {
		namespace = "default"
	}
	sharable := labels[workerLabelPrefix+"executor"] == "containerd" &&
		containerdUUID != "" && labels[workerLabelPrefix+"containerd.uuid"] == containerdUUID &&
		labels[workerLabelPrefix+"containerd.namespace"] == namespace &&
		labels[workerLabelPrefix+"snapshotter"] == "overlayfs" &&
		!multiPlatform
	switch {
	case sharable:
		return "type=image,unpack=true"
	case multiPlatform:
		return "type=oci"
	default:
		return "type=docker"
	}
}

// runScenarioBuild writes the scenario's context into a new working folder
// and runs the build call there with bin against host. In load mode it
// parses stdout as the archive nerdctl imports.
func runScenarioBuild(t *testing.T, setup nerdctlSetup, sc nerdctlScenario, bin, host string) scenarioBuild {
	t.Helper()
	files := sc.files
	if files == nil {
		files = scenarioFiles
	}
	b := scenarioBuild{bin: bin, dir: writeContext(t, files)}
	replacer := []string{"{dir}", b.dir}
	if sc.stdinDockerfile != "" {
		tmp, err := os.MkdirTemp("", "docker-build-tempdockerfile-")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(tmp) })
		require.NoError(t, os.WriteFile(filepath.Join(tmp, "Dockerfile"), []byte(sc.stdinDockerfile), 0o600))
		replacer = append(replacer, "{tmpdockerfile}", tmp)
	}
	expand := strings.NewReplacer(replacer...).Replace

	args := []string{
		"--addr=" + host, "build", "--progress=" + withDefault(sc.progress, "auto"), "--frontend=dockerfile.v0",
		"--local=context=" + expand(withDefault(sc.context, ".")), "--output=" + sc.output,
		"--local=dockerfile=" + expand(withDefault(sc.dockerfile, "{dir}")), "--opt=filename=" + withDefault(sc.filename, "Dockerfile"),
	}
	for _, a := range sc.tail {
		args = append(args, expand(a))
	}
	var metadata string
	if sc.metadata {
		// nerdctl creates the file empty before the build.
		metadata = filepath.Join(t.TempDir(), "buildkit-meta-1837293953")
		require.NoError(t, os.WriteFile(metadata, nil, 0o600))
		args = append(args, "--metadata-file="+metadata)
	}

	b.res = execLikeNerdctl(t, bin, nerdctlCall{args: args, dir: b.dir, env: sc.env, discardStderr: sc.quiet, ns: setup.ns})
	if b.res.exitCode != 0 {
		require.Empty(t, b.res.stdout, "%s wrote to stdout in a failed build, and nerdctl loads or shows those bytes", bin)
		return b
	}
	if kind, ok := loadKind(sc.output); ok {
		require.NotEmpty(t, b.res.stdout, "%s: nerdctl fails with \"no image was built\" on zero bytes", bin)
		archive := parseLoadArchive(t, b.res.stdout, kind)
		b.archive = &archive
	} else {
		require.Empty(t, b.res.stdout, "%s: stdout is nerdctl's own stdout in this mode", bin)
	}
	if metadata != "" {
		b.metadataDigest = readMetadataDigest(t, metadata)
		if b.archive != nil {
			require.Equal(t, b.archive.manifestDigest, b.metadataDigest, "%s: containerimage.digest is the digest of the loaded manifest", bin)
		}
	}
	if sc.check != nil && sc.wantExit == 0 {
		sc.check(t, b)
	}
	return b
}

func withDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// loadKind returns "docker" or "oci" when nerdctl loads the image from
// buildctl's stdout: the output is of that type and has no dest.
func loadKind(output string) (string, bool) {
	kind, attrs, _ := strings.Cut(output, ",")
	if strings.Contains(","+attrs, ",dest=") {
		return "", false
	}
	switch kind {
	case "type=docker":
		return "docker", true
	case "type=oci":
		return "oci", true
	}
	return "", false
}

// readMetadataDigest returns the string at containerimage.digest of the
// metadata file, as nerdctl reads it for --iidfile.
func readMetadataDigest(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.Unmarshal(data, &meta), "metadata: %s", data)
	digest, ok := meta["containerimage.digest"].(string)
	require.True(t, ok, "nerdctl fails with \"failed to find containerimage.digest in metadata file\": %s", data)
	require.True(t, strings.HasPrefix(digest, "sha256:"), digest)
	return digest
}

// loadArchive is an image archive that nerdctl imports from stdout.
type loadArchive struct {
	files map[string][]byte
	index ociIndex
	// manifestDigest is the digest in index.json, which nerdctl prints as
	// the image ID.
	manifestDigest string
}

// createdAnnotation is the index annotation that records when the image
// was exported, which differs between two exports of one image.
const createdAnnotation = "org.opencontainers.image.created"

// masked returns the index with the digests and export times of want, so
// two builds of the same image compare on media types, names and
// platforms. Image digests differ between two builds that miss the cache,
// because the image config records the build time.
func (i ociIndex) masked(want ociIndex) ociIndex {
	out := i
	out.Manifests = append(out.Manifests[:0:0], i.Manifests...)
	for n := range out.Manifests {
		if n >= len(want.Manifests) {
			continue
		}
		out.Manifests[n].Digest = want.Manifests[n].Digest
		created, ok := want.Manifests[n].Annotations[createdAnnotation]
		if _, has := out.Manifests[n].Annotations[createdAnnotation]; ok && has {
			annotations := maps.Clone(out.Manifests[n].Annotations)
			annotations[createdAnnotation] = created
			out.Manifests[n].Annotations = annotations
		}
	}
	return out
}

// parseLoadArchive checks that stdout is a docker archive or an OCI layout
// with one image, whose blobs are all present, and returns it.
func parseLoadArchive(t *testing.T, stdout []byte, kind string) loadArchive {
	t.Helper()
	a := loadArchive{files: readTar(t, stdout)}
	require.Contains(t, a.files, "oci-layout")
	require.Contains(t, a.files, "index.json")
	if kind == "docker" {
		require.Contains(t, a.files, "manifest.json")
	} else {
		require.NotContains(t, a.files, "manifest.json")
	}
	require.NoError(t, json.Unmarshal(a.files["index.json"], &a.index))
	require.Len(t, a.index.Manifests, 1)
	a.manifestDigest = a.index.Manifests[0].Digest
	require.Contains(t, a.files, blobPath(a.manifestDigest), "manifest blob")
	return a
}

// imageManifest is the part of an image manifest the tests read.
type imageManifest struct {
	Config struct {
		Digest string `json:"digest"`
	} `json:"config"`
	Layers []struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"layers"`
}

// imageConfig is the part of an image config the tests read.
type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		Labels map[string]string `json:"Labels"`
	} `json:"config"`
}

// manifest returns the single-platform manifest of the archive.
func (a loadArchive) manifest(t *testing.T) imageManifest {
	t.Helper()
	var m imageManifest
	require.NoError(t, json.Unmarshal(a.files[blobPath(a.manifestDigest)], &m))
	return m
}

// config returns the image config of the archive's single-platform image.
func (a loadArchive) config(t *testing.T) imageConfig {
	t.Helper()
	m := a.manifest(t)
	raw, ok := a.files[blobPath(m.Config.Digest)]
	require.True(t, ok, "config blob %s missing", m.Config.Digest)
	var c imageConfig
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// imageFile returns the content of the file at name in the image's
// filesystem: the topmost layer that contains it wins.
func (a loadArchive) imageFile(t *testing.T, name string) (string, bool) {
	t.Helper()
	m := a.manifest(t)
	var content string
	found := false
	for _, layer := range m.Layers {
		blob, ok := a.files[blobPath(layer.Digest)]
		require.True(t, ok, "layer blob %s missing", layer.Digest)
		data := blob
		if strings.HasSuffix(layer.MediaType, "gzip") {
			zr, err := gzip.NewReader(bytes.NewReader(blob))
			require.NoError(t, err)
			data, err = io.ReadAll(zr)
			require.NoError(t, err)
		}
		if body, ok := readTar(t, data)[name]; ok {
			content, found = string(body), true
		}
	}
	return content, found
}

// requireImageFile fails unless the loaded image has the file name with
// content want.
func requireImageFile(t *testing.T, b scenarioBuild, name, want string) {
	t.Helper()
	require.NotNil(t, b.archive, "%s: no image on stdout", b.bin)
	got, ok := b.archive.imageFile(t, name)
	require.True(t, ok, "%s: /%s not in the image", b.bin, name)
	require.Equal(t, want, got, "%s: /%s", b.bin, name)
}

// requireOutputFile fails unless the file at the path relative to the
// working folder has content want.
func requireOutputFile(t *testing.T, b scenarioBuild, path, want string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.dir, path))
	require.NoError(t, err, "%s", b.bin)
	require.Equal(t, want, string(data), "%s: %s", b.bin, path)
}

// TestNerdctlScenariosDefaultSocket replays the scenarios recorded with
// buildkitd (OCI worker) listening only on BuildKit's default socket.
//
// nerdctl probes its own socket first. The reference fails there and
// nerdctl moves on to the default socket. Ours falls back from the missing
// well-known socket to the default one and exits 0, so nerdctl keeps its
// own socket's address for the sharability probe and the build, which fall
// back the same way. requireSameDaemon checks that both reach one daemon.
func TestNerdctlScenariosDefaultSocket(t *testing.T) {
	requireDaemon(t)
	setup := nerdctlSetup{ns: newRunNamespace(t)}
	setup.ns.startDaemon(t, defaultSocket)
	both := []string{nerdctlDefaultHost, buildkitDefaultHost}

	scenarios := []nerdctlScenario{
		{
			name: "a default build loads a docker archive", candidates: both, refHost: buildkitDefaultHost,
			output: "type=docker,name=docker.io/library/demo:1",
			check:  func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "greeting.txt", " \n") },
		},
		{
			name: "d1 local export", candidates: both, refHost: buildkitDefaultHost, files: copyOnlyFiles,
			output: "type=local,dest=out,dangling-name-prefix=<none>", userOutput: true,
			check: func(t *testing.T, b scenarioBuild) { requireOutputFile(t, b, "out/hello.txt", "hello\n") },
		},
		{
			name: "d2 output folder", candidates: both, refHost: buildkitDefaultHost, files: copyOnlyFiles,
			output: "type=local,dest=out2,dangling-name-prefix=<none>", userOutput: true,
			check: func(t *testing.T, b scenarioBuild) { requireOutputFile(t, b, "out2/hello.txt", "hello\n") },
		},
		{
			name: "d3 docker output without dest", candidates: both, refHost: buildkitDefaultHost, files: copyOnlyFiles,
			output: "type=docker,name=docker.io/library/demo:d", userOutput: true,
			check: func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "hello.txt", "hello\n") },
		},
		{
			name: "d4 oci output with dest", candidates: both, refHost: buildkitDefaultHost, files: copyOnlyFiles,
			output: "type=oci,dest=oci.tar,name=docker.io/library/demo:o", userOutput: true,
			check: func(t *testing.T, b scenarioBuild) {
				data, err := os.ReadFile(filepath.Join(b.dir, "oci.tar"))
				require.NoError(t, err, "%s", b.bin)
				b.archive = new(loadArchive)
				*b.archive = parseLoadArchive(t, data, "oci")
				requireImageFile(t, b, "hello.txt", "hello\n")
			},
		},
		{
			name: "d4 tar output with dest", candidates: both, refHost: buildkitDefaultHost, files: copyOnlyFiles,
			output: "type=tar,dest=out.tar,dangling-name-prefix=<none>", userOutput: true,
			check: func(t *testing.T, b scenarioBuild) {
				data, err := os.ReadFile(filepath.Join(b.dir, "out.tar"))
				require.NoError(t, err, "%s", b.bin)
				require.Equal(t, "hello\n", string(tarFile(t, data, "hello.txt")))
			},
		},
		{
			name: "e1 dockerfile from stdin", candidates: both, refHost: buildkitDefaultHost,
			files:           map[string]string{"hello.txt": "stdin\n"},
			stdinDockerfile: "FROM scratch\nCOPY hello.txt /hello.txt\n", dockerfile: "{tmpdockerfile}",
			output: "type=docker,name=docker.io/library/demo:stdin",
			check:  func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "hello.txt", "stdin\n") },
		},
		{
			name: "e2 dockerfile in subfolder", candidates: both, refHost: buildkitDefaultHost,
			files:      map[string]string{"sub/Alt.Dockerfile": "FROM scratch\nCOPY hello.txt /alt.txt\n", "hello.txt": "alt\n"},
			dockerfile: "{dir}/sub", filename: "Alt.Dockerfile",
			output: "type=docker,name=docker.io/library/demo:alt",
			check:  func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "alt.txt", "alt\n") },
		},
		{
			name: "e2 containerfile only context", candidates: both, refHost: buildkitDefaultHost,
			files:   map[string]string{"cf/Containerfile": "FROM scratch\nCOPY hello.txt /cf.txt\n", "cf/hello.txt": "cf\n"},
			context: "cf", dockerfile: "{dir}/cf", filename: "Containerfile",
			output: "type=docker,name=docker.io/library/demo:cf",
			check:  func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "cf.txt", "cf\n") },
		},
		{
			// nerdctl drops --build-arg UNSETVAR, and sends FROMENV with the
			// value from its environment, which buildctl also inherits.
			name: "f1 build args", candidates: both, refHost: buildkitDefaultHost, env: []string{"FROMENV=fromenv"},
			output: "type=docker,name=docker.io/library/demo:args",
			tail:   []string{"--opt=build-arg:GREETING=hi", "--opt=build-arg:FROMENV=fromenv"},
			check:  func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "greeting.txt", "hi fromenv\n") },
		},
		{
			name: "f2 target", candidates: both, refHost: buildkitDefaultHost,
			output: "type=docker,name=docker.io/library/demo:base", tail: []string{"--opt=target=base"},
			check: func(t *testing.T, b scenarioBuild) {
				requireImageFile(t, b, "greeting.txt", " \n")
				_, ok := b.archive.imageFile(t, "got.txt")
				require.False(t, ok, "%s: the base stage has no /got.txt", b.bin)
			},
		},
		{
			name: "f3 labels", candidates: both, refHost: buildkitDefaultHost,
			output: "type=docker,name=docker.io/library/demo:labels", tail: []string{"--opt=label:a=b", "--opt=label:c=d e"},
			check: func(t *testing.T, b scenarioBuild) {
				labels := b.archive.config(t).Config.Labels
				require.Equal(t, "b", labels["a"], "%s", b.bin)
				require.Equal(t, "d e", labels["c"], "%s", b.bin)
			},
		},
		{
			name: "f4 iidfile", candidates: both, refHost: buildkitDefaultHost,
			output: "type=docker,name=docker.io/library/demo:iid", metadata: true,
		},
		{
			name: "f5 no cache", candidates: both, refHost: buildkitDefaultHost,
			output: "type=docker,name=docker.io/library/demo:nocache", tail: []string{"--no-cache"},
		},
		{
			name: "f5 plain progress", candidates: both, refHost: buildkitDefaultHost, progress: "plain",
			output: "type=docker,name=docker.io/library/demo:plain",
		},
		{
			name: "f6 secret", candidates: both, refHost: buildkitDefaultHost, files: secretFiles,
			output: "type=docker,name=docker.io/library/demo:secret",
			tail:   []string{"--opt=target=withsecret", "--secret=id=s,src={dir}/secret.txt"},
			check:  func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "secret-copy.txt", "s3cret-value") },
		},
		{
			name: "f7 host platform", candidates: both, refHost: buildkitDefaultHost,
			output: "type=docker,name=docker.io/library/demo:amd64", tail: []string{"--opt=platform=linux/amd64"},
			check: func(t *testing.T, b scenarioBuild) {
				config := b.archive.config(t)
				require.Equal(t, "linux/amd64", config.OS+"/"+config.Architecture, "%s", b.bin)
			},
		},
		{
			name: "f8 quiet", candidates: both, refHost: buildkitDefaultHost, quiet: true,
			output: "type=docker,name=docker.io/library/demo:quiet",
		},
		{
			name: "f9 all flags", candidates: both, refHost: buildkitDefaultHost, progress: "plain", quiet: true,
			output: "type=docker,name=docker.io/library/demo:all",
			tail: []string{"--opt=target=withsecret", "--opt=platform=linux/amd64", "--opt=build-arg:GREETING=hi",
				"--opt=label:a=b", "--no-cache", "--secret=id=s,src={dir}/secret.txt"},
			metadata: true,
			check: func(t *testing.T, b scenarioBuild) {
				requireImageFile(t, b, "got.txt", "s3cret-value")
				requireImageFile(t, b, "greeting.txt", "hi \n")
				require.Equal(t, "b", b.archive.config(t).Config.Labels["a"], "%s", b.bin)
			},
		},
		{
			name: "f10 two platforms load an OCI layout", candidates: both, refHost: buildkitDefaultHost,
			files: copyOnlyFiles, multiPlatform: true,
			output: "type=oci,name=docker.io/library/demo:multi", tail: []string{"--opt=platform=linux/amd64,linux/386"},
			check: func(t *testing.T, b scenarioBuild) {
				require.Equal(t, "application/vnd.oci.image.index.v1+json", b.archive.index.Manifests[0].MediaType, "%s", b.bin)
				var platformIndex ociIndex
				require.NoError(t, json.Unmarshal(b.archive.files[blobPath(b.archive.manifestDigest)], &platformIndex))
				var platforms []string
				for _, m := range platformIndex.Manifests {
					if m.Platform != nil {
						platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
					}
				}
				require.ElementsMatch(t, []string{"linux/amd64", "linux/386"}, platforms, "%s", b.bin)
			},
		},
		{
			name: "i1 BUILDKIT_HOST", candidates: []string{buildkitDefaultHost}, refHost: buildkitDefaultHost,
			env:    []string{"BUILDKIT_HOST=" + buildkitDefaultHost},
			output: "type=docker,name=docker.io/library/demo:i",
		},
		{
			// --addr wins over the BUILDKIT_HOST that buildctl inherits.
			name: "i3 buildkit-host flag with bad BUILDKIT_HOST", candidates: []string{buildkitDefaultHost}, refHost: buildkitDefaultHost,
			env:    []string{"BUILDKIT_HOST=" + missingHost},
			output: "type=docker,name=docker.io/library/demo:i3",
		},
		{
			name: "k1 failing run in load mode", candidates: both, refHost: buildkitDefaultHost, files: failingFiles,
			output: "type=docker,name=docker.io/library/demo:fail", wantExit: 1,
		},
		{
			name: "k2 failing run with local output", candidates: both, refHost: buildkitDefaultHost, files: failingFiles,
			output: "type=local,dest=out,dangling-name-prefix=<none>", userOutput: true, wantExit: 1,
		},
		{
			// "nerdctl compose build" re-execs nerdctl build with an absolute
			// context and the compose args as build args.
			name: "compose build", candidates: both, refHost: buildkitDefaultHost, context: "{dir}",
			output: "type=docker,name=docker.io/library/compose-demo:latest", tail: []string{"--opt=build-arg:GREETING=compose"},
			check: func(t *testing.T, b scenarioBuild) { requireImageFile(t, b, "greeting.txt", "compose \n") },
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { replayScenario(t, setup, sc) })
	}

	// nerdctl exits 1 with no output: BUILDKIT_HOST names a socket outside
	// the well-known folders, so ours must not fall back to the running
	// daemon either.
	t.Run("i2 BUILDKIT_HOST without daemon", func(t *testing.T) {
		env := []string{"BUILDKIT_HOST=" + missingHost}
		ours := selectHost(t, oursBin, setup.ns, env, []string{missingHost})
		ref := selectHost(t, referenceBin, setup.ns, env, []string{missingHost})
		require.Equal(t, []int{1}, ref.codes)
		require.Equal(t, ref.codes, ours.codes, "output: %s", ours.output)
		require.Equal(t, firstOutputLine([]byte(ref.output)), firstOutputLine([]byte(ours.output)))
	})

	// The reference dials a path without scheme as a TCP address and fails
	// with "missing port in address", so nerdctl stops with exit code 1.
	// Ours dials the socket at that path, which is extra behaviour where
	// the reference fails: nerdctl then goes on and the build succeeds.
	t.Run("i4 buildkit-host without scheme", func(t *testing.T) {
		ref := selectHost(t, referenceBin, setup.ns, nil, []string{defaultSocket})
		require.Equal(t, []int{1}, ref.codes)
		require.Contains(t, ref.output, "missing port in address")

		ours := selectHost(t, oursBin, setup.ns, nil, []string{defaultSocket})
		require.Equal(t, []int{0}, ours.codes, "output: %s", ours.output)
		direct := selectHost(t, referenceBin, setup.ns, nil, []string{buildkitDefaultHost})
		require.Equal(t, direct.output, ours.output, "ours reached another daemon than the one at the path")

		sc := nerdctlScenario{output: "type=docker,name=docker.io/library/demo:i4"}
		labels := requireSameSharabilityProbe(t, setup.ns, defaultSocket, buildkitDefaultHost, nil)
		require.Equal(t, "type=docker", nerdctlOutputType(labels, "", "", false))
		b := runScenarioBuild(t, setup, sc, oursBin, defaultSocket)
		require.Equal(t, 0, b.res.exitCode, "stderr: %s", b.res.stderr)
	})
}

// TestNerdctlScenariosNerdctlSocket replays the scenarios recorded with
// buildkitd (OCI worker) on nerdctl's socket, which a link also makes
// reachable at BuildKit's default socket. With a namespace other than
// default, nerdctl first probes that namespace's socket, which is missing.
// Ours falls back from it to the daemon, as in the default socket case.
func TestNerdctlScenariosNerdctlSocket(t *testing.T) {
	requireDaemon(t)
	setup := nerdctlSetup{ns: newRunNamespace(t)}
	setup.ns.startDaemon(t, nerdctlSocket)
	// The link makes both sockets one daemon, as in the recorded setup.
	// TestReachNamespaceFallbackFollowsNerdctl covers two separate daemons.
	setup.ns.sh(t, "mkdir -p /run/buildkit && ln -s "+nerdctlSocket+" "+defaultSocket)

	scenarios := []nerdctlScenario{
		{
			name: "b1 nerdctl socket", candidates: []string{nerdctlDefaultHost, buildkitDefaultHost}, refHost: nerdctlDefaultHost,
			output: "type=docker,name=docker.io/library/demo:3",
		},
		{
			name:       "c1 CONTAINERD_NAMESPACE=k8s.io",
			candidates: []string{nerdctlK8sHost, nerdctlDefaultHost, buildkitDefaultHost}, refHost: nerdctlDefaultHost,
			env: []string{"CONTAINERD_NAMESPACE=k8s.io"}, namespace: "k8s.io",
			output: "type=docker,name=docker.io/library/demo:k8s",
		},
		{
			// "nerdctl -n foo" does not pass the namespace to buildctl.
			name:       "c2 namespace flag",
			candidates: []string{nerdctlFooHost, nerdctlDefaultHost, buildkitDefaultHost}, refHost: nerdctlDefaultHost,
			namespace: "foo",
			output:    "type=docker,name=docker.io/library/demo:foo",
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { replayScenario(t, setup, sc) })
	}
}

// TestNerdctlScenariosNoDaemon replays h2: buildctl is installed but no
// buildkitd runs, so every probe must fail and nerdctl reports that no
// host is available. Ours' fallback finds nothing either.
func TestNerdctlScenariosNoDaemon(t *testing.T) {
	requireDaemon(t)
	ns := newRunNamespace(t)
	cases := []struct {
		name       string
		env        []string
		candidates []string
	}{
		{name: "default namespace", candidates: []string{nerdctlDefaultHost, buildkitDefaultHost}},
		{
			name: "namespace k8s.io", env: []string{"CONTAINERD_NAMESPACE=k8s.io"},
			candidates: []string{nerdctlK8sHost, nerdctlDefaultHost, buildkitDefaultHost},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ours := selectHost(t, oursBin, ns, tc.env, tc.candidates)
			ref := selectHost(t, referenceBin, ns, tc.env, tc.candidates)
			require.Empty(t, ref.host)
			require.Empty(t, ours.host, "output: %s", ours.output)
			require.Equal(t, ref.codes, ours.codes)
		})
	}
}

// fillCacheIn builds dir with the reference on the daemon at BuildKit's
// default socket inside ns.
func fillCacheIn(t *testing.T, ns *runNamespace, dir string) {
	t.Helper()
	res := ns.run(referenceBin, runOptions{Args: []string{
		"--addr", buildkitDefaultHost, "build", "--progress=quiet", "--frontend=dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir,
		"--output", "type=tar,dest=" + filepath.Join(t.TempDir(), "out.tar"),
	}})
	require.Equal(t, 0, res.ExitCode, "reference build failed: %s", res.Stderr)
}

// TestNerdctlScenariosPrune replays "nerdctl builder prune" (g1-g3) and
// "nerdctl system prune", with buildkitd at BuildKit's default socket: ours
// in one namespace, the reference in a twin with the same build cache,
// because a prune changes the daemon's state.
func TestNerdctlScenariosPrune(t *testing.T) {
	requireDaemon(t)
	oursNS, refNS := newRunNamespace(t), newRunNamespace(t)
	oursNS.startDaemon(t, defaultSocket)
	refNS.startDaemon(t, defaultSocket)
	cacheContext := cacheProbeContext(t)
	fill := func(t *testing.T) {
		fillCacheIn(t, oursNS, cacheContext)
		fillCacheIn(t, refNS, cacheContext)
	}
	fill(t)
	candidates := []string{nerdctlDefaultHost, buildkitDefaultHost}

	// selectBoth runs the host selection, which nerdctl does before its
	// prompt, and returns each binary's host.
	selectBoth := func(t *testing.T) (oursHost, refHost string) {
		ours := selectHost(t, oursBin, oursNS, nil, candidates)
		ref := selectHost(t, referenceBin, refNS, nil, candidates)
		require.Equal(t, buildkitDefaultHost, ref.host)
		require.NotEmpty(t, ours.host, "output: %s", ours.output)
		if ours.host != ref.host {
			require.NotZero(t, ref.codes[indexOf(candidates, ours.host)])
			direct := selectHost(t, referenceBin, oursNS, nil, []string{buildkitDefaultHost})
			require.Equal(t, direct.output, ours.output, "ours reached another daemon than the one at the default socket")
		}
		return ours.host, ref.host
	}
	prune := func(t *testing.T, extra ...string) (ours, ref []nerdctlUsage) {
		oursHost, refHost := selectBoth(t)
		args := append([]string{"prune", "--format={{json .}}"}, extra...)
		oursRes := execLikeNerdctl(t, oursBin, nerdctlCall{args: append([]string{"--addr=" + oursHost}, args...), ns: oursNS})
		refRes := execLikeNerdctl(t, referenceBin, nerdctlCall{args: append([]string{"--addr=" + refHost}, args...), ns: refNS})
		require.Equal(t, 0, refRes.exitCode, "reference stderr: %s", refRes.stderr)
		require.Equal(t, refRes.exitCode, oursRes.exitCode, "stderr: %s", oursRes.stderr)
		ours, ref = decodePruneStream(t, oursRes.stdout), decodePruneStream(t, refRes.stdout)
		require.Equal(t, summarizePrune(ref), summarizePrune(ours))
		require.Equal(t, bytes.Count(refRes.stdout, []byte("\n")), bytes.Count(oursRes.stdout, []byte("\n")), "one object per line")
		return ours, ref
	}

	t.Run("g3 declined prompt probes only", func(t *testing.T) {
		selectBoth(t)
	})
	t.Run("g1 builder prune", func(t *testing.T) {
		ours, _ := prune(t)
		require.NotEmpty(t, ours)
	})
	t.Run("g2 builder prune all", func(t *testing.T) {
		fill(t)
		ours, _ := prune(t, "--all")
		require.NotEmpty(t, ours)
		// "nerdctl system prune -a" prints each id.
		for _, r := range ours {
			require.NotEmpty(t, r.ID)
		}
	})
	t.Run("g2 nothing left prints Total 0B", func(t *testing.T) {
		ours, _ := prune(t, "--all")
		require.Empty(t, ours)
	})
}

// TestNerdctlScenariosContainerdWorker replays the scenarios recorded with
// buildkitd's containerd worker: b2 and c3 with the worker of namespace
// default on nerdctl's socket, c4 with the worker of namespace foo on the
// socket nerdctl probes for foo. Links in the namespace's /run point at the
// daemons' sockets.
func TestNerdctlScenariosContainerdWorker(t *testing.T) {
	ctrd := startContainerd(t)
	bkDefault := startContainerdWorker(t, ctrd, "default")
	bkFoo := startContainerdWorker(t, ctrd, "foo")
	cliDefault, cliFoo := ctrd.client(t, "default"), ctrd.client(t, "foo")
	info, err := cliDefault.Server(context.Background())
	require.NoError(t, err)

	setup := nerdctlSetup{ns: newRunNamespace(t), containerdUUID: info.UUID}
	defaultPath, _ := strings.CutPrefix(bkDefault.addr, "unix://")
	fooPath, _ := strings.CutPrefix(bkFoo.addr, "unix://")
	setup.ns.sh(t, "mkdir -p /run/buildkit-default /run/buildkit-foo && ln -s "+defaultPath+" "+nerdctlSocket+
		" && ln -s "+fooPath+" /run/buildkit-foo/buildkitd.sock")
	both := []string{nerdctlDefaultHost, buildkitDefaultHost}
	k8s := []string{nerdctlK8sHost, nerdctlDefaultHost, buildkitDefaultHost}
	foo := []string{nerdctlFooHost, nerdctlDefaultHost, buildkitDefaultHost}

	scenarios := []nerdctlScenario{
		{
			name: "b2 shared containerd", candidates: both, refHost: nerdctlDefaultHost,
			output: "type=image,unpack=true,name=docker.io/library/demo:2",
			check: func(t *testing.T, b scenarioBuild) {
				require.Equal(t, 3, requireUnpackedImage(t, cliDefault, "docker.io/library/demo:2"), "%s", b.bin)
			},
		},
		{
			name: "f4 iidfile with shared containerd", candidates: both, refHost: nerdctlDefaultHost, metadata: true,
			output: "type=image,unpack=true,name=docker.io/library/demo:iid2",
			check: func(t *testing.T, b scenarioBuild) {
				img, err := cliDefault.GetImage(context.Background(), "docker.io/library/demo:iid2")
				require.NoError(t, err, "%s", b.bin)
				require.Equal(t, img.Target().Digest.String(), b.metadataDigest, "%s", b.bin)
			},
		},
		{
			name: "f8 quiet with shared containerd", candidates: both, refHost: nerdctlDefaultHost, quiet: true,
			output: "type=image,unpack=true,name=docker.io/library/demo:q2",
		},
		{
			// The worker's namespace differs from nerdctl's, so nerdctl
			// loads a docker archive into k8s.io itself.
			name: "c3 namespace mismatch loads", candidates: k8s, refHost: nerdctlDefaultHost,
			env: []string{"CONTAINERD_NAMESPACE=k8s.io"}, namespace: "k8s.io",
			output: "type=docker,name=docker.io/library/demo:k8s",
			check: func(t *testing.T, b scenarioBuild) {
				requireImageFile(t, b, "greeting.txt", " \n")
				requireNoImage(t, cliDefault, "docker.io/library/demo:k8s")
			},
		},
		{
			name: "c4 worker of namespace foo", candidates: foo, refHost: nerdctlFooHost, namespace: "foo",
			output: "type=image,unpack=true,name=docker.io/library/demo:foo2",
			check: func(t *testing.T, b scenarioBuild) {
				require.Equal(t, 3, requireUnpackedImage(t, cliFoo, "docker.io/library/demo:foo2"), "%s", b.bin)
				requireNoImage(t, cliDefault, "docker.io/library/demo:foo2")
			},
		},
		{
			name: "k2 failing run with shared containerd", candidates: both, refHost: nerdctlDefaultHost, files: failingFiles,
			output: "type=image,unpack=true,name=docker.io/library/demo:fail2", wantExit: 1,
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { replayScenario(t, setup, sc) })
	}
	requireNoImage(t, cliDefault, "docker.io/library/demo:fail2")
}
