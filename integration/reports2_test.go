package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
)

// TestReportsRound2 compares ours with the reference on the debug
// subcommands, tracing variables, connection helpers, newer build flags and
// hostile inputs. Each subtest runs the same invocation through both
// binaries. A subtest guarded by t.Skip documents a known difference, and
// the fix of that difference removes the skip.
func TestReportsRound2(t *testing.T) {
	requireDaemon(t)

	t.Run("debug histories format", func(t *testing.T) {
		// A private daemon, because records on the shared one change while
		// the daemon attaches earlier builds' traces to them.
		d := startDaemon(t)
		args := append([]string{"--addr", d.addr}, r2DockerfileArgs(r2RunContext(t), "--output", "type=tar,dest=/dev/null")...)
		res := run(referenceBin, runOptions{Args: args})
		require.Zero(t, res.ExitCode, res.Stderr)
		// The daemon attaches the build's trace to the record up to three
		// seconds after the build ends, later on a loaded machine, so wait
		// for the trace instead of a fixed time.
		waitForTraces(t, d)
		for _, format := range []string{"{{json .}}", "{{.Record.Ref}} {{.Type}}", "{{.Bogus}}", "{{", "{{json.}}"} {
			t.Run(format, func(t *testing.T) {
				ours, ref := runBoth(t, d, runOptions{Args: []string{"debug", "histories", "--format", format}})
				requireSameResult(t, ours, ref)
				require.Equal(t, ref.Stderr, ours.Stderr)
			})
		}
	})

	t.Run("debug get invalid digests", func(t *testing.T) {
		zero := "sha256:" + strings.Repeat("0", 64)
		for _, args := range [][]string{{}, {"notadigest"}, {"sha256:abc"}, {"SHA256:" + strings.Repeat("A", 64)}, {"sha512:abc"}, {zero}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: append([]string{"debug", "get"}, args...)})
				requireSameResult(t, ours, ref)
				require.NotZero(t, ref.ExitCode)
				require.Equal(t, ref.Stderr, ours.Stderr)
			})
		}
	})

	// https://github.com/moby/buildkit/pull/73
	// https://github.com/moby/buildkit/pull/1110
	t.Run("dump llb of every op kind", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "rich.llb")
		require.NoError(t, os.WriteFile(file, r2MarshalLLB(t, r2RichState()), 0o644))
		for _, args := range [][]string{{file}, {"--dot", file}, {"-"}, {"--dot"}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				opts := runOptions{Args: append([]string{"debug", "dump-llb"}, args...)}
				ours, ref := r2RunWithFileStdin(t, opts, file)
				requireSameResult(t, ours, ref)
				require.Zero(t, ref.ExitCode, ref.Stderr)
			})
		}
	})

	t.Run("dump llb malformed input", func(t *testing.T) {
		badOp, err := (&pb.Definition{Def: [][]byte{{0xff, 0xff, 0xff}}}).MarshalVT()
		require.NoError(t, err)
		inputs := map[string][]byte{
			"garbage":  []byte("garbage"),
			"empty":    nil,
			"random":   bytes.Repeat([]byte{0x0f, 0xa3, 0x77, 0x00, 0x19}, 20000),
			"bad op":   badOp,
			"newlines": []byte("\n\n\n"),
		}
		for name, data := range inputs {
			t.Run(name, func(t *testing.T) {
				file := filepath.Join(t.TempDir(), "in.llb")
				require.NoError(t, os.WriteFile(file, data, 0o644))
				for _, args := range [][]string{{file}, {"--dot", file}, {}} {
					ours, ref := r2RunWithFileStdin(t, runOptions{Args: append([]string{"debug", "dump-llb"}, args...)}, file)
					requireSameResult(t, ours, ref)
					require.Equal(t, ref.Stderr, ours.Stderr)
				}
			})
		}
	})

	t.Run("dump llb of three thousand ops", func(t *testing.T) {
		st := llb.Scratch()
		for i := 0; i < 3000; i++ {
			st = st.File(llb.Mkfile(fmt.Sprintf("/f%d", i%50), 0o644, bytes.Repeat([]byte("z"), 1000)))
		}
		file := filepath.Join(t.TempDir(), "huge.llb")
		require.NoError(t, os.WriteFile(file, r2MarshalLLB(t, st), 0o644))
		for _, args := range [][]string{{}, {"--dot"}} {
			ours, ref := r2RunWithFileStdin(t, runOptions{Args: append([]string{"debug", "dump-llb"}, args...)}, file)
			requireSameResult(t, ours, ref)
			require.Zero(t, ref.ExitCode, ref.Stderr)
		}
	})

	// https://github.com/docker/compose/issues/11801
	t.Run("opentelemetry variables", func(t *testing.T) {
		cases := [][]string{
			{"OTEL_TRACES_EXPORTER=bogus"},
			{"OTEL_TRACES_EXPORTER=bogus", "OTEL_IGNORE_ERROR=1"},
			{"OTEL_TRACES_EXPORTER=bogus", "OTEL_IGNORE_ERROR=yes"},
			{"OTEL_TRACES_EXPORTER=none"},
			{"OTEL_TRACES_EXPORTER=jaeger"},
			{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"},
			{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL=x"},
			{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=bogus", "OTEL_IGNORE_ERROR=true"},
			{"OTEL_METRICS_EXPORTER=bogus"},
			{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"},
		}
		for _, env := range cases {
			t.Run(strings.Join(env, " "), func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: []string{"debug", "workers"}, Env: env})
				requireSameResult(t, ours, ref)
				require.Equal(t, ref.Stderr, ours.Stderr)
			})
		}
	})

	// https://github.com/moby/buildkit/pull/3112
	t.Run("oci layout named context", func(t *testing.T) {
		layout := r2TempDir(t)
		res := run(referenceBin, runOptions{Args: r2Args(r2DockerfileArgs(r2RunContext(t),
			"--output", "type=oci,tar=false,name=layoutimg:1,dest="+layout))})
		require.Zero(t, res.ExitCode, res.Stderr)
		var index struct {
			Manifests []struct{ Digest string } `json:"manifests"`
		}
		data, err := os.ReadFile(filepath.Join(layout, "index.json"))
		require.NoError(t, err)
		decodeJSON(t, string(data), &index)
		require.Len(t, index.Manifests, 1)

		ctx := writeContext(t, map[string]string{
			"Dockerfile": "FROM base\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo two > /two\"]\n",
		})
		r2CompareLocalOutput(t, r2DockerfileArgs(ctx, "--oci-layout", "store="+layout,
			"--opt", "context:base=oci-layout://store@"+index.Manifests[0].Digest))

		for _, flags := range [][]string{{"--oci-layout", "bogus"}, {"--oci-layout", "=" + layout}, {"--opt", "context:base=oci-layout://store:1", "--oci-layout", "store=" + layout}} {
			t.Run(strings.Join(flags, " "), func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: r2DockerfileArgs(ctx, append(flags, "--output", "type=tar,dest=/dev/null")...)})
				requireSameResult(t, ours, ref)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
			})
		}
	})

	t.Run("ssh agent forms", func(t *testing.T) {
		agentSock := r2StartSSHAgent(t)
		dir := r2TempDir(t)
		key := filepath.Join(dir, "key")
		out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput()
		require.NoError(t, err, string(out))
		add := exec.Command("ssh-add", key)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+agentSock)
		out, err = add.CombinedOutput()
		require.NoError(t, err, string(out))

		ctx := writeContext(t, map[string]string{
			"busybox": "@busybox",
			"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n" +
				`RUN --mount=type=ssh,id=default,required=true ["/bin/busybox","test","-S","/run/buildkit/ssh_agent.0"]` + "\n",
		})
		for _, ssh := range []string{"default", "default=" + agentSock, "default=" + key, "default=" + key + "," + key,
			"default=/nonexistent-key", "other", "default=" + key + ".pub", "=x", ""} {
			t.Run(ssh, func(t *testing.T) {
				opts := runOptions{
					Args: r2DockerfileArgs(ctx, "--no-cache", "--ssh", ssh, "--output", "type=tar,dest=/dev/null"),
					Env:  []string{"SSH_AUTH_SOCK=" + agentSock},
				}
				ours, ref := runBoth(t, shared, opts)
				requireSameResult(t, ours, ref)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
			})
		}
	})

	// https://github.com/moby/buildkit/pull/3332
	t.Run("source policy file", func(t *testing.T) {
		ctx := r2RunContext(t)
		dir := r2TempDir(t)
		policies := map[string]string{
			"deny local":   `{"rules":[{"action":"DENY","selector":{"identifier":"local://*","matchType":"WILDCARD"}}]}`,
			"empty":        `{"rules":[]}`,
			"bad json":     `{bad`,
			"bogus action": `{"rules":[{"action":"BOGUS"}]}`,
		}
		for name, policy := range policies {
			t.Run(name, func(t *testing.T) {
				file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
				require.NoError(t, os.WriteFile(file, []byte(policy), 0o644))
				ours, ref := runBoth(t, shared, runOptions{Args: r2DockerfileArgs(ctx, "--source-policy-file", file, "--output", "type=tar,dest=/dev/null")})
				requireSameResult(t, ours, ref)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
			})
		}
		for _, file := range []string{"/nonexistent.json", dir, "-"} {
			t.Run(file, func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: r2DockerfileArgs(ctx, "--source-policy-file", file, "--output", "type=tar,dest=/dev/null")})
				requireSameResult(t, ours, ref)
				require.Equal(t, ref.Stderr, ours.Stderr)
			})
		}
	})

	t.Run("entitlements the daemon lacks", func(t *testing.T) {
		ctx := writeContext(t, map[string]string{
			"busybox": "@busybox",
			"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n" +
				"RUN --security=insecure [\"/bin/busybox\",\"true\"]\nRUN --network=host [\"/bin/busybox\",\"true\"]\n",
		})
		for _, flags := range [][]string{{"--allow", "security.insecure"}, {"--allow", "network.host"}, {"--allow", "bogus"},
			{"--allow", "network.host", "--allow", "security.insecure"}, {"--allow", "device=foo"}, {}} {
			t.Run(strings.Join(flags, " "), func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: r2DockerfileArgs(ctx, append(flags, "--output", "type=tar,dest=/dev/null")...)})
				requireSameResult(t, ours, ref)
				require.NotZero(t, ref.ExitCode)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
			})
		}
	})

	t.Run("multi-platform local output", func(t *testing.T) {
		ctx := writeContext(t, map[string]string{
			"busybox": "@busybox",
			"Dockerfile": "FROM scratch\nARG TARGETPLATFORM\nCOPY busybox /bin/busybox\n" +
				"RUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo $TARGETPLATFORM > /p\"]\n",
		})
		for _, platforms := range []string{"linux/amd64,linux/386", "linux/386,linux/amd64,linux/386", "linux/amd64"} {
			t.Run(platforms, func(t *testing.T) {
				r2CompareLocalOutput(t, r2DockerfileArgs(ctx, "--opt", "platform="+platforms))
			})
		}
	})

	// https://github.com/moby/buildkit/issues/3166
	t.Run("SOURCE_DATE_EPOCH oci tarball", func(t *testing.T) {
		ctx := r2RunContext(t)
		for _, epoch := range []string{"0", "1700000000", "-5", "bogus"} {
			t.Run(epoch, func(t *testing.T) {
				oursTar := filepath.Join(t.TempDir(), "o.tar")
				refTar := filepath.Join(t.TempDir(), "o.tar")
				env := []string{"SOURCE_DATE_EPOCH=" + epoch}
				ours := run(oursBin, runOptions{Args: r2Args(r2DockerfileArgs(ctx, "--output", "type=oci,dest="+oursTar)), Env: env})
				ref := run(referenceBin, runOptions{Args: r2Args(r2DockerfileArgs(ctx, "--output", "type=oci,dest="+refTar)), Env: env})
				requireSameResult(t, ours, ref)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
				oursData, _ := os.ReadFile(oursTar)
				refData, _ := os.ReadFile(refTar)
				require.True(t, bytes.Equal(refData, oursData), "tarballs differ: ours %d bytes, reference %d bytes", len(oursData), len(refData))
			})
		}
	})

	t.Run("rawjson progress keys", func(t *testing.T) {
		ctx := r2RunContext(t)
		args := r2DockerfileArgs(ctx, "--no-cache", "--progress=rawjson", "--output", "type=tar,dest=/dev/null")
		ours, ref := runBoth(t, shared, runOptions{Args: args})
		requireSameResult(t, ours, ref)
		// Which optional fields appear (a status with "current", say)
		// depends on timing, so compare the vertex names, which do not,
		// and require every key to be one the reference can print.
		refNames := r2VertexNames(t, ref.Stderr)
		require.NotEmpty(t, refNames)
		require.Equal(t, refNames, r2VertexNames(t, ours.Stderr))
		require.Subset(t, r2KnownKeyPaths, r2JSONKeyPaths(t, ref.Stderr), "the reference printed a key this test does not know")
		require.Subset(t, r2KnownKeyPaths, r2JSONKeyPaths(t, ours.Stderr))
	})

	// https://github.com/moby/buildkit/issues/1626
	t.Run("failing connection helper", func(t *testing.T) {
		dir := t.TempDir()
		scripts := map[string]string{
			"docker":  "#!/bin/sh\necho \"Error response from daemon: No such container: $3\" >&2\nexit 1\n",
			"kubectl": "#!/bin/sh\necho garbage\n",
		}
		for name, script := range scripts {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755))
		}
		env := []string{"PATH=" + dir + ":" + os.Getenv("PATH")}
		for _, addr := range []string{"docker-container://bk", "kube-pod://bk", "podman-container://bk"} {
			t.Run(addr, func(t *testing.T) {
				opts := runOptions{Args: []string{"--addr", addr, "--timeout", "3", "debug", "workers"}, Env: env}
				ours := run(oursBin, opts)
				ref := run(referenceBin, opts)
				requireSameResult(t, ours, ref)
				require.NotZero(t, ref.ExitCode)
				require.Equal(t, firstLine(ref.Stderr), firstLine(ours.Stderr))
			})
		}
	})

	t.Run("helper address without container name", func(t *testing.T) {
		opts := runOptions{Args: []string{"--addr", "docker-container://", "--timeout", "3", "debug", "workers"}}
		ours := run(oursBin, opts)
		ref := run(referenceBin, opts)
		requireSameResult(t, ours, ref)
		require.Equal(t, firstLine(ref.Stderr), firstLine(ours.Stderr))
	})

	t.Run("nerdctl dockerfile in subfolder", func(t *testing.T) {
		ctx := writeContext(t, map[string]string{
			"busybox":            "@busybox",
			"secret.txt":         "sekrit",
			"sub/Alt.Dockerfile": "FROM scratch AS base\nCOPY busybox /bin/busybox\nARG GREETING\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo $GREETING > /g\"]\n",
		})
		args := []string{"build", "--progress=plain", "--frontend=dockerfile.v0", "--local=context=.",
			"--local=dockerfile=" + filepath.Join(ctx, "sub"), "--opt=filename=Alt.Dockerfile",
			"--opt=build-arg:GREETING=hi", "--opt=label:c=d e", "--opt=label:a=b"}
		r2CompareLocalOutputIn(t, ctx, args)
	})

	t.Run("nerdctl containerfile only context", func(t *testing.T) {
		ctx := writeContext(t, map[string]string{"Containerfile": "FROM scratch\nCOPY hello /hello\n", "hello": "hi\n"})
		args := []string{"build", "--progress=plain", "--frontend=dockerfile.v0", "--local=context=.",
			"--local=dockerfile=" + ctx, "--opt=filename=Containerfile"}
		r2CompareLocalOutputIn(t, ctx, args)
	})

	t.Run("nerdctl iidfile metadata", func(t *testing.T) {
		ctx := r2RunContext(t)
		keys := map[string][]string{}
		for name, bin := range map[string]string{"ours": oursBin, "reference": referenceBin} {
			meta := filepath.Join(t.TempDir(), "buildkit-meta")
			require.NoError(t, os.WriteFile(meta, nil, 0o600))
			res := run(bin, runOptions{Args: r2Args([]string{"build", "--progress=plain", "--frontend=dockerfile.v0",
				"--local=context=" + ctx, "--output=type=image,name=docker.io/library/iid:1",
				"--local=dockerfile=" + ctx, "--opt=filename=Dockerfile", "--metadata-file=" + meta})})
			require.Zero(t, res.ExitCode, "%s: %s", name, res.Stderr)
			data, err := os.ReadFile(meta)
			require.NoError(t, err)
			var md map[string]any
			decodeJSON(t, string(data), &md)
			manifestDigest, ok := md["containerimage.digest"].(string)
			require.True(t, ok, "%s: containerimage.digest is not a string", name)
			require.True(t, strings.HasPrefix(manifestDigest, "sha256:"), "%s: %s", name, manifestDigest)
			for k := range md {
				keys[name] = append(keys[name], k)
			}
			sort.Strings(keys[name])
		}
		require.Equal(t, keys["reference"], keys["ours"])
	})

	t.Run("hostile option values", func(t *testing.T) {
		ctx := r2RunContext(t)
		big := strings.Repeat("a", 120000)
		var many []string
		for i := 0; i < 10000; i++ {
			many = append(many, "--opt", fmt.Sprintf("build-arg:A%d=v%d", i, i))
		}
		cases := map[string][]string{
			"newlines":        {"--opt", "build-arg:X=a\nb", "--opt", "label:k\n=v"},
			"120 KB values":   {"--opt", "build-arg:X1=" + big, "--opt", "build-arg:X2=" + big, "--opt", "label:L=" + big},
			"ten thousand":    many,
			"binary no NUL":   {"--opt", "build-arg:X=\x01\x7f\xff\xfe", "--opt", "label:\xc3\x28=v"},
			"empty opt value": {"--opt", "", "--opt", "="},
		}
		for name, flags := range cases {
			t.Run(name, func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: r2DockerfileArgs(ctx, append(flags, "--output", "type=tar,dest=/dev/null")...)})
				requireSameResult(t, ours, ref)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
			})
		}
	})

	t.Run("deep and looping contexts", func(t *testing.T) {
		deep := t.TempDir()
		p := deep
		for i := 0; i < 300; i++ {
			p = filepath.Join(p, "d")
		}
		require.NoError(t, os.MkdirAll(p, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(p, "f"), []byte("x"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(deep, "Dockerfile"), []byte("FROM scratch\nCOPY . /\n"), 0o644))
		t.Run("300 levels", func(t *testing.T) { r2CompareLocalOutput(t, r2DockerfileArgs(deep)) })

		loop := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(loop, "a"), 0o755))
		for link, target := range map[string]string{"a/self": "../a", "b2": "b", "b": "b2", "dot": ".", "root": "/proc/self/root"} {
			require.NoError(t, os.Symlink(target, filepath.Join(loop, link)))
		}
		for name, dockerfile := range map[string]string{"copy all": "COPY . /\n", "through loop": "COPY dot/a/self/self/ /x/\n", "link cycle": "COPY b /x/\n"} {
			t.Run(name, func(t *testing.T) {
				require.NoError(t, os.WriteFile(filepath.Join(loop, "Dockerfile"), []byte("FROM scratch\n"+dockerfile), 0o644))
				ours, ref := runBoth(t, shared, runOptions{Args: r2DockerfileArgs(loop, "--output", "type=tar,dest=/dev/null")})
				requireSameResult(t, ours, ref)
				require.Equal(t, r2MaskIDs(lastLine(ref.Stderr)), r2MaskIDs(lastLine(ours.Stderr)))
			})
		}
	})

	t.Run("metadata file path unusable", func(t *testing.T) {
		ctx := r2RunContext(t)
		for _, path := range []string{r2TempDir(t), "/nonexistent-dir/meta.json"} {
			t.Run(path, func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: r2DockerfileArgs(ctx, "--metadata-file", path, "--output", "type=image,name=example.com/meta:1")})
				requireSameResult(t, ours, ref)
				require.NotZero(t, ref.ExitCode)
				require.Equal(t, r2MaskTempName(lastLine(ref.Stderr)), r2MaskTempName(lastLine(ours.Stderr)))
			})
		}
	})

	t.Run("gateway frontend without image", func(t *testing.T) {
		ctx := r2RunContext(t)
		for _, flags := range [][]string{{}, {"--opt", "source="}, {"--opt", "source=127.0.0.1:1/nope:latest"}} {
			t.Run(strings.Join(flags, " "), func(t *testing.T) {
				args := append([]string{"build", "--progress=plain", "--frontend", "gateway.v0", "--local", "context=" + ctx,
					"--local", "dockerfile=" + ctx, "--output", "type=tar,dest=/dev/null"}, flags...)
				ours, ref := runBoth(t, shared, runOptions{Args: args})
				requireSameResult(t, ours, ref)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
			})
		}
	})
}

