package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/stretchr/testify/require"
)

// TestReports replays command lines taken from public bug reports about
// buildctl, nerdctl and buildx through our buildctl and the reference, and
// compares what each produced. A subtest guarded by t.Skip documents a known
// difference, and the fix of that difference removes the skip.
func TestReports(t *testing.T) {
	requireDaemon(t)

	// https://github.com/moby/buildkit/issues/1305
	t.Run("failed build leaves same tarball", func(t *testing.T) {
		ctx := failingRunContext(t)
		for _, output := range []string{"type=oci", "type=tar", "type=docker"} {
			t.Run(output, func(t *testing.T) {
				oursFile := filepath.Join(t.TempDir(), "out.tar")
				refFile := filepath.Join(t.TempDir(), "out.tar")
				ours := run(oursBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "--output", output+",dest="+oursFile))})
				ref := run(referenceBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "--output", output+",dest="+refFile))})
				requireSameResult(t, ours, ref)
				require.NotEqual(t, 0, ref.ExitCode)
				require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
				require.Equal(t, describeFile(refFile), describeFile(oursFile))
			})
		}
	})

	// https://github.com/moby/buildkit/pull/1534
	t.Run("secret id falls back to env", func(t *testing.T) {
		ctx := secretContext(t)
		got := compareSecretBuild(t, ctx, []string{"--secret", "id=FOO"}, "FOO=from-env")
		require.Equal(t, "from-env", got)
	})

	// https://github.com/moby/buildkit/pull/1613
	t.Run("secret type env forms", func(t *testing.T) {
		ctx := secretContext(t)
		for _, secret := range []string{"id=FOO,type=env", "id=FOO,type=env,env=BAR", "id=FOO,env=BAR", "id=FOO,src=FOO"} {
			t.Run(secret, func(t *testing.T) {
				compareSecretBuild(t, ctx, []string{"--secret", secret}, "FOO=foo-env", "BAR=bar-env")
			})
		}
	})

	// https://github.com/moby/buildkit/pull/2095
	t.Run("metadata file with quoted names", func(t *testing.T) {
		ctx := buildContext(t)
		output := `type=image,"name=example.com/a:1,example.com/b:2"`
		oursMeta := filepath.Join(t.TempDir(), "md.json")
		refMeta := filepath.Join(t.TempDir(), "md.json")
		ours := run(oursBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "--output", output, "--metadata-file", oursMeta))})
		ref := run(referenceBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "--output", output, "--metadata-file", refMeta))})
		requireSameResult(t, ours, ref)
		require.Equal(t, 0, ref.ExitCode, ref.Stderr)
		require.Equal(t, metadataWithoutRef(t, refMeta), metadataWithoutRef(t, oursMeta))
	})

	// https://github.com/moby/buildkit/issues/2401
	t.Run("dockerignore patterns", func(t *testing.T) {
		ctx := writeContext(t, map[string]string{
			"Dockerfile":      "FROM scratch\nCOPY . /\n",
			".dockerignore":   "*.log\n!keep/*.log\nsub/**/*.log\n.hidden\n",
			"a.txt":           "a",
			"b.log":           "b",
			"keep/e.log":      "e",
			"sub/c.txt":       "c",
			"sub/deep/d.log":  "d",
			".hidden":         "h",
			"sub/deep/f.conf": "f",
		})
		compareLocalOutput(t, runOptions{}, dockerfileArgs(ctx))
	})

	// https://github.com/moby/buildkit/pull/5
	t.Run("dump llb from stdin", func(t *testing.T) {
		def := marshalLLB(t, llb.Scratch().
			File(llb.Mkdir("/dir", 0o755)).
			File(llb.Mkfile("/dir/hello.txt", 0o640, []byte("hello\n"))))
		for _, args := range [][]string{{"debug", "dump-llb"}, {"debug", "dump-llb", "--dot"}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				ours := run(oursBin, runOptions{Args: args, Stdin: bytes.NewReader(def)})
				ref := run(referenceBin, runOptions{Args: args, Stdin: bytes.NewReader(def)})
				requireSameResult(t, ours, ref)
				require.Equal(t, 0, ref.ExitCode, ref.Stderr)
				require.NotEmpty(t, ref.Stdout)
			})
		}
	})

	// https://github.com/docker/buildx/issues/62
	t.Run("BUILDKIT_PROGRESS values", func(t *testing.T) {
		ctx := buildContext(t)
		for _, mode := range []string{"bogus", "quiet", "rawjson", "plain", ""} {
			t.Run("mode "+mode, func(t *testing.T) {
				opts := runOptions{Args: sharedArgs([]string{"build", "--frontend=dockerfile.v0",
					"--local", "context=" + ctx, "--local", "dockerfile=" + ctx}),
					Env: []string{"BUILDKIT_PROGRESS=" + mode}}
				ours := run(oursBin, opts)
				ref := run(referenceBin, opts)
				requireSameResult(t, ours, ref)
				require.Equal(t, progressShape(ref.Stderr), progressShape(ours.Stderr))
			})
		}
	})

	// https://github.com/moby/buildkit/pull/4877
	t.Run("du filter on description", func(t *testing.T) {
		// A private daemon, because records on the shared one change while
		// earlier tests' builds are released (inUse, lastUsedAt).
		d := startDaemon(t)
		fillCache(t, d, cacheProbeContext(t))
		for _, filter := range []string{`description~=".*COPY.*"`, "description~=local", "type==regular"} {
			t.Run(filter, func(t *testing.T) {
				ours, ref := runBoth(t, d, runOptions{Args: []string{"du", "--filter", filter, "--format", "{{json .}}"}})
				requireSameResult(t, ours, ref)
				require.Equal(t, ref.Stderr, ours.Stderr)
			})
		}
	})

	// https://github.com/docker/desktop-feedback/issues/262
	t.Run("context of ten thousand files", func(t *testing.T) {
		ctx := t.TempDir()
		for d := 0; d < 100; d++ {
			dir := filepath.Join(ctx, fmt.Sprintf("d%03d", d))
			require.NoError(t, os.Mkdir(dir, 0o755))
			for f := 0; f < 100; f++ {
				require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), []byte(fmt.Sprint(d, f)), 0o644))
			}
		}
		require.NoError(t, os.Symlink("d000/f000", filepath.Join(ctx, "link")))
		require.NoError(t, os.Symlink("/nonexistent", filepath.Join(ctx, "dangling")))
		require.NoError(t, os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM scratch\nCOPY . /\n"), 0o644))
		compareLocalOutput(t, runOptions{}, dockerfileArgs(ctx))
	})

	// https://github.com/containerd/nerdctl/issues/206
	t.Run("relative context from other cwd", func(t *testing.T) {
		ctx := buildContext(t)
		args := []string{"build", "--progress=plain", "--frontend=dockerfile.v0",
			"--local", "context=.", "--local", "dockerfile=."}
		compareLocalOutput(t, runOptions{Dir: ctx}, args)
	})

	// https://github.com/containerd/nerdctl/pull/1146
	t.Run("tar to stdout read by head", func(t *testing.T) {
		ctx := buildContext(t)
		args := sharedArgs(dockerfileArgs(ctx, "--progress=quiet", "--output", "type=tar"))
		ours := runShell(t, oursBin, args, `| head -c1 >/dev/null`)
		ref := runShell(t, referenceBin, args, `| head -c1 >/dev/null`)
		require.Equal(t, ref.ExitCode, ours.ExitCode, "ours stderr: %s\nreference stderr: %s", ours.Stderr, ref.Stderr)
	})

	// https://github.com/containerd/nerdctl/pull/1146
	t.Run("tar to closed stdout", func(t *testing.T) {
		ctx := buildContext(t)
		args := sharedArgs(dockerfileArgs(ctx, "--progress=quiet", "--output", "type=tar"))
		ours := runShell(t, oursBin, args, `>&-`)
		ref := runShell(t, referenceBin, args, `>&-`)
		require.Equal(t, ref.ExitCode, ours.ExitCode, "ours stderr: %s\nreference stderr: %s", ours.Stderr, ref.Stderr)
		require.Equal(t, lastLine(ref.Stderr), lastLine(ours.Stderr))
	})

	// https://github.com/moby/buildkit/pull/49
	t.Run("table output to full stdout", func(t *testing.T) {
		// A private daemon with settled records, because the records on the
		// shared one change between the two runs while earlier tests' builds
		// are released and get their traces.
		d := startDaemon(t)
		fillCache(t, d, cacheProbeContext(t))
		waitForTraces(t, d)
		for _, args := range [][]string{{"du"}, {"du", "-v"}, {"debug", "workers"}, {"debug", "workers", "-v"}, {"du", "--format", "json"}, {"debug", "histories"}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				args := append([]string{"--addr", d.addr}, args...)
				ours := runToFullStdout(t, oursBin, args)
				ref := runToFullStdout(t, referenceBin, args)
				require.Equal(t, ref.ExitCode, ours.ExitCode, "ours stderr: %s\nreference stderr: %s", ours.Stderr, ref.Stderr)
				require.Equal(t, ref.Stderr, ours.Stderr)
			})
		}
	})

	// https://github.com/moby/buildkit/issues/5583
	t.Run("prune table to full stdout", func(t *testing.T) {
		d := startDaemon(t)
		ctx := cacheProbeContext(t)
		for name, bin := range map[string]string{"ours": oursBin, "reference": referenceBin} {
			fillCache(t, d, ctx)
			res := runToFullStdout(t, bin, []string{"--addr", d.addr, "prune", "--all"})
			t.Logf("%s: exit code %d, stderr %q", name, res.ExitCode, res.Stderr)
			require.Equal(t, 0, res.ExitCode, "%s prune to /dev/full", name)

			// fillCache left build records, which prune-histories deletes
			// while its table goes to /dev/full.
			res = runToFullStdout(t, bin, []string{"--addr", d.addr, "prune-histories"})
			t.Logf("%s: exit code %d, stderr %q", name, res.ExitCode, res.Stderr)
			require.Equal(t, 0, res.ExitCode, "%s prune-histories to /dev/full", name)
		}
	})

	// https://github.com/earthly/earthly/issues/2942
	t.Run("refused tcp address explained", func(t *testing.T) {
		addr := closedLoopbackAddress(t)
		for _, a := range []string{"tcp://" + addr, "http://" + addr + "/run/buildkit/buildkitd.sock"} {
			t.Run(a, func(t *testing.T) {
				args := []string{"--addr", a, "--timeout", "5", "debug", "workers"}
				ours := run(oursBin, runOptions{Args: args})
				ref := run(referenceBin, runOptions{Args: args})
				requireSameResult(t, ours, ref)
				require.Equal(t, firstLine(ref.Stderr), firstLine(ours.Stderr))
				// The reference reports a refused connection, and the lines
				// that ours adds must not contradict it.
				require.NotContains(t, ours.Stderr, "not a BuildKit daemon")
			})
		}
	})

	// https://github.com/moby/buildkit/issues/3226
	t.Run("TRACEPARENT in debug logs", func(t *testing.T) {
		const traceID = "0af7651916cd43dd8448eb211c80319c"
		def := marshalLLB(t, llb.Scratch().File(llb.Mkfile("/f", 0o644, []byte("x"))))
		opts := runOptions{
			Args:  sharedArgs([]string{"--debug", "build", "--progress=quiet", "--output", "type=tar,dest=/dev/null"}),
			Env:   []string{"TRACEPARENT=00-" + traceID + "-b7ad6b7169203331-01"},
			Stdin: bytes.NewReader(def),
		}
		ref := run(referenceBin, opts)
		opts.Stdin = bytes.NewReader(def)
		ours := run(oursBin, opts)
		requireSameResult(t, ours, ref)
		require.Contains(t, ref.Stderr, "traceID="+traceID)
		require.Equal(t, traceFields(ref.Stderr), traceFields(ours.Stderr))
	})

	// https://github.com/moby/buildkit/issues/3226
	t.Run("trace ids on warnings", func(t *testing.T) {
		// Without --debug or TRACEPARENT, the reference starts a trace per
		// command and its warnings carry that trace's ids.
		ctx := buildContext(t)
		ours, ref := runBoth(t, shared, runOptions{Args: dockerfileArgs(ctx, "--progress=quiet", "--import-cache", "type=local,src=/nonexistent-cache")})
		requireSameResult(t, ours, ref)
		require.Contains(t, ref.Stderr, "traceID=")
		require.Len(t, traceFields(ours.Stderr), len(traceFields(ref.Stderr)))
	})

	// https://github.com/moby/buildkit/pull/615
	t.Run("local cache export and import", func(t *testing.T) {
		ctx := buildContext(t)
		oursCache, refCache := csvSafeTempDir(t), csvSafeTempDir(t)
		ours := run(oursBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "--export-cache", "type=local,mode=max,dest="+oursCache))})
		ref := run(referenceBin, runOptions{Args: sharedArgs(dockerfileArgs(ctx, "--export-cache", "type=local,mode=max,dest="+refCache))})
		requireSameResult(t, ours, ref)
		require.Equal(t, 0, ref.ExitCode, ref.Stderr)
		require.Equal(t, fileNames(t, refCache), fileNames(t, oursCache))
		refIndex, err := os.ReadFile(filepath.Join(refCache, "index.json"))
		require.NoError(t, err)
		oursIndex, err := os.ReadFile(filepath.Join(oursCache, "index.json"))
		require.NoError(t, err)
		require.JSONEq(t, string(refIndex), string(oursIndex))

		for _, importArg := range []string{"type=local,src=" + refCache, "type=local,src=/nonexistent-cache"} {
			t.Run(importArg, func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: dockerfileArgs(ctx, "--progress=quiet", "--import-cache", importArg)})
				requireSameResult(t, ours, ref)
				require.Equal(t, 0, ref.ExitCode, ref.Stderr)
			})
		}
	})

	// https://github.com/moby/buildkit/pull/1284
	t.Run("missing tls file not blamed on daemon", func(t *testing.T) {
		for _, flags := range [][]string{{"--tlscacert", "/nonexistent/ca.pem"}, {"--tlscert", "/nonexistent/cert.pem", "--tlskey", "/nonexistent/key.pem"}} {
			t.Run(strings.Join(flags, " "), func(t *testing.T) {
				ours, ref := runBoth(t, shared, runOptions{Args: append(flags, "debug", "workers")})
				requireSameResult(t, ours, ref)
				require.Equal(t, firstLine(ref.Stderr), firstLine(ours.Stderr))
				require.NotContains(t, ours.Stderr, "could not reach buildkitd")
			})
		}
	})

	// https://github.com/docker/buildx/pull/2263
	t.Run("unwritable ref file is silent", func(t *testing.T) {
		ctx := buildContext(t)
		args := sharedArgs(dockerfileArgs(ctx, "--progress=quiet", "--ref-file", "/nonexistent-dir/ref"))
		ours := run(oursBin, runOptions{Args: args})
		ref := run(referenceBin, runOptions{Args: args})
		requireSameResult(t, ours, ref)
		require.Equal(t, ref.Stderr, ours.Stderr)
	})
}

