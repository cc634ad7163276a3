package integration

// These tests replay the path nerdctl takes when buildkitd's worker is the
// containerd worker of the containerd that nerdctl uses, in the same
// namespace and snapshotter: nerdctl builds with
// --output=type=image,unpack=true,name=... and loads nothing, because
// buildkitd writes the image into containerd itself.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/platforms"
	"github.com/stretchr/testify/require"
)

const workerLabelPrefix = "org.mobyproject.buildkit.worker."

// unpackContext is a build context whose image has two layers, the second
// written by a RUN step, which the containerd worker runs as a containerd
// task through the runc shim.
func unpackContext(t *testing.T) string {
	return writeContext(t, map[string]string{
		"busybox": "@busybox",
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n" +
			`RUN ["/bin/busybox","sh","-c","echo built > /built.txt"]` + "\n",
	})
}

func TestContainerdWorker(t *testing.T) {
	ctrd := startContainerd(t)
	bk := startContainerdWorker(t, ctrd, "default")
	cli := ctrd.client(t, "default")

	t.Run("host probe", func(t *testing.T) {
		call := nerdctlCall{args: []string{"--addr=" + bk.addr, "debug", "workers"}, combined: true}
		ours := execLikeNerdctl(t, oursBin, call)
		ref := execLikeNerdctl(t, referenceBin, call)
		require.Equal(t, 0, ref.exitCode, "reference output: %s", ref.stdout)
		require.Equal(t, ref.exitCode, ours.exitCode, "output: %s", ours.stdout)
	})

	t.Run("worker labels", func(t *testing.T) {
		labels := requireSameWorkerLabels(t, bk)
		info, err := cli.Server(context.Background())
		require.NoError(t, err)
		// nerdctl compares these with its own containerd before it picks
		// type=image,unpack=true.
		require.Equal(t, "containerd", labels[workerLabelPrefix+"executor"])
		require.Equal(t, "default", labels[workerLabelPrefix+"containerd.namespace"])
		require.Equal(t, info.UUID, labels[workerLabelPrefix+"containerd.uuid"])
		require.Equal(t, "overlayfs", labels[workerLabelPrefix+"snapshotter"])
	})

	t.Run("build unpacks into containerd", func(t *testing.T) {
		dir := unpackContext(t)
		ours := buildUnpacked(t, oursBin, bk, dir, "docker.io/library/demo:2")
		ref := buildUnpacked(t, referenceBin, bk, dir, "docker.io/library/demo:2ref")
		require.Equal(t, 0, ref.exitCode, "reference stderr: %s", ref.stderr)
		require.Equal(t, ref.exitCode, ours.exitCode, "stderr: %s", ours.stderr)
		require.Empty(t, ref.stdout)
		require.Empty(t, ours.stdout, "stdout is nerdctl's own stdout in this mode")

		refLayers := requireUnpackedImage(t, cli, "docker.io/library/demo:2ref")
		oursLayers := requireUnpackedImage(t, cli, "docker.io/library/demo:2")
		require.Equal(t, 2, refLayers)
		require.Equal(t, refLayers, oursLayers)
	})

	// nerdctl build --iidfile F passes an empty metadata file and writes
	// its containerimage.digest to F.
	t.Run("metadata file names the image", func(t *testing.T) {
		dir := unpackContext(t)
		oursKeys, oursDigest := buildWithMetadata(t, oursBin, bk, dir, "docker.io/library/demo:iid")
		refKeys, refDigest := buildWithMetadata(t, referenceBin, bk, dir, "docker.io/library/demo:iidref")
		require.Equal(t, refKeys, oursKeys)

		ctx := context.Background()
		refImage, err := cli.GetImage(ctx, "docker.io/library/demo:iidref")
		require.NoError(t, err)
		require.Equal(t, refImage.Target().Digest.String(), refDigest)
		oursImage, err := cli.GetImage(ctx, "docker.io/library/demo:iid")
		require.NoError(t, err)
		require.Equal(t, oursImage.Target().Digest.String(), oursDigest, "containerimage.digest is the digest of the image in containerd")
	})

	t.Run("failing run builds no image", func(t *testing.T) {
		dir := writeContext(t, map[string]string{
			"busybox":    "@busybox",
			"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n" + `RUN ["/bin/busybox","sh","-c","exit 3"]` + "\n",
		})
		ours := buildUnpacked(t, oursBin, bk, dir, "docker.io/library/demo:fail")
		ref := buildUnpacked(t, referenceBin, bk, dir, "docker.io/library/demo:failref")
		require.NotEqual(t, 0, ref.exitCode)
		// nerdctl exits silently with this code.
		require.Equal(t, ref.exitCode, ours.exitCode, "stderr: %s", ours.stderr)
		require.Empty(t, ours.stdout)
		requireNoImage(t, cli, "docker.io/library/demo:fail")
		requireNoImage(t, cli, "docker.io/library/demo:failref")
	})

	// nerdctl -n foo with a buildkitd for namespace foo: the image lands in
	// foo and nowhere else.
	t.Run("namespace foo", func(t *testing.T) {
		bkFoo := startContainerdWorker(t, ctrd, "foo")
		labels := requireSameWorkerLabels(t, bkFoo)
		require.Equal(t, "foo", labels[workerLabelPrefix+"containerd.namespace"])

		dir := unpackContext(t)
		ours := buildUnpacked(t, oursBin, bkFoo, dir, "docker.io/library/demo:foo2")
		ref := buildUnpacked(t, referenceBin, bkFoo, dir, "docker.io/library/demo:foo2ref")
		require.Equal(t, 0, ref.exitCode, "reference stderr: %s", ref.stderr)
		require.Equal(t, ref.exitCode, ours.exitCode, "stderr: %s", ours.stderr)
		require.Empty(t, ours.stdout)

		cliFoo := ctrd.client(t, "foo")
		require.Equal(t, requireUnpackedImage(t, cliFoo, "docker.io/library/demo:foo2ref"),
			requireUnpackedImage(t, cliFoo, "docker.io/library/demo:foo2"))
		requireNoImage(t, cli, "docker.io/library/demo:foo2")
	})
}