// r2Args puts the shared daemon's address before args.
func r2Args(args []string) []string {
	return append([]string{"--addr", shared.addr}, args...)
}

// r2DockerfileArgs returns the arguments of a plain-progress Dockerfile
// build of ctx followed by extra.
func r2DockerfileArgs(ctx string, extra ...string) []string {
	args := []string{"build", "--progress=plain", "--frontend=dockerfile.v0",
		"--local", "context=" + ctx, "--local", "dockerfile=" + ctx}
	return append(args, extra...)
}

// r2RunContext is a build context whose RUN step writes /hi with busybox.
func r2RunContext(t *testing.T) string {
	t.Helper()
	return writeContext(t, map[string]string{
		"busybox":    "@busybox",
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo hi > /hi\"]\n",
	})
}

// r2Build runs args through bin on the shared daemon and requires success.
func r2Build(t *testing.T, bin string, args []string) {
	t.Helper()
	res := run(bin, runOptions{Args: r2Args(args)})
	require.Zero(t, res.ExitCode, res.Stderr)
}

// r2TempDir creates a folder whose path contains no subtest name, so that
// it may appear inside a CSV flag value.
func r2TempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "reports2-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// r2CompareLocalOutput runs args with a local output through both binaries
// and requires the same result and the same tree.
func r2CompareLocalOutput(t *testing.T, args []string) {
	t.Helper()
	r2CompareLocalOutputIn(t, "", args)
}

