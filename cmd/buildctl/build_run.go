package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/containerd/console"
	"github.com/containerd/continuity"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/sirupsen/logrus"

	"github.com/buildhost/buildctl/internal/buildopt"
	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/progress"
)

// runBuild runs one build in the order of BuildKit's buildctl v0.34.2, so
// that the first invalid flag value reported is the same one.
func runBuild(ctx context.Context, globals *globalOptions, o *buildOptions) error {
	start := time.Now()
	c, err := connect.New(ctx, globals.conn)
	if err != nil {
		return err
	}

	files, err := openReportFiles(o)
	if err != nil {
		return err
	}
	defer files.close()

	solveOpt, err := newSolveOpt(o)
	if err != nil {
		return err
	}

	var def *llb.Definition
	if o.frontend == "" {
		if def, err = readStdinDefinition(o.noCache); err != nil {
			return err
		}
	} else if o.noCache {
		solveOpt.FrontendAttrs["no-cache"] = ""
	}

	if o.refFile != "" {
		// The ref is written even when the build fails, so that a caller
		// can look the build up in the daemon's history. BuildKit's buildctl
		// ignores a failed write, so it is only logged at debug level.
		defer func() {
			if err := continuity.AtomicWriteFile(o.refFile, []byte(solveOpt.Ref), 0o666); err != nil {
				logrus.WithError(err).WithField("path", o.refFile).Debug("failed to write build ref file")
			}
		}()
	}

	mode := progress.ResolveMode(o.progress, os.Getenv(progress.EnvMode))
	pw, err := progress.NewDisplay(os.Stderr, mode)
	if err != nil {
		return err
	}

	return solve(ctx, c, solveRequest{
		opt:          solveOpt,
		def:          def,
		display:      pw,
		files:        files,
		metadataFile: o.metadataFile,
		start:        start,
		stdout:       os.Stdout,
	})
}

// newSolveOpt parses every flag that feeds client.SolveOpt.
func newSolveOpt(o *buildOptions) (client.SolveOpt, error) {
	attachables, err := sessionAttachables(o)
	if err != nil {
		return client.SolveOpt{}, err
	}
	if err := buildopt.ValidateAllow(o.allow); err != nil {
		return client.SolveOpt{}, err
	}

	stdout := buildopt.Stdout{Writer: os.Stdout, IsTerminal: isTerminal(os.Stdout)}
	exports, err := buildopt.ParseOutput(o.outputs, stdout)
	if err != nil {
		return client.SolveOpt{}, err
	}
	cacheExports, err := buildopt.ParseExportCache(o.exportCaches, os.LookupEnv)
	if err != nil {
		return client.SolveOpt{}, err
	}
	cacheImports, err := buildopt.ParseImportCache(o.importCaches, os.LookupEnv)
	if err != nil {
		return client.SolveOpt{}, err
	}
	policy, err := buildopt.ReadSourcePolicy(o.sourcePolicyFile)
	if err != nil {
		return client.SolveOpt{}, err
	}

	opt := client.SolveOpt{
		Exports:             exports,
		Frontend:            o.frontend,
		CacheExports:        cacheExports,
		CacheImports:        cacheImports,
		Session:             attachables,
		AllowedEntitlements: o.allow,
		SourcePolicy:        policy,
		ProxyNetwork:        o.proxyNetwork,
		Ref:                 identity.NewID(),
	}
	if opt.FrontendAttrs, err = buildopt.ParseOpt(o.frontendOpts, os.LookupEnv); err != nil {
		return client.SolveOpt{}, fmt.Errorf("invalid opt: %w", err)
	}
	if opt.LocalMounts, err = buildopt.ParseLocal(o.locals); err != nil {
		return client.SolveOpt{}, fmt.Errorf("invalid local: %w", err)
	}
	if opt.OCIStores, err = buildopt.ParseOCILayout(o.ociLayouts); err != nil {
		return client.SolveOpt{}, fmt.Errorf("invalid oci-layout: %w", err)
	}
	return opt, nil
}

// sessionAttachables returns the session services the daemon may call back:
// registry credentials from the Docker config file, SSH forwarding and secrets.
func sessionAttachables(o *buildOptions) ([]session.Attachable, error) {
	dockerConfig := config.LoadDefaultConfigFile(os.Stderr)
	tlsConfigs, err := buildopt.ParseRegistryAuthTLSContext(o.registryAuthTLSContext)
	if err != nil {
		return nil, err
	}
	attachables := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
		TLSConfigs:         tlsConfigs,
	})}

	if len(o.ssh) > 0 {
		configs, err := buildopt.ParseSSH(o.ssh)
		if err != nil {
			return nil, err
		}
		agent, err := sshprovider.NewSSHAgentProvider(configs)
		if err != nil {
			return nil, err
		}
		attachables = append(attachables, agent)
	}

	if len(o.secrets) > 0 {
		secrets, err := buildopt.ParseSecret(o.secrets)
		if err != nil {
			return nil, err
		}
		attachables = append(attachables, secrets)
	}
	return attachables, nil
}

// readStdinDefinition reads the LLB definition of a build without --frontend.
// Any character device on stdin is rejected, /dev/null included, as BuildKit's
// buildctl does, because no definition can come from it.
func readStdinDefinition(noCache bool) (*llb.Definition, error) {
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return nil, errors.New("please specify --frontend or pipe LLB definition to stdin")
	}
	return buildopt.ReadDefinition(os.Stdin, noCache)
}

func isTerminal(f *os.File) bool {
	_, err := console.ConsoleFromFile(f)
	return err == nil
}

// reportFiles are the optional --trace and --debug-json-cache-metrics outputs.
type reportFiles struct {
	trace        *os.File
	cacheMetrics *os.File
}

func openReportFiles(o *buildOptions) (*reportFiles, error) {
	files := &reportFiles{}
	if o.trace != "" {
		f, err := os.OpenFile(o.trace, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		files.trace = f
		logrus.Infof("tracing logs to %s", f.Name())
	}

	switch o.cacheMetrics {
	case "":
	case "stdout":
		files.cacheMetrics = os.Stdout
	case "stderr":
		files.cacheMetrics = os.Stderr
	default:
		f, err := os.OpenFile(o.cacheMetrics, os.O_TRUNC|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			files.close()
			return nil, err
		}
		files.cacheMetrics = f
	}
	return files, nil
}

func (f *reportFiles) close() {
	if f.trace != nil {
		f.trace.Close()
	}
	if f.cacheMetrics != nil && f.cacheMetrics != os.Stdout && f.cacheMetrics != os.Stderr {
		f.cacheMetrics.Close()
	}
}

// printSubrequestResult prints the result of a frontend subrequest, such as
// --opt requestid=frontend.outline: result.txt as it is, else every result.*
// entry as its key and value on two lines.
func printSubrequestResult(w io.Writer, metadata map[string][]byte) error {
	if txt, ok := metadata["result.txt"]; ok {
		_, err := w.Write(txt)
		return err
	}
	for k, v := range metadata {
		if !strings.HasPrefix(k, "result.") {
			continue
		}
		if _, err := fmt.Fprintf(w, "%s\n%s\n", k, v); err != nil {
			return err
		}
	}
	return nil
}