func failingRunContext(t *testing.T) string {
	t.Helper()
	return writeContext(t, map[string]string{
		"busybox":    "@busybox",
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"false\"]\n",
	})
}

// secretContext is a build whose RUN step copies secret FOO to /out. The
// file FOO in the context is a source for src=FOO.
func secretContext(t *testing.T) string {
	t.Helper()
	return writeContext(t, map[string]string{
		"busybox": "@busybox",
		"FOO":     "from-file",
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n" +
			`RUN --mount=type=secret,id=FOO,required=true ["/bin/busybox","sh","-c","/bin/busybox cat /run/secrets/FOO > /out"]` + "\n",
	})
}

// compareSecretBuild builds ctx from inside ctx with secretArgs and env
// through both binaries, requires the same result and the same /out, and
// returns the reference's /out.
func compareSecretBuild(t *testing.T, ctx string, secretArgs []string, env ...string) string {
	t.Helper()
	oursDir, refDir := csvSafeTempDir(t), csvSafeTempDir(t)
	base := []string{"build", "--progress=quiet", "--no-cache", "--frontend=dockerfile.v0",
		"--local", "context=.", "--local", "dockerfile=."}
	oursArgs := sharedArgs(append(append(base, secretArgs...), "--output", "type=local,dest="+oursDir))
	refArgs := sharedArgs(append(append(base, secretArgs...), "--output", "type=local,dest="+refDir))
	ours := run(oursBin, runOptions{Args: oursArgs, Env: env, Dir: ctx})
	ref := run(referenceBin, runOptions{Args: refArgs, Env: env, Dir: ctx})
	requireSameResult(t, ours, ref)
	require.Equal(t, 0, ref.ExitCode, ref.Stderr)
	refOut, err := os.ReadFile(filepath.Join(refDir, "out"))
	require.NoError(t, err)
	oursOut, err := os.ReadFile(filepath.Join(oursDir, "out"))
	require.NoError(t, err)
	require.Equal(t, string(refOut), string(oursOut))
	return string(refOut)
}