// r2CompareLocalOutputIn is r2CompareLocalOutput with the working folder dir.
func r2CompareLocalOutputIn(t *testing.T, dir string, args []string) {
	t.Helper()
	oursDir, refDir := r2TempDir(t), r2TempDir(t)
	ours := run(oursBin, runOptions{Dir: dir, Args: r2Args(append(append([]string{}, args...), "--output", "type=local,dest="+oursDir))})
	ref := run(referenceBin, runOptions{Dir: dir, Args: r2Args(append(append([]string{}, args...), "--output", "type=local,dest="+refDir))})
	requireSameResult(t, ours, ref)
	require.Zero(t, ref.ExitCode, ref.Stderr)
	require.Equal(t, r2Tree(t, refDir), r2Tree(t, oursDir))
}

// r2Tree lists each path under root with its mode and, for regular files
// smaller than 4 KiB, its content.
func r2Tree(t *testing.T, root string) []string {
	t.Helper()
	var entries []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%s %v", rel, fi.Mode())
		if fi.Mode().IsRegular() && fi.Size() < 4096 {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			entry += fmt.Sprintf(" %q", data)
		}
		entries = append(entries, entry)
		return nil
	})
	require.NoError(t, err)
	return entries
}

// r2RunWithFileStdin runs opts through both binaries, each with file on
// stdin.
func r2RunWithFileStdin(t *testing.T, opts runOptions, file string) (ours, ref result) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	opts.Stdin = bytes.NewReader(data)
	ours = run(oursBin, opts)
	opts.Stdin = bytes.NewReader(data)
	ref = run(referenceBin, opts)
	return ours, ref
}