// requireSameWorkerLabels runs nerdctl's sharability probe, "debug workers
// --format {{json .}}", through ours and the reference, requires the same
// stdout and returns the labels of the first worker, the only part nerdctl
// reads.
func requireSameWorkerLabels(t *testing.T, d *daemon) map[string]string {
	t.Helper()
	call := nerdctlCall{args: []string{"--addr=" + d.addr, "debug", "workers", "--format", "{{json .}}"}}
	ours := execLikeNerdctl(t, oursBin, call)
	ref := execLikeNerdctl(t, referenceBin, call)
	require.Equal(t, 0, ref.exitCode, "reference stderr: %s", ref.stderr)
	require.Equal(t, ref.exitCode, ours.exitCode, "stderr: %s", ours.stderr)
	require.Equal(t, string(ref.stdout), string(ours.stdout))

	var workers []struct {
		Labels map[string]string `json:"labels"`
	}
	require.NoError(t, json.Unmarshal(ours.stdout, &workers), "stdout: %s", ours.stdout)
	require.Len(t, workers, 1)
	return workers[0].Labels
}

// buildUnpacked runs the build call nerdctl makes for "nerdctl build -t
// NAME ." when it shares containerd with buildkitd.
func buildUnpacked(t *testing.T, bin string, d *daemon, dir, name string) nerdctlResult {
	t.Helper()
	args := nerdctlBuildArgs(d.addr, "auto", "type=image,unpack=true,name="+name, dir, nil, nil)
	return execLikeNerdctl(t, bin, nerdctlCall{args: args, dir: dir})
}

// buildWithMetadata runs the build call of "nerdctl build --iidfile F -t
// NAME ." and returns the sorted keys of the metadata file and the string
// at containerimage.digest, the value nerdctl writes to F.
func buildWithMetadata(t *testing.T, bin string, d *daemon, dir, name string) ([]string, string) {
	t.Helper()
	metadata := filepath.Join(t.TempDir(), "buildkit-meta-1")
	require.NoError(t, os.WriteFile(metadata, nil, 0o600))
	args := nerdctlBuildArgs(d.addr, "auto", "type=image,unpack=true,name="+name, dir, nil,
		[]string{"--metadata-file=" + metadata})
	res := execLikeNerdctl(t, bin, nerdctlCall{args: args, dir: dir})
	require.Equal(t, 0, res.exitCode, "%s stderr: %s", bin, res.stderr)
	require.Empty(t, res.stdout)

	data, err := os.ReadFile(metadata)
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.Unmarshal(data, &meta), "metadata: %s", data)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	digest, ok := meta["containerimage.digest"].(string)
	require.True(t, ok, "containerimage.digest must be a string: %s", data)
	return keys, digest
}

// requireUnpackedImage requires that containerd has image name, unpacked in
// the overlayfs snapshotter so that nerdctl can run it, and returns the
// number of layers of its manifest for the host platform.
func requireUnpackedImage(t *testing.T, cli *client.Client, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	img, err := cli.GetImage(ctx, name)
	require.NoError(t, err, "image %s in containerd", name)
	unpacked, err := img.IsUnpacked(ctx, "overlayfs")
	require.NoError(t, err)
	require.True(t, unpacked, "image %s is not unpacked in overlayfs", name)
	manifest, err := images.Manifest(ctx, img.ContentStore(), img.Target(), platforms.Default())
	require.NoError(t, err, "manifest of %s", name)
	return len(manifest.Layers)
}

func requireNoImage(t *testing.T, cli *client.Client, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	imgs, err := cli.ListImages(ctx, "name=="+name)
	require.NoError(t, err)
	require.Empty(t, imgs, "image %s in containerd", name)
}

// TestContainerdClientOutOfProduct keeps the containerd client, which only
// these tests use, out of the buildctl binary.
func TestContainerdClientOutOfProduct(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../cmd/buildctl").Output()
	require.NoError(t, err)
	for _, pkg := range strings.Fields(string(out)) {
		require.NotEqual(t, containerdModule+"/client", pkg, "buildctl imports the containerd client")
	}
}