// csvSafeTempDir creates a folder whose path, unlike t.TempDir's, contains no
// subtest name, so it may appear inside an --output CSV value.
func csvSafeTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "reports-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// compareLocalOutput runs args plus a local output through both binaries
// and requires the same result and the same tree.
func compareLocalOutput(t *testing.T, opts runOptions, args []string) {
	t.Helper()
	oursDir, refDir := t.TempDir(), t.TempDir()
	oursOpts, refOpts := opts, opts
	oursOpts.Args = sharedArgs(append(append([]string{}, args...), "--output", "type=local,dest="+oursDir))
	refOpts.Args = sharedArgs(append(append([]string{}, args...), "--output", "type=local,dest="+refDir))
	ours := run(oursBin, oursOpts)
	ref := run(referenceBin, refOpts)
	requireSameResult(t, ours, ref)
	require.Equal(t, 0, ref.ExitCode, ref.Stderr)
	require.Equal(t, treeListing(t, refDir), treeListing(t, oursDir))
}

func marshalLLB(t *testing.T, st llb.State) []byte {
	t.Helper()
	def, err := st.Marshal(context.Background())
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, llb.WriteTo(def, &buf))
	return buf.Bytes()
}

// fileNames lists the paths of the regular files under root, sorted.
func fileNames(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		names = append(names, rel)
		return err
	})
	require.NoError(t, err)
	sort.Strings(names)
	return names
}