func r2MarshalLLB(t *testing.T, st llb.State) []byte {
	t.Helper()
	def, err := st.Marshal(context.Background(), llb.LinuxAmd64)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, llb.WriteTo(def, &buf))
	return buf.Bytes()
}

// r2RichState is an LLB graph with image, local, git and HTTP sources, an
// exec with every mount kind, file, merge and diff ops, and names with
// quotes, newlines and non-ASCII text.
func r2RichState() llb.State {
	base := llb.Image("docker.io/library/busybox:latest", llb.WithCustomName("base \"quoted\"\nnewline ☃"))
	local := llb.Local("context", llb.IncludePatterns([]string{"*.go"}), llb.SharedKeyHint("k"))
	exec := base.Run(llb.Shlex(`sh -c "echo \"hi\" > /out"`), llb.AddEnv("A", "b\tc"), llb.Dir("/w"),
		llb.AddMount("/mnt", local, llb.Readonly),
		llb.AddMount("/cache", llb.Scratch(), llb.AsPersistentCacheDir("id", llb.CacheMountShared)),
		llb.AddSecret("/run/secrets/s", llb.SecretID("s")), llb.AddSSHSocket(),
		llb.Network(llb.NetModeNone), llb.Security(llb.SecurityModeInsecure))
	files := exec.Root().File(llb.Copy(local, "/a", "/b", &llb.CopyInfo{CreateDestPath: true, AllowWildcard: true}).
		Mkdir("/d", 0o755, llb.WithParents(true)).
		Mkfile("/d/f", 0o600, []byte("x\x00y")).
		Rm("/old").
		Symlink("/d/f", "/lnk"))
	merged := llb.Merge([]llb.State{files, local, llb.Git("https://example.com/r.git", "main")})
	http := llb.HTTP("https://example.com/x", llb.Checksum(digest.Digest("sha256:"+strings.Repeat("0", 64))))
	return llb.Diff(base, merged).File(llb.Copy(http, "/x", "/y"))
}

