package integration

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// secretsDockerfile mounts a file secret and an env secret in one RUN step
// and copies what the step saw into the exported tree, which shows that the
// values reached the build. The step prints nothing derived from them.
const secretsDockerfile = `FROM scratch AS run
COPY busybox /bin/busybox
RUN --mount=type=secret,id=s --mount=type=secret,id=e,env=E_VALUE ["/bin/busybox","sh","-c","/bin/busybox cp /run/secrets/s /s.txt && echo -n \"$E_VALUE\" > /e.txt && echo used-secrets"]
FROM scratch
COPY --from=run /s.txt /e.txt /
`

// randomValue returns a string that appears nowhere unless a secret leaks.
func randomValue(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return prefix + hex.EncodeToString(b)
}

// shellQuote quotes args for the command line that script(1) runs.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// requireNoSecret fails when any of the values occurs in text, which is named
// by where in the failure message.
func requireNoSecret(t *testing.T, where, text string, values ...string) {
	t.Helper()
	for _, v := range values {
		if i := strings.Index(text, v); i >= 0 {
			start := max(0, strings.LastIndex(text[:i], "\n")+1)
			end := i + len(v)
			if j := strings.Index(text[end:], "\n"); j >= 0 {
				end += j
			}
			t.Fatalf("secret value %q leaked into %s in this line:\n%s", v, where, text[start:end])
		}
	}
}

// TestSecretsNotLeaked builds with a file secret and an env secret in every
// progress mode, with --debug, --trace, --metadata-file and
// --debug-json-cache-metrics, and searches every output for the values. The
// oci exporter is there so that the metadata file has content.
func TestSecretsNotLeaked(t *testing.T) {
	requireDaemon(t)
	fileSecret := randomValue(t, "file-secret-")
	envSecret := randomValue(t, "env-secret-")
	ctx := writeContext(t, map[string]string{"Dockerfile": secretsDockerfile, "busybox": "@busybox"})
	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(fileSecret), 0o600))

	for _, mode := range []string{"plain", "rawjson", "quiet", "tty"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			reports := map[string]string{
				"--trace":                    filepath.Join(dir, "trace.json"),
				"--metadata-file":            filepath.Join(dir, "metadata.json"),
				"--debug-json-cache-metrics": filepath.Join(dir, "cache-metrics.json"),
			}
			args := []string{"--debug", "--addr", shared.addr, "build", "--no-cache",
				"--frontend=dockerfile.v0", "--local", "context=" + ctx, "--local", "dockerfile=" + ctx,
				"--secret", "id=s,src=" + secretFile, "--secret", "id=e,env=SECRET_FOR_TEST",
				"-o", "type=local,dest=" + out, "-o", "type=oci,dest=" + filepath.Join(dir, "image.tar")}
			for flag, path := range reports {
				args = append(args, flag, path)
			}
			env := []string{"SECRET_FOR_TEST=" + envSecret, "DOCKER_CONFIG=" + filepath.Join(dir, "docker")}

			var res result
			if mode == "tty" {
				// script(1) gives buildctl a terminal, so the tty display
				// is used, and copies what it drew to the typescript file.
				typescript := filepath.Join(dir, "typescript")
				line := shellQuote(append([]string{oursBin}, append(args, "--progress=tty")...))
				res = run("script", runOptions{Args: []string{"-q", "-e", "-c", line, typescript}, Env: env})
				data, err := os.ReadFile(typescript)
				require.NoError(t, err)
				require.Contains(t, string(data), "\x1b[", "no terminal control sequences: the tty display did not run")
				res.Stderr += string(data)
			} else {
				res = run(oursBin, runOptions{Args: append(args, "--progress="+mode), Env: env})
			}
			require.Equal(t, 0, res.ExitCode, res.Stderr)

			got, err := os.ReadFile(filepath.Join(out, "s.txt"))
			require.NoError(t, err)
			require.Equal(t, fileSecret, string(got), "file secret did not reach the RUN step")
			got, err = os.ReadFile(filepath.Join(out, "e.txt"))
			require.NoError(t, err)
			require.Equal(t, envSecret, string(got), "env secret did not reach the RUN step")

			requireNoSecret(t, "stdout", res.Stdout, fileSecret, envSecret)
			requireNoSecret(t, "stderr", res.Stderr, fileSecret, envSecret)
			for flag, path := range reports {
				data, err := os.ReadFile(path)
				require.NoError(t, err, flag)
				require.NotEmpty(t, data, flag)
				requireNoSecret(t, flag+" file", string(data), fileSecret, envSecret)
			}
		})
	}
}

// authRegistry is a loopback HTTP server that responds to every request with 401
// and a Basic challenge, and records the Authorization headers it receives.
type authRegistry struct {
	addr string
	mu   sync.Mutex
	auth []string
}

func startAuthRegistry(t *testing.T) *authRegistry {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &authRegistry{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if h := req.Header.Get("Authorization"); h != "" {
			r.mu.Lock()
			r.auth = append(r.auth, h)
			r.mu.Unlock()
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *authRegistry) authorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...)
}

// TestRegistryCredentialsNotLogged pulls from a loopback registry that
// requires credentials, with a Docker config that has them and a
// --registry-auth-tlscontext entry, and checks that --debug prints neither
// the password, its base64 form nor the TLS key path, in ours and the
// reference alike.
func TestRegistryCredentialsNotLogged(t *testing.T) {
	requireDaemon(t)
	reg := startAuthRegistry(t)
	password := randomValue(t, "password-")
	auth := base64.StdEncoding.EncodeToString([]byte("user:" + password))
	dockerConfig := t.TempDir()
	config := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.addr, auth)
	require.NoError(t, os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(config), 0o600))

	keyPath := filepath.Join(t.TempDir(), randomValue(t, "tls-key-"))
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM " + reg.addr + "/img:latest\n"})
	args := dockerfileArgs(ctx, "--registry-auth-tlscontext", "host=example.invalid,cert=/no/cert.pem,key="+keyPath)
	opts := runOptions{Args: append([]string{"--debug"}, args...), Env: []string{"DOCKER_CONFIG=" + dockerConfig}}

	ours, ref := runBoth(t, shared, opts)
	require.Equal(t, ref.ExitCode, ours.ExitCode, "ours:\n%s\nreference:\n%s", ours.Stderr, ref.Stderr)
	require.NotZero(t, ours.ExitCode, ours.Stderr)
	require.Contains(t, reg.authorizations(), "Basic "+auth, "the daemon never sent the credentials, so the test did not exercise them")

	for _, res := range []result{ours, ref} {
		requireNoSecret(t, "stderr", res.Stderr, password, auth)
		requireNoSecret(t, "stdout", res.Stdout, password, auth)
	}
	requireNoSecret(t, "stderr", ours.Stderr, keyPath)
}