// describeFile returns "missing" or the file's mode and size.
func describeFile(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	return fmt.Sprintf("%v %d", fi.Mode(), fi.Size())
}

func metadataWithoutRef(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var md map[string]any
	decodeJSON(t, string(data), &md)
	delete(md, "buildx.build.ref")
	return md
}

// progressShape reduces progress output to what does not depend on timing:
// the error line for an invalid mode, otherwise the kind of each line.
func progressShape(stderr string) []string {
	if strings.HasPrefix(stderr, "error:") {
		return []string{stderr}
	}
	kinds := map[string]bool{}
	for _, line := range strings.Split(stderr, "\n") {
		switch {
		case line == "":
		case json.Valid([]byte(line)):
			kinds["json"] = true
		case strings.HasPrefix(line, "#"):
			kinds["plain"] = true
		default:
			kinds["other"] = true
		}
	}
	var out []string
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// traceFields lists the distinct traceID values in logrus text lines.
func traceFields(stderr string) []string {
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`traceID=([0-9a-f]+)`).FindAllStringSubmatch(stderr, -1) {
		seen[m[1]] = true
	}
	var out []string
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// closedLoopbackAddress returns a loopback host:port where nothing listens.
func closedLoopbackAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// runShell runs bin with args under bash followed by redirect, a shell
// fragment such as "| head -c1" or ">&-", and returns buildctl's own exit
// code and stderr.
func runShell(t *testing.T, bin string, args []string, redirect string) result {
	t.Helper()
	errFile := filepath.Join(t.TempDir(), "stderr")
	script := fmt.Sprintf(`"$0" "$@" 2>%q %s; echo "${PIPESTATUS[0]}" >&3`, errFile, redirect)
	return runScript(t, bin, args, script, errFile)
}

// runToFullStdout runs bin with stdout on /dev/full.
func runToFullStdout(t *testing.T, bin string, args []string) result {
	t.Helper()
	errFile := filepath.Join(t.TempDir(), "stderr")
	script := fmt.Sprintf(`"$0" "$@" 2>%q >/dev/full; echo "$?" >&3`, errFile)
	return runScript(t, bin, args, script, errFile)
}

// runScript runs a bash script that reports buildctl's exit code on fd 3.
func runScript(t *testing.T, bin string, args []string, script, errFile string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{"-c", script, bin}, args...)...)
	cmd.Env = cleanEnv()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Run()
	w.Close()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		require.NoError(t, err)
	}
	var status bytes.Buffer
	_, _ = status.ReadFrom(r)
	var code int
	_, err = fmt.Sscan(status.String(), &code)
	require.NoError(t, err, "exit status %q", status.String())
	stderr, _ := os.ReadFile(errFile)
	return result{Stderr: string(stderr), ExitCode: code}
}