// r2StartSSHAgent starts an ssh-agent on a socket of its own and returns the
// socket path. The agent is stopped at cleanup.
func r2StartSSHAgent(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("ssh-agent not found in PATH (apt-get install openssh-client)")
	}
	sock := filepath.Join(r2TempDir(t), "agent.sock")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		require.True(t, time.Now().Before(deadline), "ssh-agent did not create %s", sock)
		time.Sleep(50 * time.Millisecond)
	}
}

// r2JSONKeyPaths lists the distinct top-level keys and the keys of the
// objects inside each top-level array, over all JSON lines of s.
// r2KnownKeyPaths are the key paths of client.SolveStatus as --progress=rawjson
// prints it (BuildKit v0.34.2).
var r2KnownKeyPaths = []string{
	"logs", "logs.data", "logs.stream", "logs.timestamp", "logs.vertex",
	"statuses", "statuses.completed", "statuses.current", "statuses.id", "statuses.name",
	"statuses.started", "statuses.timestamp", "statuses.total", "statuses.vertex",
	"vertexes", "vertexes.cached", "vertexes.completed", "vertexes.digest", "vertexes.error",
	"vertexes.inputs", "vertexes.name", "vertexes.progressGroup", "vertexes.started",
	"warnings", "warnings.detail", "warnings.level", "warnings.range", "warnings.short",
	"warnings.sourceInfo", "warnings.url", "warnings.vertex",
}

// r2VertexNames returns the sorted, distinct vertex names of rawjson progress.
func r2VertexNames(t *testing.T, s string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var status struct {
			Vertexes []struct {
				Name string `json:"name"`
			} `json:"vertexes"`
		}
		decodeJSON(t, line, &status)
		for _, v := range status.Vertexes {
			seen[v.Name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func r2JSONKeyPaths(t *testing.T, s string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var obj map[string][]map[string]any
		decodeJSON(t, line, &obj)
		for key, items := range obj {
			seen[key] = true
			for _, item := range items {
				for sub := range item {
					seen[key+"."+sub] = true
				}
			}
		}
	}
	var paths []string
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// r2MaskIDs replaces cache record ids, which differ between two builds.
func r2MaskIDs(s string) string {
	return regexp.MustCompile(`::[a-z0-9]{25}`).ReplaceAllString(s, "::ID")
}

// r2MaskTempName replaces the random suffix of the temporary file that
// both binaries write before renaming it over the metadata file.
func r2MaskTempName(s string) string {
	return regexp.MustCompile(`(\.tmp-[^ /:]*?)[0-9]+([ :])`).ReplaceAllString(s, "${1}N$2")
}
